"""End-to-end encryption for the organisation's box, as the CLI shows it: `get`, `poll`.

Sealing a send is the mailbox's (`Mailbox.send`); this module opens what `get` and `poll`
show and save.

The organisation seals with its own keystore (ETEE_KEYSTORE) and opens with the encryption keys
of ETEE_KEYSTORE, ETEE_NEXT_KEYSTORE and ETEE_PREVIOUS_KEYSTORES (`Services.keys`); recipients'
certificates come from the ETEE JWKS service (`Services.directory`, ETEE_JWKS_BASE).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from ..ehealth.ehealthbox import Message
from ..ehealth.ehealthbox.sealing import (
    CLEAR_FIELDS_WARNING,
    OpenedMessage,
)
from ..ehealth.etee.errors import EteeError
from ..mailbox.actions import Mailbox
from . import files

__all__ = [
    "CLEAR_FIELDS_WARNING",
    "open_message",
    "opened_lines",
    "write_opened",
]


def open_message(box: Mailbox, message: Message, folder: str) -> OpenedMessage:
    """Every field of an encrypted message opened with the organisation's keys."""
    return box.unsealed(message, folder)


def opened_lines(opened: OpenedMessage) -> list[str]:
    """Who sealed it, the verdict, and every field that could not be opened."""
    signer = opened.signer
    who = "-"
    if signer is not None:
        who = f"{signer.identifier_type}={signer.identifier}"
        who += f" ({signer.name})" if signer.name else ""
    when = f" at {opened.signing_time:%Y-%m-%d %H:%M} UTC" if opened.signing_time else ""
    lines = [
        f"sealed by:   {who}{when}",
        f"verdict:     {opened.verdict}: {opened.describe()}",
    ]
    lines += [f"  {p.field}: {p.kind}: {p.reason}" for p in opened.problems]
    return lines


class _Opened:
    """A `Download` look-alike over bytes already unsealed (for `files.write_message`)."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def iter_bytes(self) -> Iterator[bytes]:
        yield self._content

    def __enter__(self) -> _Opened:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


class _OpenedParts:
    """What `files.write_message` needs of a client, serving the unsealed parts."""

    def __init__(self, opened: OpenedMessage) -> None:
        self._opened = opened

    def open_document(self, message_id: str, folder: str) -> _Opened:
        return _Opened(self._opened.document or b"")

    def open_annex(self, message_id: str, index: int, folder: str) -> _Opened:
        annex = next(a for a in self._opened.annexes if a.index == index)
        return _Opened(annex.content or b"")


def write_opened(opened: OpenedMessage, folder: str, parent: Path, fetched_at: datetime) -> Path:
    """Write the unsealed message like `files.write_message` (only a fully opened one)."""
    if not opened.ok:
        raise ValueError("a message that cannot be opened is not saved")
    return files.write_message(
        _OpenedParts(opened),  # type: ignore[arg-type]
        opened.shown(),
        folder,
        parent,
        fetched_at,
    )


def poll_saver(box: Mailbox):
    """For `Poller(save_encrypted=...)`: open with the organisation's keys, then save."""

    def save(message: Message, folder: str, into: Path) -> Path:
        opened = open_message(box, message, folder)
        if not opened.ok:
            raise EteeError(opened.describe())
        return write_opened(opened, folder, into, datetime.now(UTC))

    return save
