"""The one input model: a message to send, and the arguments of list, move and delete.

Every entry point hands over what it received, as plain values named as in `/api/v1`
(`recipients`, `title`, `text`, `freeText`, `patientInss`, `receipts`, `important`,
`encrypted`, `publicationId`) plus the files; the pages from a form, the CLI from options.
What comes back is a checked `NewMessage`, or `Invalid` with every problem at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ..ehealth.ehealthbox.identifiers import check_recipient, clean, expected_type, is_valid_inss
from ..ehealth.ehealthbox.models import (
    ALLOWED_MOVES,
    FOLDERS,
    Attachment,
    ContentSpecification,
    FreeInformation,
    NewMessage,
    Recipient,
    new_publication_id,
)
from . import rules
from .names import is_mime_type, safe_filename
from .problems import Invalid, Problem


@dataclass(frozen=True)
class Upload:
    """A file as an entry point received it: its bytes, the name and type it was given."""

    stream: BinaryIO | bytes
    filename: str | None
    mime_type: str | None = None
    title: str | None = None


@dataclass
class Outgoing:
    """A checked message, and whether to seal it end to end."""

    message: NewMessage
    encrypted: bool = False


@dataclass
class _Checks:
    problems: list[Problem] = field(default_factory=list)

    def add(self, code: str, where: str, **values: Any) -> None:
        self.problems.append(Problem(code, where, values))

    def line(self, value: Any, where: str, *, high: int, required: bool = True) -> str | None:
        """A one-line text: a string, trimmed, within its length, without control characters."""
        if value is None or value == "":
            if required:
                self.add("required", where)
            return None
        if not isinstance(value, str):
            self.add("not-a-text", where)
            return None
        value = value.strip()
        if not value and required:
            self.add("required", where)
        elif len(value) > high:
            self.add("too-long", where, max=high)
        elif rules.CONTROL_IN_LINE.search(value):
            self.add("control-characters", where)
        return value or None

    def text(self, value: Any, where: str, *, high: int | None = None) -> str | None:
        """A text of several lines: tab and new lines allowed, other control characters not."""
        if value is None:
            return None
        if not isinstance(value, str):
            self.add("not-a-text", where)
            return None
        if high is not None and len(value) > high:
            self.add("too-long", where, max=high)
        elif rules.CONTROL_IN_TEXT.search(value):
            self.add("control-characters", where)
        return value

    def flag(self, value: Any, where: str) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            self.add("not-a-boolean", where)
            return False
        return value


def _recipient(checks: _Checks, raw: Any, where: str) -> Recipient | None:
    if not isinstance(raw, Mapping):
        checks.add("not-an-object", where)
        return None
    values = [raw.get(k) for k in ("type", "id", "quality")]
    for key, value in zip(("type", "id", "quality"), values, strict=True):
        if value in (None, ""):
            checks.add("required", f"{where}.{key}")
        elif not isinstance(value, str):
            checks.add("not-a-text", f"{where}.{key}")
    sub_type = raw.get("subType")
    if sub_type is not None and not isinstance(sub_type, str):
        checks.add("not-a-text", f"{where}.subType")
        return None
    if not all(isinstance(v, str) and v for v in values):
        return None
    box_type, quality = values[0].strip().upper(), values[2].strip().upper()
    identifier = values[1].strip()
    identifier = identifier.upper() if identifier.upper() == "ALL" else clean(identifier)
    if not sub_type:
        try:  # the subtype follows from the quality (NIHII-HOSPITAL for HOSPITAL)
            sub_type = expected_type(quality)[1]
        except KeyError:
            sub_type = None
    found = check_recipient(box_type, identifier, quality, sub_type or None)
    for problem in found:
        checks.add(problem.kind, f"{where}.{problem.field}", **problem.values)
    ooo = checks.flag(raw.get("ooOProcessed"), f"{where}.ooOProcessed")
    return None if found else Recipient(identifier, box_type, quality, sub_type or None, ooo)


def _attachment(checks: _Checks, upload: Upload, where: str, title: str | None) -> Attachment:
    name = safe_filename(upload.filename, default="")
    if not name:
        checks.add("required", f"{where}.filename")
        name = "file"
    mime_type = (upload.mime_type or rules.FALLBACK_MIME_TYPE).strip()
    if not is_mime_type(mime_type):
        checks.add("bad-mime-type", f"{where}.mimeType", given=mime_type)
    return Attachment(upload.stream, name, mime_type, title=title or upload.title or name)


def _receipts(checks: _Checks, raw: Any) -> dict[str, bool]:
    if raw is None:
        raw = []
    if not isinstance(raw, list | tuple) or not all(isinstance(r, str) for r in raw):
        checks.add("not-a-list", "receipts", allowed=tuple(rules.RECEIPTS))
        return {}
    unknown = [r for r in raw if r not in rules.RECEIPTS]
    if unknown:
        checks.add("unknown", "receipts", allowed=tuple(rules.RECEIPTS), given=unknown)
    return {flag: name in raw for name, flag in rules.RECEIPTS.items()}


def outgoing_message(
    values: Mapping[str, Any],
    *,
    document: Upload | None = None,
    annexes: Sequence[Upload] = (),
    forwarded: Sequence[Attachment] = (),
) -> Outgoing:
    """The message `values` describe, checked; or `Invalid` listing every problem.

    `forwarded`: the parts of a forwarded message (its document first), already checked.
    With neither a document nor a text of the sender's, the first is the message's document
    (forwarded as it came); otherwise they all go before the sender's annexes. The total size
    is the client's to refuse before sending (`MessageTooLarge`, its limit from the settings),
    so every sender meets it.
    """
    if not isinstance(values, Mapping):
        raise Invalid([Problem("not-an-object", "message")])
    checks = _Checks()
    raw_recipients = values.get("recipients")
    recipients: list[Recipient] = []
    if raw_recipients is None or raw_recipients == []:
        checks.add("required", "recipients")
    elif not isinstance(raw_recipients, list):
        checks.add("not-a-list", "recipients")
    elif len(raw_recipients) > rules.MAX_RECIPIENTS:
        checks.add("too-many", "recipients", max=rules.MAX_RECIPIENTS)
    else:
        seen: set[tuple[str, str, str]] = set()
        for i, raw in enumerate(raw_recipients):
            found = _recipient(checks, raw, f"recipients[{i}]")
            if found is not None and (found.id, found.type, found.quality) not in seen:
                seen.add((found.id, found.type, found.quality))  # one copy each, however named
                recipients.append(found)
    title = checks.line(values.get("title"), "title", high=rules.TITLE_MAX)
    text = checks.text(values.get("text"), "text")
    free_text = checks.text(values.get("freeText"), "freeText", high=rules.FREE_TEXT_MAX)
    patient = checks.line(values.get("patientInss"), "patientInss", high=20, required=False)
    if patient is not None:
        patient = clean(patient)
        if not is_valid_inss(patient):
            checks.add("check-digits", "patientInss", type="INSS", length=11)
    publication_id = values.get("publicationId")
    if publication_id is not None and (not rules.is_publication_id(publication_id)):
        checks.add("pattern", "publicationId", pattern=rules.PUBLICATION_ID_PATTERN)
        publication_id = None
    receipts = _receipts(checks, values.get("receipts"))
    important = checks.flag(values.get("important"), "important")
    encrypted = checks.flag(values.get("encrypted"), "encrypted")
    has_text = bool(text and text.strip())
    if (document is not None and has_text) or (document is None and not has_text and not forwarded):
        checks.add("one-of", "document", options=("document", "text"))
    doc = _attachment(checks, document, "document", title) if document is not None else None
    files = [_attachment(checks, u, f"annexes[{i}]", None) for i, u in enumerate(annexes)]
    if checks.problems:
        raise Invalid(checks.problems)
    if doc is None and not has_text and forwarded:
        doc, files = forwarded[0], [*forwarded[1:], *files]  # forwarded as it came
    else:
        files = [*forwarded, *files]
    message = NewMessage(
        recipients=recipients,
        title=title or "",
        document=doc,
        text=text if doc is None else None,
        free_information=FreeInformation(text=free_text.strip())
        if free_text and free_text.strip()
        else None,
        patient_inss=patient,
        annexes=files,
        content_specification=ContentSpecification(is_important=important, **receipts),
        publication_id=publication_id or new_publication_id(),
    )
    return Outgoing(message, encrypted)


# --- list, move, delete ----------------------------------------------------------------------


def folder(value: Any, where: str = "folder", default: str | None = None) -> str:
    """One of the four folders (any case), or `Invalid`."""
    if value is None and default is not None:
        return default
    if isinstance(value, str) and value.upper() in FOLDERS:
        return value.upper()
    raise Invalid([Problem("unknown", where, {"allowed": FOLDERS})])


def page_number(value: Any, where: str, default: int, high: int | None = None) -> int:
    """A whole number from 1 (to `high`) written in ASCII digits, or `Invalid`."""
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not rules.is_ascii_number(value, 1, high):
        bound = high if high is not None else 10**12 - 1
        raise Invalid([Problem("out-of-range", where, {"min": 1, "max": bound})])
    return int(value)


def message_ids(value: Any, where: str = "messageIds") -> list[str]:
    """A non-empty list of MessageIds (duplicates dropped, order kept), or `Invalid`."""
    if not isinstance(value, list) or not value:
        raise Invalid([Problem("required" if not value else "not-a-list", where)])
    bad = [i for i, v in enumerate(value) if not isinstance(v, str) or not v]
    if bad:
        raise Invalid([Problem("not-a-text", f"{where}[{i}]") for i in bad])
    return list(dict.fromkeys(value))


@dataclass(frozen=True)
class Move:
    message_ids: list[str]
    source: str
    destination: str


def move_request(values: Any) -> Move:
    if not isinstance(values, Mapping):
        raise Invalid([Problem("not-an-object", "body")])
    problems: list[Problem] = []
    parsed: dict[str, Any] = {}
    for key, parse in (
        ("messageIds", lambda: message_ids(values.get("messageIds"))),
        ("folder", lambda: folder(values.get("folder"))),
        ("destination", lambda: folder(values.get("destination"), "destination")),
    ):
        try:
            parsed[key] = parse()
        except Invalid as exc:
            problems += exc.problems
    if not problems and (parsed["folder"], parsed["destination"]) not in ALLOWED_MOVES:
        allowed = ("INBOX and BININBOX", "SENTBOX and BINSENTBOX")
        problems.append(Problem("move-not-allowed", "destination", {"allowed": allowed}))
    if problems:
        raise Invalid(problems)
    return Move(parsed["messageIds"], parsed["folder"], parsed["destination"])


@dataclass(frozen=True)
class Delete:
    message_ids: list[str]
    folder: str


def delete_request(values: Any) -> Delete:
    if not isinstance(values, Mapping):
        raise Invalid([Problem("not-an-object", "body")])
    problems: list[Problem] = []
    ids: list[str] = []
    where = ""
    try:
        ids = message_ids(values.get("messageIds"))
    except Invalid as exc:
        problems += exc.problems
    try:
        where = folder(values.get("folder"))
    except Invalid as exc:
        problems += exc.problems
    if problems:
        raise Invalid(problems)
    return Delete(ids, where)


def recipient(raw: Mapping[str, Any], where: str = "recipients[0]") -> Recipient:
    """One recipient (`type`, `id`, `quality`, optional `subType`), checked; or `Invalid`."""
    checks = _Checks()
    found = _recipient(checks, raw, where)
    if checks.problems or found is None:
        raise Invalid(checks.problems)
    return found
