"""Messages built from command-line values, checked before anything is sent.

Recipients are written `TYPE:ID:QUALITY` (e.g. `INSS:85071212390:DOCTOR`,
`CBE:0899999949:INSTITUTION`, `NIHII-HOSPITAL:71000436:HOSPITAL`) and checked with
the eHealthBox identifier rules (`ehealth/ehealthbox/identifiers.py`).
"""

from __future__ import annotations

import mimetypes
import re
import shlex
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from pathlib import Path

from ..ehealth.ehealthbox import (
    Attachment,
    ContentSpecification,
    FreeInformation,
    NewMessage,
    Recipient,
)
from ..ehealth.ehealthbox.identifiers import (
    QUALITIES,
    clean,
    expected_type,
    is_valid_inss,
    validate_recipient,
)

RECEIPTS = ("published", "received", "read")
# PublicationId: 1 to 13 characters (XSD); we accept what new_publication_id makes.
_PUBLICATION_ID = re.compile(r"[A-Za-z0-9]{1,13}")


class MessageProblem(ValueError):
    """A value on the command line that would make an invalid message; says which."""


def parse_recipient(value: str) -> Recipient:
    """`TYPE[-SUBTYPE]:ID:QUALITY` as a checked :class:`Recipient`."""
    parts = value.split(":")
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise MessageProblem(
            f"recipient {value!r}: write it TYPE:ID:QUALITY, "
            "e.g. INSS:85071212390:DOCTOR or CBE:0899999949:INSTITUTION"
        )
    kind, identifier, quality = (p.strip() for p in parts)
    box_type, _, sub_type = kind.upper().partition("-")
    quality = quality.upper()
    identifier = identifier if identifier.upper() == "ALL" else clean(identifier)
    if not sub_type and quality in QUALITIES:
        # The subtype is implied by the quality (NIHII-HOSPITAL for HOSPITAL): fill it in.
        sub_type = expected_type(quality)[1] or ""
    problems = validate_recipient(box_type, identifier, quality, sub_type or None)
    if problems:
        raise MessageProblem(f"recipient {value!r}: " + " ".join(problems))
    return Recipient(identifier, box_type, quality, sub_type or None)


def check_publication_id(value: str) -> str:
    if not _PUBLICATION_ID.fullmatch(value):
        raise MessageProblem(f"publication id {value!r}: 1 to 13 letters or digits")
    return value


def attachment(path: Path, opened: ExitStack | None = None) -> Attachment:
    """A file to send, as a stream (rewound when the same message is resent); `opened`,
    when given, closes the file when the caller is done with the message."""
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    handle = path.open("rb")
    if opened is not None:
        opened.enter_context(handle)
    return Attachment(handle, path.name, mime, title=path.name)


def build_message(
    *,
    recipients: Sequence[str],
    title: str,
    document: Path | None,
    text: str | None,
    annexes: Iterable[Path] = (),
    free_text: str | None = None,
    patient: str | None = None,
    important: bool = False,
    receipts: Iterable[str] = (),
    publication_id: str | None = None,
    ooo_processed: bool = False,
    opened: ExitStack | None = None,
) -> NewMessage:
    """The :class:`NewMessage` the `send` command's options describe, or MessageProblem."""
    boxes = [parse_recipient(r) for r in recipients]
    if ooo_processed:
        boxes = [Recipient(b.id, b.type, b.quality, b.sub_type, ooo_processed=True) for b in boxes]
    if not boxes:
        raise MessageProblem("at least one --to recipient is needed")
    if not title.strip() or len(title) > 400:
        raise MessageProblem("--title: 1 to 400 characters (never encrypted: no patient data)")
    if (document is None) == (text is None):
        raise MessageProblem("give exactly one of --document FILE or --text TEXT")
    if patient is not None and not is_valid_inss(clean(patient)):
        raise MessageProblem(
            f"--patient {patient!r}: an INSS has 11 digits with valid check digits"
        )
    receipts = {r.lower() for r in receipts}
    spec = ContentSpecification(
        is_important=important,
        publication_receipt="published" in receipts,
        received_receipt="received" in receipts,
        read_receipt="read" in receipts,
    )
    extra = {"publication_id": check_publication_id(publication_id)} if publication_id else {}
    return NewMessage(
        recipients=boxes,
        title=title,
        document=attachment(document, opened) if document is not None else None,
        text=text,
        annexes=[attachment(a, opened) for a in annexes],
        free_information=FreeInformation(text=free_text) if free_text else None,
        patient_inss=clean(patient) if patient else None,
        content_specification=spec,
        **extra,
    )


def resend_command(prefix: Sequence[str], params: dict, publication_id: str) -> str:
    """The exact `send` command that resends safely: the same values, the same publication id."""
    args = list(prefix) + ["send"]
    for value in params.get("to") or ():
        args += ["--to", value]
    args += ["--title", params["title"]]
    for option in ("document", "text", "free_text", "patient"):
        if params.get(option) is not None:
            args += [f"--{option.replace('_', '-')}", str(params[option])]
    for annex in params.get("annex") or ():
        args += ["--annex", str(annex)]
    if params.get("important"):
        args.append("--important")
    if params.get("encrypted"):
        args.append("--encrypted")
    for receipt in params.get("receipt") or ():
        args += ["--receipt", receipt]
    if params.get("ooo_processed"):
        args.append("--ooo-processed")
    args += ["--publication-id", publication_id]
    return shlex.join(args)
