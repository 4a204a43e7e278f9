"""The poll state: `.ehbox-poll.json` and the directory lock.

The state records which messages were fetched into the directory (and when they
were moved to the bin). It is bound to one client id and one folder: message ids
are per box. Every save is atomic (temporary file, fsync, rename, directory fsync),
so a crash leaves the previous or the new state, never a torn one.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .files import fsync_dir

STATE_FILE = ".ehbox-poll.json"
LOCK_FILE = ".ehbox-poll.lock"
# The platform deletes every message a year after publication (notes §3.5): older records
# can no longer match a listed message.
FORGET_AFTER = timedelta(days=400)


class PollError(Exception):
    """The poll cannot run as asked (directory, state, lock); the message says why."""


@dataclass
class PollState:
    """`.ehbox-poll.json`: which messages were fetched into the directory, and when."""

    path: Path
    client_id: str
    folder: str
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_poll: str | None = None

    @classmethod
    def load(cls, path: Path, client_id: str, folder: str) -> PollState:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path, client_id, folder)
        except (OSError, ValueError) as exc:
            raise PollError(f"cannot read the poll state {path}: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("messages"), dict):
            raise PollError(f"{path} is not a poll state file")
        if (data.get("clientId"), data.get("folder")) != (client_id, folder):
            raise PollError(
                f"{path.parent} holds messages of {data.get('clientId')} "
                f"{data.get('folder')}, not {client_id} {folder}: use another directory"
            )
        return cls(path, client_id, folder, data["messages"], data.get("lastPoll"))

    def save(self) -> None:
        """Write atomically: a temporary file, fsynced, renamed over the old one."""
        data = {
            "version": 1,
            "clientId": self.client_id,
            "folder": self.folder,
            "lastPoll": self.last_poll,
            "messages": self.messages,
        }
        tmp = self.path.with_name(f"{self.path.name}.{secrets.token_hex(4)}.tmp")
        try:
            with open(tmp, "x", encoding="utf-8") as out:
                json.dump(data, out, indent=1, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_dir(self.path.parent)

    def record(
        self, message_id: str, directory: str, when: datetime, recovered: bool = False
    ) -> None:
        entry: dict[str, Any] = {"dir": directory, "savedAt": when.isoformat(), "movedAt": None}
        if recovered:
            entry["recovered"] = True
        self.messages[message_id] = entry

    def mark_moved(self, message_ids: list[str], when: datetime) -> None:
        for message_id in message_ids:
            self.messages[message_id]["movedAt"] = when.isoformat()

    def forget_old(self, listed: set[str], now: datetime) -> None:
        limit = (now - FORGET_AFTER).isoformat()
        self.messages = {
            k: v
            for k, v in self.messages.items()
            if k in listed or str(v.get("savedAt", "")) >= limit
        }


@contextlib.contextmanager
def directory_lock(directory: Path) -> Iterator[None]:
    """One poller per directory: two would fetch and move the same messages."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; run one poller per directory
        yield
        return
    with open(directory / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise PollError(f"another poll is already running on {directory}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
