"""End-to-end encryption for the organisation's box: `send --encrypted`, and `get` that unseals.

The organisation seals with its own keystore (ETEE_KEYSTORE) and opens with the encryption keys
of ETEE_KEYSTORE, ETEE_NEXT_KEYSTORE and ETEE_PREVIOUS_KEYSTORES (`Services.keys`); recipients'
certificates come from the ETEE JWKS service (`Services.directory`, ETEE_JWKS_BASE).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..ehealth.ehealthbox import EhealthboxClient, Message, NewMessage, SendResult
from ..ehealth.ehealthbox.sealing import (
    CLEAR_FIELDS_WARNING,
    EncryptedSend,
    OpenedMessage,
    client_fetch,
    unseal_message,
)
from ..ehealth.etee.errors import EteeError
from ..services import Services
from . import files

__all__ = [
    "CLEAR_FIELDS_WARNING",
    "open_message",
    "opened_json",
    "opened_lines",
    "send",
    "shown_message",
    "write_opened",
]


def send(services: Services, client: EhealthboxClient, message: NewMessage) -> SendResult:
    """Look up every key (recipients', then the organisation's own), seal and send."""
    return EncryptedSend(client, services.directory, services.keys).send(message)  # type: ignore[arg-type]


def open_message(
    services: Services, client: EhealthboxClient, message: Message, folder: str
) -> OpenedMessage:
    """Every field of an encrypted message opened with the organisation's keys."""
    box = client.box_info().box_id
    keys = services.keys.decryption_keys_for(box)  # type: ignore[union-attr]
    return unseal_message(message, client_fetch(client, message.message_id, folder), keys)


def shown_message(opened: OpenedMessage) -> Message:
    """The message with its opened values in place of the seals (None where a field failed)."""
    return opened.shown()


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


def opened_json(opened: OpenedMessage) -> dict[str, Any]:
    signer = opened.signer
    return {
        "verdict": opened.verdict,
        "description": opened.describe(),
        "signer": files.to_jsonable(signer) if signer else None,
        "signingTime": opened.signing_time.isoformat() if opened.signing_time else None,
        "problems": [files.to_jsonable(p) for p in opened.problems],
        "warnings": list(opened.warnings),
    }


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
        shown_message(opened),
        folder,
        parent,
        fetched_at,
    )


def poll_saver(services: Services, client: EhealthboxClient):
    """For `Poller(save_encrypted=...)`: open with the organisation's keys, then save."""

    def save(message: Message, folder: str, into: Path) -> Path:
        opened = open_message(services, client, message, folder)
        if not opened.ok:
            raise EteeError(opened.describe())
        return write_opened(opened, folder, into, datetime.now(UTC))

    return save
