"""The mailbox use cases: send sealed or plain, open a message or a part, move and delete.

`Mailbox` wraps the eHealthBox client of one box, through `ports.EhealthboxPort`, and is
what the pages, `/api/v1` and the CLI hold instead of the client: its methods are the whole
of what they may ask. Everything it reads has its names made safe on the way in (`names`):
a careless or hostile sender's `..\\evil\r\n.html` with a type of `"><script>` lists, opens
and downloads as `evil .html`, `application/octet-stream`. Move and delete go in batches
the platform takes (the client splits them, `MAX_IDS_PER_CALL` at a time).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from ..ehealth.ehealthbox.client import Download
from ..ehealth.ehealthbox.models import (
    MAX_IDS_PER_CALL,
    AcknowledgmentStatus,
    Annex,
    BoxId,
    BoxInfo,
    Document,
    Message,
    MessagePage,
    MessageSummary,
    OutOfOffice,
    SendResult,
)
from ..ehealth.ehealthbox.opening import OpenedPart, open_fields, open_part
from ..ehealth.ehealthbox.sealing import EncryptedSend, client_fetch, unseal_message
from ..ehealth.ehealthbox.unsealing import OpenedMessage
from ..ehealth.etee.keys import NoKeystore
from .names import safe_filename, safe_mime_type
from .outgoing import Outgoing
from .ports import EhealthboxPort


def _safe_part(part: Document | Annex, default: str) -> Document | Annex:
    name, mime_type = (
        safe_filename(part.download_file_name, default),
        safe_mime_type(part.mime_type),
    )
    if (name, mime_type) == (part.download_file_name, part.mime_type):
        return part
    return replace(part, download_file_name=name, mime_type=mime_type)


def safe_message(message: Message) -> Message:
    """The message with every part's name and type made safe."""
    document = _safe_part(message.document, "document") if message.document else None
    annexes = tuple(_safe_part(a, "annex") for a in message.annexes)
    if document is message.document and all(
        a is b for a, b in zip(annexes, message.annexes, strict=True)
    ):
        return message
    return replace(message, document=document, annexes=annexes)


def _safe_summary(summary: MessageSummary) -> MessageSummary:
    if summary.mime_type is None or safe_mime_type(summary.mime_type) == summary.mime_type:
        return summary
    return replace(summary, mime_type=safe_mime_type(summary.mime_type))


def _safe_download(download: Download, default: str) -> Download:
    download.filename = safe_filename(download.filename, default)
    download.mime_type = safe_mime_type(download.mime_type)
    return download


@dataclass(frozen=True)
class Opened:
    """A message to show: its values (opened when it was sealed), and the seal's verdict."""

    message: Message
    sealed: OpenedMessage | None = None


