"""Typed eHealthBox domain objects, independent of the wire format.

Names follow the eHealthBox v3 vocabulary (see docs/ehealth-platform.md §3),
in snake_case. `rest.py` converts between these objects and the JSON of the
REST contract; nothing here knows about HTTP or JSON field names.
"""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import string
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import BinaryIO

FOLDERS = ("INBOX", "SENTBOX", "BININBOX", "BINSENTBOX")
CONTENT_TYPES = ("DOCUMENT", "NEWS", "ACKNOWLEDGMENT", "ERROR")
ACK_TYPES = ("PUBLISHED", "RECEIVED", "READ")
# The only moves the platform allows (UC-405): to the bin and back, so each folder has one
# destination, "the other side".
OTHER_SIDE = {
    "INBOX": "BININBOX",
    "BININBOX": "INBOX",
    "SENTBOX": "BINSENTBOX",
    "BINSENTBOX": "SENTBOX",
}
ALLOWED_MOVES = frozenset(OTHER_SIDE.items())
MAX_IDS_PER_CALL = 100  # list, move and delete take at most 100 messages per call (SOAP XSD)

_ALPHANUMERIC = string.ascii_letters + string.digits


def new_publication_id() -> str:
    """A fresh random PublicationId: 13 characters [A-Za-z0-9], the maximum length."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(13))


# The largest message the eHealthBox accepts, attachments included: 10 MB (CONFIRMED,
# eHealth's eHealthBox service page; above it the platform answers 801).
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class BoxId:
    """An eHealthBox address: identifier, type, optional subtype, and quality."""

    id: str
    type: str
    quality: str
    sub_type: str | None = None

    def __str__(self) -> str:
        kind = f"{self.type}-{self.sub_type}" if self.sub_type else self.type
        return f"{kind} {self.id} ({self.quality})"


@dataclass(frozen=True)
class Recipient(BoxId):
    """A destination of a new message. `ooo_processed` acknowledges an out-of-office."""

    ooo_processed: bool = False

    def box(self) -> BoxId:
        return BoxId(self.id, self.type, self.quality, self.sub_type)


@dataclass(frozen=True)
class Sender(BoxId):
    """Who published a message, with the display name the platform knows."""

    name: str = ""
    first_name: str | None = None
    person_in_organisation: str | None = None  # INSS of the person when an organisation sends

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.name) if p) or self.id


@dataclass(frozen=True)
class BoxInfo:
    box_id: BoxId
    nbr_messages_in_standby: int
    current_size: int
    max_size: int

    @property
    def usage(self) -> float:
        """The share of the quota in use, 0.0 to 1.0 (and above when over quota)."""
        return self.current_size / self.max_size if self.max_size else 0.0


@dataclass(frozen=True)
class ContentSpecification:
    content_type: str = "DOCUMENT"
    is_important: bool = False
    is_encrypted: bool = False
    publication_receipt: bool = False
    received_receipt: bool = False
    read_receipt: bool = False
    application_name: str | None = None


@dataclass(frozen=True)
class CustomMeta:
    key: str
    value: str


@dataclass(frozen=True)
class MessageSummary:
    """One row of a folder listing."""

    message_id: str
    publication_id: str | None
    sender: Sender
    destination: BoxId
    publication_date: datetime
    expiration_date: datetime | None
    size: int
    title: str
    mime_type: str | None
    has_free_informations: bool
    has_annex: bool
    patient_inss: str | None
    content_specification: ContentSpecification
    custom_metas: tuple[CustomMeta, ...] = ()
    read: bool = False  # INFERRED: not in the SOAP list; see openapi.yaml


@dataclass(frozen=True)
class MessagePage:
    folder: str
    start: int
    end: int
    messages: tuple[MessageSummary, ...]
    total: int | None = None
    unread: int | None = None


@dataclass(frozen=True)
class Document:
    title: str
    download_file_name: str
    mime_type: str
    digest: str | None
    size: int


@dataclass(frozen=True)
class Annex:
    index: int
    title: str
    download_file_name: str
    mime_type: str
    digest: str | None
    size: int


@dataclass(frozen=True)
class TableRow:
    left: str
    right: str


@dataclass(frozen=True)
class FreeInformation:
    """Free information: either a free text or a titled two-column table, never both."""

    text: str | None = None
    table_title: str | None = None
    rows: tuple[TableRow, ...] = ()

    @property
    def is_table(self) -> bool:
        return self.text is None


@dataclass(frozen=True)
class Acknowledgment:
    """The content of an ACKNOWLEDGMENT system message."""

    message_id: str
    ack_type: str
    date_time: datetime
    recipient: BoxId | None = None


@dataclass(frozen=True)
class ErrorMessage:
    """The content of an ERROR system message."""

    code: str
    messages: tuple[str, ...] = ()
    publication_id: str | None = None
    destinations: tuple[BoxId, ...] = ()
    failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class Message:
    """A full message as returned by the platform."""

    message_id: str
    publication_id: str | None
    sender: Sender
    destinations: tuple[BoxId, ...]
    document: Document | None
    content_specification: ContentSpecification
    publication_date: datetime | None = None
    expiration_date: datetime | None = None
    size: int = 0
    free_information: FreeInformation | None = None
    patient_inss: str | None = None
    annexes: tuple[Annex, ...] = ()
    acknowledgment: Acknowledgment | None = None
    error: ErrorMessage | None = None
    custom_metas: tuple[CustomMeta, ...] = ()
    copy_mail_to: tuple[str, ...] = ()
    read: bool = False


@dataclass(frozen=True)
class AcknowledgmentStatus:
    """Per recipient: when a sent message was published, received and read."""

    recipient: BoxId
    published: datetime | None = None
    received: datetime | None = None
    read: datetime | None = None


@dataclass(frozen=True)
class RecipientOutcome:
    """A recipient in a send answer; out-of-office details when the recipient is absent."""

    box: BoxId
    absent_from: date | None = None
    absent_to: date | None = None
    substitutes: tuple[BoxId, ...] = ()
    stand_by: bool = False  # INFERRED: the recipient's box is full, the message waits


@dataclass(frozen=True)
class SendResult:
    message_id: str
    publication_id: str
    recipients: tuple[RecipientOutcome, ...] = ()
    replayed: bool = False  # the platform already had this publicationId: nothing new was sent


@dataclass(frozen=True)
class OutOfOffice:
    id: str
    start_date: date
    end_date: date
    substitutes: tuple[BoxId, ...] = ()


class Attachment:
    """Bytes to send (document or annex), from `bytes` or a binary file-like object.

    The digest is computed once; a file-like object is rewound before every
    send so that the same `NewMessage` can be sent again after a lost answer.
    A non-seekable stream is first copied to a spooled temporary file.
    """

    def __init__(
        self, content: bytes | BinaryIO, filename: str, mime_type: str, title: str | None = None
    ):
        if not filename:
            raise ValueError("An attachment needs a file name.")
        self.filename = filename
        self.mime_type = mime_type
        self.title = title or filename
        if isinstance(content, bytes | bytearray | memoryview):
            self._stream: BinaryIO = io.BytesIO(bytes(content))
        elif _seekable(content):
            self._stream = content
        else:
            spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115
            for chunk in iter(lambda: content.read(64 * 1024), b""):
                spool.write(chunk)
            spool.seek(0)
            self._stream = spool  # type: ignore[assignment]
        self._start = self._stream.tell()
        self.size, self.digest = self._measure()

    def _measure(self) -> tuple[int, str]:
        sha, size = hashlib.sha256(), 0
        for chunk in self.chunks():
            sha.update(chunk)
            size += len(chunk)
        return size, _b64(sha.digest())

    def chunks(self, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        """The bytes from the start, in chunks (rewinds first)."""
        self._stream.seek(self._start)
        while chunk := self._stream.read(chunk_size):
            yield chunk

    def read_all(self) -> bytes:
        """All the bytes (small attachments, tests)."""
        return b"".join(self.chunks())

    def __repr__(self) -> str:
        return f"Attachment({self.filename!r}, {self.mime_type!r}, size={self.size})"


@dataclass
class NewMessage:
    """A message to send. Keep the object to resend it after `SendOutcomeUnknown`:
    the same `publication_id` makes the platform deliver it at most once."""

    recipients: list[Recipient]
    title: str
    document: Attachment | None = None
    text: str | None = None  # a small text document, sent inline instead of `document`
    free_information: FreeInformation | None = None
    patient_inss: str | None = None
    annexes: list[Attachment] = field(default_factory=list)
    content_specification: ContentSpecification = field(default_factory=ContentSpecification)
    custom_metas: list[CustomMeta] = field(default_factory=list)
    copy_mail_to: list[str] = field(default_factory=list)
    text_filename: str = "message.txt"
    publication_id: str = field(default_factory=new_publication_id)

    def __post_init__(self) -> None:
        if (self.document is None) == (self.text is None):
            raise ValueError("A message needs exactly one of a document or a text.")
        if not self.recipients:
            raise ValueError("A message needs at least one recipient.")

    @property
    def text_bytes(self) -> bytes:
        return (self.text or "").encode("utf-8")

    @property
    def content_size(self) -> int:
        """The bytes the platform weighs against its limit: the document and every annex."""
        document = self.document.size if self.document is not None else len(self.text_bytes)
        return document + sum(annex.size for annex in self.annexes)

    @property
    def text_digest(self) -> str:
        return _b64(hashlib.sha256(self.text_bytes).digest())


def _seekable(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError):
        return False


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
