"""Messages from command-line values: the options into the mailbox's input model.

Recipients are written `TYPE[-SUBTYPE]:ID:QUALITY` (e.g. `INSS:85071212390:DOCTOR`,
`CBE:0899999949:INSTITUTION`, `NIHII-HOSPITAL:71000436:HOSPITAL`); everything else is
checked by the mailbox's rules (`ehbox_webapp/mailbox/outgoing.py`), which this module
only feeds and words.
"""

from __future__ import annotations

import mimetypes
import shlex
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from ..ehealth.ehealthbox import Recipient
from ..mailbox.outgoing import Outgoing, Upload, outgoing_message, recipient
from ..mailbox.problems import Invalid, Problem, english
from ..mailbox.rules import RECEIPTS

__all__ = ["RECEIPTS", "MessageProblem", "build_message", "parse_recipient", "resend_command"]

# The option each field of the input model comes from, to word a problem for the terminal.
OPTION_OF = {
    "recipients": "--to",
    "title": "--title",
    "text": "--text",
    "document": "--document",
    "freeText": "--free-text",
    "patientInss": "--patient",
    "publicationId": "--publication-id",
    "receipts": "--receipt",
    "annexes": "--annex",
}


class MessageProblem(ValueError):
    """A value on the command line that would make an invalid message; says which."""


def describe(problems: Iterable[Problem], recipients: Sequence[str] = ()) -> str:
    """The problems as one line, each under the option it came from."""
    parts = []
    for problem in problems:
        head, _, rest = problem.field.partition("[")
        option = OPTION_OF.get(head.split(".")[0], problem.field)
        if head == "recipients" and rest:
            index = int(rest.split("]")[0])
            given = recipients[index] if index < len(recipients) else ""
            option = f"recipient {given!r}" if given else "--to"
        parts.append(f"{option}: {english(problem)}")
    return "; ".join(parts)


def _recipient_values(value: str) -> dict[str, Any]:
    parts = value.split(":")
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise MessageProblem(
            f"recipient {value!r}: write it TYPE:ID:QUALITY, "
            "e.g. INSS:85071212390:DOCTOR or CBE:0899999949:INSTITUTION"
        )
    kind, identifier, quality = (p.strip() for p in parts)
    box_type, _, sub_type = kind.upper().partition("-")
    return {"type": box_type, "id": identifier, "quality": quality, "subType": sub_type or None}


def parse_recipient(value: str) -> Recipient:
    """`TYPE[-SUBTYPE]:ID:QUALITY` as a checked :class:`Recipient`."""
    try:
        return recipient(_recipient_values(value))
    except Invalid as exc:
        raise MessageProblem(describe(exc.problems, [value])) from None


def attachment(path: Path, opened: ExitStack | None = None) -> Upload:
    """A file to send, as a stream (rewound when the same message is resent); `opened`,
    when given, closes the file when the caller is done with the message."""
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    handle = path.open("rb")
    if opened is not None:
        opened.enter_context(handle)
    return Upload(handle, path.name, mime, title=path.name)


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
    encrypted: bool = False,
    opened: ExitStack | None = None,
) -> Outgoing:
    """The message the `send` command's options describe, or MessageProblem."""
    values = {
        "recipients": [{**_recipient_values(r), "ooOProcessed": ooo_processed} for r in recipients],
        "title": title,
        "text": text,
        "freeText": free_text,
        "patientInss": patient,
        "important": important,
        "encrypted": encrypted,
        "receipts": [r.lower() for r in receipts],
        "publicationId": publication_id,
    }
    try:
        return outgoing_message(
            values,
            document=attachment(document, opened) if document is not None else None,
            annexes=[attachment(a, opened) for a in annexes],
        )
    except Invalid as exc:
        raise MessageProblem(describe(exc.problems, recipients)) from None


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
