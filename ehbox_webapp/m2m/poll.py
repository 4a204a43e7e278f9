"""The poller: new messages of a folder into a directory, each exactly once, resumable.

Per message, in this order: write `<MessageId>/` whole (temporary folder, fsync,
rename: `files.write_message`), record the id in the state file (atomic), and only
then move it to the bin (in batches of up to 100, after the listing is complete:
moving while paging would shift the indexes and skip messages). A crash anywhere
leaves one of: a `.tmp-*` folder (swept, the message fetched again), a complete
folder not yet in the state (recorded, not rewritten), or a recorded message
still in the folder (only moved). The state, not the folders, decides what was
fetched: a downstream process may take the folders away.

Polling interval: eHealth's "Guidelines for using the eHealthBox" are not public
(notes §4: UNKNOWN), so the defaults are ours: every 300 s, never below 60 s,
except in the sandbox (1 s, for demos and tests). Ask eHealth for the real figure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..ehealth.ehealthbox import (
    EhealthboxClient,
    EhealthboxError,
    Message,
    Unauthorized,
    Unavailable,
)
from ..ehealth.etee.errors import EteeError
from ..ehealth.iam import RealmUnavailable
from . import files
from .render import box_warnings
from .state import STATE_FILE, PollError, PollState

DEFAULT_INTERVAL = 300.0
MIN_INTERVAL = 60.0
SANDBOX_MIN_INTERVAL = 1.0
BINS = {"INBOX": "BININBOX", "SENTBOX": "BINSENTBOX"}
MOVE_BATCH = 100


def check_interval(seconds: float, *, sandbox: bool) -> float:
    """The interval, or PollError when it is below the floor for this environment."""
    floor = SANDBOX_MIN_INTERVAL if sandbox else MIN_INTERVAL
    if seconds < floor:
        where = "in the sandbox" if sandbox else "outside the sandbox"
        raise PollError(
            f"--interval {seconds:g} is too short: at least {floor:g} s {where}. eHealth's "
            "guidelines for the eHealthBox are not public, so this tool polls at most once a "
            f"minute against eHealth (default {DEFAULT_INTERVAL:g} s); ask eHealth before "
            "polling more often."
        )
    return seconds


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CycleReport:
    listed: int = 0
    saved: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    not_moved: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    stopped: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_moved

    def line(self, bin_folder: str | None) -> str:
        moved = f", {len(self.moved)} moved to {bin_folder}" if bin_folder else ""
        extra = f", {len(self.recovered)} found on disk" if self.recovered else ""
        failed = f", {len(self.failed)} failed" if self.failed else ""
        unmoved = f", {len(self.not_moved)} not moved" if self.not_moved else ""
        return (
            f"{self.listed} in the folder, {len(self.saved)} new saved{extra}{moved}"
            f"{failed}{unmoved}{' (stopped)' if self.stopped else ''}"
        )


class Poller:
    """Fetches `folder` into `into`; `echo` shows progress, `warn` shows problems."""

    def __init__(
        self,
        client: EhealthboxClient,
        into: Path,
        *,
        client_id: str,
        folder: str = "INBOX",
        keep: bool = False,
        echo: Callable[[str], None] = print,
        warn: Callable[[str], None] = print,
        stop: threading.Event | None = None,
        on_unauthorized: Callable[[], None] | None = None,
        save_encrypted: Callable[[Message, str, Path], Path] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        explain: Callable[[Exception], str] = str,
    ):
        """`save_encrypted(message, folder, into)` opens and saves an end-to-end encrypted
        message (raising when it cannot be opened); without it such a message is skipped,
        never saved as sealed bytes someone would take for the content.
        `on_progress(number, total)` is called before each new message is fetched;
        `explain(error)` words an outage (the CLI adds the URL's setting)."""
        if folder not in BINS:
            raise PollError(f"poll reads {' or '.join(BINS)}, not {folder}")
        self.client, self.into, self.folder, self.keep = client, Path(into), folder, keep
        self.client_id = client_id
        self.echo, self.warn = echo, warn
        self.stop = stop or threading.Event()
        self.on_unauthorized = on_unauthorized
        self.save_encrypted = save_encrypted
        self.on_progress = on_progress
        self.explain = explain
        self.into.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.state = PollState.load(self.into / STATE_FILE, client_id, folder)

    @property
    def bin_folder(self) -> str | None:
        return None if self.keep else BINS[self.folder]

    def poll_once(self) -> CycleReport:
        for name in files.sweep_temporary(self.into):
            self.warn(f"discarded an unfinished download: {name}")
        for warning in box_warnings(self.client.box_info()):
            self.warn(warning)
        # The whole listing first (deduplicated across pages), oldest first.
        summaries = list(self.client.iter_messages(self.folder))[::-1]
        report = CycleReport(listed=len(summaries))
        new = [s for s in summaries if s.message_id not in self.state.messages]
        pending = [s.message_id for s in summaries if s.message_id in self.state.messages]
        for number, summary in enumerate(new, start=1):
            if self.stop.is_set():
                report.stopped = True
                break
            if self.on_progress is not None:
                self.on_progress(number, len(new))
            if self._fetch(summary.message_id, f"[{number}/{len(new)}]", report):
                pending.append(summary.message_id)
            if len(pending) >= MOVE_BATCH:
                self._move(pending, report)
                pending = []
        self._move(pending, report)
        now = _now()
        self.state.last_poll = now.isoformat()
        self.state.forget_old({s.message_id for s in summaries}, now)
        self.state.save()
        return report

    def _fetch(self, message_id: str, progress: str, report: CycleReport) -> bool:
        """Save one message and record it; False when it could not be saved."""
        try:
            directory = self.into / files.message_dir_name(message_id)
        except ValueError as exc:
            self.warn(f"{progress} skipped: {exc}")
            report.failed.append(message_id)
            return False
        if files.is_complete(directory, message_id):
            # Written before a crash that came before the state was saved: do not rewrite.
            self.state.record(message_id, directory.name, _now(), recovered=True)
            self.state.save()
            report.recovered.append(message_id)
            self.echo(f"{progress} {message_id} already on disk")
            return True
        try:
            message = self.client.get_message(message_id, self.folder)
            if message.content_specification.is_encrypted:
                if self.save_encrypted is None:
                    raise EteeError("it is end-to-end encrypted and no key is configured")
                self.save_encrypted(message, self.folder, self.into)
            else:
                files.write_message(self.client, message, self.folder, self.into, _now())
        except (Unauthorized, Unavailable):
            raise  # the whole poll stops; nothing of this message was kept
        except (EhealthboxError, EteeError) as exc:
            # Left in the folder (not moved to the bin): it is retried at the next poll.
            self.warn(f"{progress} {message_id} not saved: {exc}")
            report.failed.append(message_id)
            return False
        except FileExistsError:
            self.warn(
                f"{progress} {message_id} not saved: {directory} exists and is not a "
                "complete message folder; move it away"
            )
            report.failed.append(message_id)
            return False
        self.state.record(message_id, directory.name, _now())
        self.state.save()  # recorded BEFORE the move: a crash now means "only move it"
        report.saved.append(message_id)
        sender = message.sender.display_name
        title = message.document.title if message.document else ""
        self.echo(f"{progress} saved {message_id}  {sender} — {title}")
        return True

    def _move(self, message_ids: list[str], report: CycleReport) -> None:
        if self.keep or not message_ids:
            return
        target = BINS[self.folder]
        try:
            not_moved = set(self.client.move(message_ids, self.folder, target))
        except Unauthorized:
            raise
        except EhealthboxError as exc:
            self.warn(
                f"could not move {len(message_ids)} message(s) to {target} ({exc}); "
                "they are saved and will be moved on the next poll"
            )
            report.not_moved += message_ids
            return
        moved = [m for m in message_ids if m not in not_moved]
        self.state.mark_moved(moved, _now())
        self.state.save()
        report.moved += moved
        report.not_moved += sorted(not_moved)
        for message_id in sorted(not_moved):
            self.warn(f"{message_id} was not moved to {target}; retried on the next poll")

    def run(self, interval: float, *, once: bool = False) -> CycleReport:
        """Poll until `stop` is set (or once). Outages and an expired token are retried at the
        next interval; the last cycle's report is returned."""
        unauthorized = 0
        while True:
            try:
                report = self.poll_once()
                unauthorized = 0
            except Unauthorized:
                unauthorized += 1
                if self.on_unauthorized is not None:
                    self.on_unauthorized()
                if once or unauthorized > 1:
                    raise
                self.warn("the eHealthBox refused the token; a new one is fetched next poll")
                report = CycleReport(failed=["*"])
            except (Unavailable, RealmUnavailable) as exc:
                if once:
                    raise
                self.warn(f"poll failed: {self.explain(exc)} (retrying in {interval:g} s)")
                report = CycleReport(failed=["*"])
            else:
                self.echo(f"{_now():%Y-%m-%d %H:%M:%S} {report.line(self.bin_folder)}")
            if once or self.stop.is_set() or self._sleep(interval):
                return report

    def _sleep(self, seconds: float) -> bool:
        """Wait `seconds`; True as soon as `stop` is set.

        Short sleeps and `is_set()` rather than `stop.wait()`: a signal handler that sets
        `stop` in this same thread would deadlock on the lock `wait()` holds.
        """
        deadline = time.monotonic() + seconds
        while not self.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, 0.2))
        return True
