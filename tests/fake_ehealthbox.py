"""An eHealthBox in memory, for unit tests of the mailbox's use cases: no server, no HTTP.

`FakeEhealthbox` is the platform (its boxes); `box()` opens one box and answers its client,
a `FakeEhealthboxClient` with the methods of `mailbox.ports.EhealthboxPort`:

    platform = FakeEhealthbox()
    alice = platform.box(ALICE, "Alice Peeters")
    bram = platform.box(BRAM, "Bram Janssens")
    alice.send(new_message)          # a copy in Alice's SENTBOX and one in Bram's INBOX

What it does as the platform does: each copy has its own MessageId (13 ASCII letters and
digits); a PublicationId the sender already used delivers nothing and answers the first
result (`replayed=True`, as the client reads the platform's 200); names and MIME types are
kept as the sender wrote them (cleaning them is the mailbox's job); reading from the INBOX
marks a message read, listing the INBOX marks it received; a page holds at most 100
messages; messages move only to the bin and back; the failures are the client's exceptions
(`InvalidMessageId` for an unknown id, `InvalidDestination` for a box that does not exist).
Like the client, it takes any number of ids in a move or delete (the client splits them in
batches of 100) and refuses a message above 10 MB before sending.

Left out: receipts as system messages, out-of-office refusals of a send (826), quotas and
stand-by, expiry, and any check of seals (an "encrypted" message is stored as given).
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from urllib.parse import quote

import requests

from ehbox_webapp.ehealth.ehealthbox import errors
from ehbox_webapp.ehealth.ehealthbox.client import Download, EhealthboxClient
from ehbox_webapp.ehealth.ehealthbox.models import (
    ALLOWED_MOVES,
    FOLDERS,
    MAX_IDS_PER_CALL,
    MAX_MESSAGE_BYTES,
    AcknowledgmentStatus,
    Annex,
    BoxId,
    BoxInfo,
    Document,
    Message,
    MessagePage,
    MessageSummary,
    NewMessage,
    OutOfOffice,
    RecipientOutcome,
    Sender,
    SendResult,
)

INBOX_SIDE = ("INBOX", "BININBOX")
SENT_SIDE = ("SENTBOX", "BINSENTBOX")
_ALPHANUMERIC = string.ascii_letters + string.digits


@dataclass
class _Publication:
    """One message as published: its content, and per recipient when it got there."""

    message: Message  # the sender's copy; each box's copy differs only by its MessageId
    parts: dict[int | None, bytes]  # None: the document; n: annex n
    receipts: dict[BoxId, AcknowledgmentStatus]


@dataclass
class _Copy:
    message_id: str
    publication: _Publication
    order: int  # newest first: a higher number is newer
    read: bool = False

    @property
    def message(self) -> Message:
        return replace(self.publication.message, message_id=self.message_id, read=self.read)


@dataclass
class _Box:
    box: BoxId
    name: str
    folders: dict[str, list[_Copy]] = field(default_factory=lambda: {f: [] for f in FOLDERS})
    sent: dict[str, SendResult] = field(default_factory=dict)  # by PublicationId
    out_of_office: dict[str, OutOfOffice] = field(default_factory=dict)


class FakeEhealthbox:
    """The platform: boxes by address, and the MessageIds handed out."""

    def __init__(self, max_size: int = 100 * 1024 * 1024):
        self.boxes: dict[BoxId, _Box] = {}
        self.max_size = max_size
        self._order = itertools.count(1)
        self._ids: set[str] = set()

    def box(self, box: BoxId, name: str = "") -> FakeEhealthboxClient:
        """Open `box` (once) and answer a client acting for it."""
        key = _plain(box)
        self.boxes.setdefault(key, _Box(key, name))
        return FakeEhealthboxClient(self, key)

    def folder(self, box: BoxId, folder: str) -> list[Message]:
        """What a folder holds, newest first (for assertions; marks nothing read)."""
        return [c.message for c in self.boxes[_plain(box)].folders[folder]]

    def new_message_id(self) -> str:
        while True:
            message_id = "".join(secrets.choice(_ALPHANUMERIC) for _ in range(13))
            if message_id not in self._ids:
                self._ids.add(message_id)
                return message_id

    def file(self, owner: BoxId, folder: str, publication: _Publication) -> _Copy:
        copy = _Copy(self.new_message_id(), publication, next(self._order))
        self.boxes[owner].folders[folder].insert(0, copy)
        return copy


class FakeEhealthboxClient:
    """One box's eHealthBox client, in memory (see the module's docstring)."""

    def __init__(
        self,
        platform: FakeEhealthbox,
        box: BoxId,
        max_message_bytes: int | None = MAX_MESSAGE_BYTES,
    ):
        self.platform = platform
        self.box_id = box
        self.max_message_bytes = max_message_bytes  # None: no limit, as for the client

    @property
    def _box(self) -> _Box:
        return self.platform.boxes[self.box_id]

    def _copy(self, message_id: str, folders: tuple[str, ...]) -> _Copy:
        for name in folders:
            for copy in self._box.folders[_folder(name)]:
                if copy.message_id == message_id:
                    return copy
        raise errors.InvalidMessageId(
            status=404, code="806", detail=f"No message {message_id} in {' or '.join(folders)}."
        )

    # --- reading -----------------------------------------------------------------------------
    def box_info(self) -> BoxInfo:
        size = sum(c.publication.message.size for f in self._box.folders.values() for c in f)
        return BoxInfo(self.box_id, 0, size, self.platform.max_size)

    def list_messages(self, folder: str = "INBOX", start: int = 1, end: int = 100) -> MessagePage:
        copies = self._box.folders[_folder(folder)]
        if start < 1 or end < start or end - start + 1 > MAX_IDS_PER_CALL:
            code = "807" if end < start else "808"
            raise errors.InvalidPaging(status=400, code=code, detail="A page holds 1 to 100.")
        page = copies[start - 1 : end]
        if folder == "INBOX":
            for copy in page:
                self._note(copy, received=True)
        return MessagePage(
            folder,
            start,
            start + len(page) - 1,
            tuple(_summary(c, self.box_id) for c in page),
            total=len(copies),
            unread=sum(not c.read for c in copies),
        )

    # The client's own paging (each message once while new mail shifts the pages), over
    # this listing.
    iter_messages = EhealthboxClient.iter_messages

    def get_message(self, message_id: str, folder: str = "INBOX") -> Message:
        copy = self._copy(message_id, (folder,))
        if folder in INBOX_SIDE:
            self._note(copy, received=True, read=True)
        return copy.message

    def open_document(self, message_id: str, folder: str = "INBOX") -> Download:
        copy = self._copy(message_id, (folder,))
        document = copy.message.document
        if document is None:
            raise errors.NotFound(status=404, detail="This message has no document.")
        return _download(copy.publication.parts[None], document)

    def open_annex(self, message_id: str, index: int, folder: str = "INBOX") -> Download:
        copy = self._copy(message_id, (folder,))
        annex = next((a for a in copy.message.annexes if a.index == index), None)
        if annex is None:
            raise errors.NotFound(status=404, detail=f"This message has no annex {index}.")
        return _download(copy.publication.parts[index], annex)

    def acknowledgments(self, message_id: str) -> list[AcknowledgmentStatus]:
        try:
            copy = self._copy(message_id, SENT_SIDE)
        except errors.InvalidMessageId:
            self._copy(message_id, INBOX_SIDE)  # InvalidMessageId when not there either
            raise errors.NotTheSender(status=403, code="809") from None
        return list(copy.publication.receipts.values())

    def _note(self, copy: _Copy, *, received: bool = False, read: bool = False) -> None:
        """The copy was listed (received) or opened (read): its own state and the receipts."""
        now = _now()
        receipt = copy.publication.receipts.get(self.box_id)
        if receipt is not None:
            copy.publication.receipts[self.box_id] = replace(
                receipt,
                received=receipt.received or (now if received else None),
                read=receipt.read or (now if read else None),
            )
        copy.read = copy.read or read

    # --- sending -----------------------------------------------------------------------------
    def send(self, message: NewMessage) -> SendResult:
        limit = self.max_message_bytes
        if limit is not None and message.content_size > limit:
            raise errors.MessageTooLarge.before_sending(message.content_size, limit)
        first = self._box.sent.get(message.publication_id)
        if first is not None:
            return replace(first, replayed=True)
        recipients = list(dict.fromkeys(r.box() for r in message.recipients))
        unknown = [r for r in recipients if r not in self.platform.boxes]
        if unknown:
            raise errors.InvalidDestination(status=422, code="802", recipients=unknown)
        now = _now()
        publication = _publish(message, self._box, recipients, now)
        sent = self.platform.file(self.box_id, "SENTBOX", publication)
        sent.read = True
        for recipient in recipients:
            self.platform.file(recipient, "INBOX", publication)
        result = SendResult(
            sent.message_id,
            message.publication_id,
            tuple(RecipientOutcome(r) for r in recipients),
        )
        self._box.sent[message.publication_id] = result
        return result

    # --- organising --------------------------------------------------------------------------
    def move(self, message_ids: Iterable[str], source: str, destination: str) -> list[str]:
        source, destination = _folder(source), _folder(destination)
        if {source, destination} == {"INBOX", "SENTBOX"}:
            raise errors.MoveNotAllowed(status=400, code="812")
        if (source, destination) not in ALLOWED_MOVES:
            raise errors.BadRequest(status=400, detail=f"No move from {source} to {destination}.")
        folders = self._box.folders
        not_moved: list[str] = []
        for message_id in message_ids:
            copy = next((c for c in folders[source] if c.message_id == message_id), None)
            if copy is None:
                not_moved.append(message_id)
                continue
            folders[source].remove(copy)
            folders[destination].append(copy)
            folders[destination].sort(key=lambda c: c.order, reverse=True)
        return not_moved

    def delete(self, message_ids: Iterable[str], source: str) -> list[str]:
        copies = self._box.folders[_folder(source)]
        message_ids = list(message_ids)
        wanted = set(message_ids)
        kept = [c for c in copies if c.message_id not in wanted]
        deleted = {c.message_id for c in copies} & wanted
        copies[:] = kept
        return [m for m in dict.fromkeys(message_ids) if m not in deleted]

    # --- out of office -----------------------------------------------------------------------
    def out_of_offices(self) -> list[OutOfOffice]:
        return list(self._box.out_of_office.values())

    def add_out_of_office(
        self, start: date, end: date, substitutes: Iterable[BoxId] = ()
    ) -> OutOfOffice:
        if end < start:
            raise errors.BadRequest(status=400, detail="endDate is before startDate.")
        period = OutOfOffice(secrets.token_hex(8), start, end, tuple(substitutes))
        self._box.out_of_office[period.id] = period
        return period

    def delete_out_of_office(self, ooo_id: str) -> None:
        if self._box.out_of_office.pop(ooo_id, None) is None:
            raise errors.NotFound(status=404, detail="No such out-of-office period in this box.")


def _publish(
    message: NewMessage, sender: _Box, recipients: list[BoxId], now: datetime
) -> _Publication:
    """What the platform stores of a send: the parts' bytes, names and types as given."""
    if message.document is not None:
        body = message.document.read_all()
        name, mime_type = message.document.filename, message.document.mime_type
    else:
        body, name, mime_type = message.text_bytes, message.text_filename, "text/plain"
    parts: dict[int | None, bytes] = {None: body}
    annexes = []
    for index, attachment in enumerate(message.annexes, start=1):
        parts[index] = attachment.read_all()
        annexes.append(
            Annex(
                index,
                attachment.title,
                attachment.filename,
                attachment.mime_type,
                _digest(parts[index]),
                len(parts[index]),
            )
        )
    box = sender.box
    stored = Message(
        message_id="",
        publication_id=message.publication_id,
        sender=Sender(box.id, box.type, box.quality, box.sub_type, name=sender.name),
        destinations=tuple(recipients),
        document=Document(message.title, name, mime_type, _digest(body), len(body)),
        content_specification=message.content_specification,
        publication_date=now,
        size=sum(len(p) for p in parts.values()),
        free_information=message.free_information,
        patient_inss=message.patient_inss,
        annexes=tuple(annexes),
        custom_metas=tuple(message.custom_metas),
        copy_mail_to=tuple(message.copy_mail_to),
    )
    receipts = {r: AcknowledgmentStatus(r, published=now) for r in recipients}
    return _Publication(stored, parts, receipts)