class Mailbox:
    """One box's use cases. `keys` and `directory` are the ETEE services, when set up;
    `sender_box`, when given, says the caller's own box without asking the platform."""

    def __init__(
        self,
        client: EhealthboxPort,
        *,
        keys: Any = None,
        directory: Any = None,
        sender_box: Callable[[], BoxId] | None = None,
    ):
        self.client = client
        self.keys = keys
        self.directory = directory
        self.sender_box = sender_box

    # --- reading: names made safe on the way in ------------------------------------------------
    def box_info(self) -> BoxInfo:
        """The box's address, quota in use and messages waiting in stand-by."""
        return self.client.box_info()

    def list_messages(self, folder: str = "INBOX", start: int = 1, end: int = 100) -> MessagePage:
        """One page of a folder, newest first, each message's MIME type made safe."""
        page = self.client.list_messages(folder, start, end)
        return replace(page, messages=tuple(_safe_summary(m) for m in page.messages))

    def iter_messages(
        self, folder: str = "INBOX", page_size: int = MAX_IDS_PER_CALL
    ) -> Iterator[MessageSummary]:
        """Every message of a folder, each once, its MIME type made safe."""
        return (_safe_summary(m) for m in self.client.iter_messages(folder, page_size))

    def get_message(self, message_id: str, folder: str = "INBOX") -> Message:
        """The full message, every part's name and type made safe (from the INBOX: read)."""
        return safe_message(self.client.get_message(message_id, folder))

    def open_document(self, message_id: str, folder: str = "INBOX") -> Download:
        """The document as stored, streamed, under a safe name and type."""
        return _safe_download(self.client.open_document(message_id, folder), "document")

    def open_annex(self, message_id: str, index: int, folder: str = "INBOX") -> Download:
        """Annex `index` as stored, streamed, under a safe name and type."""
        return _safe_download(self.client.open_annex(message_id, index, folder), "annex")

    def acknowledgments(self, message_id: str) -> list[AcknowledgmentStatus]:
        """Per recipient of a sent message: when it was published, received, read."""
        return self.client.acknowledgments(message_id)

    # --- sealed or not -------------------------------------------------------------------------
    def decryption_keys(self) -> Mapping[str, Any]:
        """The decryption keys of this box; NoKeystore when encryption is not set up here."""
        if self.keys is None:
            raise NoKeystore(self.my_box(), "end-to-end encryption is not set up here")
        return self.keys.decryption_keys_for(self.my_box())

    def my_box(self) -> BoxId:
        """This box's address: `sender_box` when given, else the platform's box info."""
        return self.sender_box() if self.sender_box else self.client.box_info().box_id

    def open(self, message_id: str, folder: str) -> Opened:
        """The message; a sealed one with its small fields opened (parts wait for `part`)."""
        return self.opened(self.get_message(message_id, folder), folder)

    def opened(self, message: Message, folder: str) -> Opened:
        """`message` (as `get_message` gave it) with its small sealed fields opened.

        The one way a sealed message is read, for the pages, `/api/v1` and the CLI.
        NoKeystore when this box has no keys here.
        """
        if not message.content_specification.is_encrypted:
            return Opened(message)
        opened = open_fields(self.client, message, folder, self.decryption_keys())
        return Opened(safe_message(opened.shown()), opened)

    def unsealed(self, message: Message, folder: str) -> OpenedMessage:
        """Every field and part of a sealed message opened at once (to save it whole)."""
        fetch = client_fetch(self.client, message.message_id, folder)  # type: ignore[arg-type]
        return unseal_message(message, fetch, self.decryption_keys())

    def part(self, message: Message, folder: str, index: int | None) -> Download | OpenedPart:
        """The document (`index` None) or an annex: streamed, or fetched whole and opened."""
        if message.content_specification.is_encrypted:
            part = open_part(self.client, message, folder, index, self.decryption_keys())
            return replace(
                part,
                download_file_name=safe_filename(part.download_file_name, "document"),
                mime_type=safe_mime_type(part.mime_type),
            )
        if index is None:
            return self.open_document(message.message_id, folder)
        return self.open_annex(message.message_id, index, folder)

    def send(self, outgoing: Outgoing) -> SendResult:
        """Send sealed for every recipient (and the sender's own box) when asked, else plain."""
        if not outgoing.encrypted:
            return self.client.send(outgoing.message)
        if self.keys is None or self.directory is None:
            raise NoKeystore(self.my_box(), "end-to-end encryption is not set up here")
        sender = self.sender_box() if self.sender_box else None
        sending = EncryptedSend(self.client, self.directory, self.keys, sender_box=sender)
        return sending.send(outgoing.message)

    # --- organising ----------------------------------------------------------------------------
    def move(self, message_ids: Iterable[str], source: str, destination: str) -> list[str]:
        """Move messages to the bin or back, in batches; returns those not moved."""
        return self.client.move(message_ids, source, destination)

    def delete(self, message_ids: Iterable[str], folder: str) -> list[str]:
        """Delete messages for good, in batches; returns those not deleted."""
        return self.client.delete(message_ids, folder)

    # --- out of office -------------------------------------------------------------------------
    def out_of_offices(self) -> list[OutOfOffice]:
        """The box's out-of-office periods."""
        return self.client.out_of_offices()

    def add_out_of_office(
        self, start: date, end: date, substitutes: Iterable[BoxId] = ()
    ) -> OutOfOffice:
        """A new out-of-office period, with the boxes that stand in."""
        return self.client.add_out_of_office(start, end, substitutes)

    def delete_out_of_office(self, ooo_id: str) -> None:
        """End (remove) an out-of-office period."""
        self.client.delete_out_of_office(ooo_id)