def _summary(copy: _Copy, listed_in: BoxId) -> MessageSummary:
    """A listing row; its destination is the box listing it, as the sandbox answers."""
    message = copy.message
    document = message.document
    return MessageSummary(
        message_id=message.message_id,
        publication_id=message.publication_id,
        sender=message.sender,
        destination=listed_in,
        publication_date=message.publication_date or _now(),
        expiration_date=message.expiration_date,
        size=message.size,
        title=document.title if document else "",
        mime_type=document.mime_type if document else None,
        has_free_informations=message.free_information is not None,
        has_annex=bool(message.annexes),
        patient_inss=message.patient_inss,
        content_specification=message.content_specification,
        custom_metas=message.custom_metas,
        read=copy.read,
    )


def _download(content: bytes, part: Document | Annex) -> Download:
    """The client's own `Download` over the bytes, with the headers the platform sends."""
    response = requests.Response()
    response.status_code = 200
    response.raw = io.BytesIO(content)
    # An HTTP header carries no CR, LF or other control character: the sandbox sends such a
    # type as application/octet-stream, and the name percent-encoded (RFC 6266 filename*).
    printable = part.mime_type.isascii() and part.mime_type.isprintable()
    response.headers["Content-Type"] = part.mime_type if printable else "application/octet-stream"
    response.headers["Content-Length"] = str(len(content))
    name = quote(part.download_file_name, safe="")
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    if part.digest:
        response.headers["Digest"] = f"SHA-256={part.digest}"
    return Download(response)


def _plain(box: BoxId) -> BoxId:
    return BoxId(box.id, box.type, box.quality, box.sub_type)


def _folder(name: str) -> str:
    if name not in FOLDERS:
        raise errors.BadRequest(status=400, detail=f"{name} is not a folder.")
    return name


def _digest(content: bytes) -> str:
    return base64.b64encode(hashlib.sha256(content).digest()).decode("ascii")


def _now() -> datetime:
    return datetime.now(UTC)
