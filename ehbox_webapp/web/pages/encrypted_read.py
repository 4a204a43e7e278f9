"""Reading end-to-end encrypted messages on the mailbox pages.

The message page opens the small sealed fields (patient INSS, free text or table cells,
annex titles) with the keys of the user's box, through the mailbox as `/api/v1` and the CLI
do (`Mailbox.opened`, `Mailbox.part`), and says who sealed them and whether the
signatures hold. The document and the annexes are opened when they are downloaded: a seal
is verified whole, so each is fetched whole, opened, and served as the clear bytes with the
usual safe download headers. Nothing that fails to open is ever shown, not even as base64:
the page says which part and why, in the user's language (the library's English sentence
goes along as a technical detail, marked as English), and the message can still be moved
or deleted.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass

from flask import Response as FlaskResponse
from flask import abort, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...ehealth.ehealthbox import DigestMismatch, Message
from ...ehealth.ehealthbox.opening import NoSuchPart
from ...ehealth.ehealthbox.sealing import OpenedMessage
from ...ehealth.ehealthbox.unsealing import MIXED, NOT_FOR_ME, TAMPERED, UNEXPECTED_SIGNER
from ...ehealth.etee import NotForMe, TamperedSeal, UnexpectedSigner
from ...ehealth.etee.errors import EteeError
from ...ehealth.etee.keys import NoKeystore
from ...mailbox.actions import Mailbox
from ...mailbox.reading import document_text
from ..downloads import SANDBOX_CSP, content_download
from ..errors import render_error, wants_problem
from .boxcache import my_box

NO_KEYSTORE = "no-keystore"
# What happened, per kind of problem (unsealing.FieldProblem.kind), for people.
REASONS = {
    NOT_FOR_ME: _l("It is not addressed to your encryption keys."),
    TAMPERED: _l("It was altered or damaged after it was sealed."),
    UNEXPECTED_SIGNER: _l("It was not sealed by the sender of the message."),
    MIXED: _l("It mixes encrypted and clear parts, so the whole message is refused."),
    NO_KEYSTORE: _l("You have no keystore here to open encrypted messages."),
}
_ANNEX = re.compile(r"annexes\[(\d+)\](\.title)?")
_ROW = re.compile(r"table\.rows\[(\d+)\]\.(left|right)")


@dataclass(frozen=True)
class Problem:
    """One part that did not open: which (translated), why (translated), and the English detail."""

    part: str
    reason: str
    detail: str


@dataclass(frozen=True)
class SealedView:
    """What the message page shows of an encrypted message."""

    message: Message  # the opened values in place of the seals; None where one failed
    opened: OpenedMessage | None  # None when no key of the user's box is available here
    problems: tuple[Problem, ...]
    failed: frozenset[str]  # the fields that did not open (unsealing names); "*": all
    document_text: str | None = None  # an opened plain-text document, for the page

    @property
    def ok(self) -> bool:
        return not self.problems


def _knowing_my_box(box: Mailbox) -> Mailbox:
    """The mailbox, told the user's box from the pages' per-user memory (no boxInfo call)."""
    if box.sender_box is None:
        box.sender_box = functools.partial(my_box, box.client)
    return box


def part_name(field: str) -> str:
    """`annexes[2].title` -> "Title of annex 2", and so on, in the page's language."""
    if field == "document":
        return _("Document")
    if field == "patientInss":
        return _("Patient (INSS)")
    if field == "freeText":
        return _("Free text")
    if annex := _ANNEX.fullmatch(field):
        number = annex.group(1)
        return _("Title of annex %(n)s", n=number) if annex.group(2) else _("Annex %(n)s", n=number)
    if row := _ROW.fullmatch(field):
        return _("Table, row %(n)s", n=int(row.group(1)) + 1)
    return _("The whole message")


def kind_reason(kind: str) -> str:
    """Why a sealed field did not open (an `unsealing` problem kind), for people."""
    reason = REASONS.get(kind)
    return str(reason) if reason is not None else _("It cannot be opened.")


def reason_of(exc: Exception) -> str:
    """Why a sealed part does not open, for people."""
    if isinstance(exc, NoKeystore):
        return str(REASONS[NO_KEYSTORE])
    if isinstance(exc, NotForMe):
        return str(REASONS[NOT_FOR_ME])
    if isinstance(exc, UnexpectedSigner):
        return str(REASONS[UNEXPECTED_SIGNER])
    if isinstance(exc, TamperedSeal | DigestMismatch):  # a checksum that fails: bytes changed
        return str(REASONS[TAMPERED])
    return _("It cannot be opened.")


def open_for_page(
    box: Mailbox, msg: Message, folder: str, *, text_document: bool = False
) -> SealedView:
    """The page's view of an encrypted message; `text_document`: open it for a preview."""
    box = _knowing_my_box(box)
    try:
        opened = box.opened(msg, folder).sealed
    except NoKeystore as exc:
        problem = Problem(part_name(""), str(REASONS[NO_KEYSTORE]), str(exc))
        return SealedView(_unopened(msg), None, (problem,), frozenset({"*"}))
    assert opened is not None  # an encrypted message is opened, or NoKeystore
    problems = [Problem(part_name(p.field), kind_reason(p.kind), p.reason) for p in opened.problems]
    failed = {p.field for p in opened.problems}
    text = None
    if text_document and opened.ok:
        try:
            text = document_text(box, msg, folder)
        except (EteeError, DigestMismatch) as exc:
            problems.append(Problem(part_name("document"), reason_of(exc), str(exc)))
            failed.add("document")
    return SealedView(_shown(opened), opened, tuple(problems), frozenset(failed), text)


def _shown(opened: OpenedMessage) -> Message:
    """Like `OpenedMessage.shown()`, with None (not an English placeholder) for a failed title."""
    titles = {a.index: a.title for a in opened.annexes}
    annexes = tuple(
        dataclasses.replace(a, title=titles.get(a.index)) for a in opened.message.annexes
    )
    return dataclasses.replace(
        opened.message,
        patient_inss=opened.patient_inss,
        free_information=opened.free_information,
        annexes=annexes,
    )


def _unopened(msg: Message) -> Message:
    annexes = tuple(dataclasses.replace(a, title=None) for a in msg.annexes)
    return dataclasses.replace(msg, patient_inss=None, free_information=None, annexes=annexes)


def shown_original(box: Mailbox, original: Message, folder: str) -> Message:
    """A message to reply to or forward, its sealed fields opened (None where they fail)."""
    if not original.content_specification.is_encrypted:
        return original
    return open_for_page(box, original, folder).message


def sealed_download(
    box: Mailbox, msg: Message, folder: str, index: int | None, *, inline: bool
) -> FlaskResponse | tuple:
    """A sealed document or annex, opened; a clear page when it cannot be opened."""
    try:
        part = _knowing_my_box(box).part(msg, folder, index)
    except NoSuchPart:
        abort(404)
    except (EteeError, DigestMismatch) as exc:
        return _cannot_open(exc, folder, msg.message_id, inline)
    return content_download(part.content, part.download_file_name, part.mime_type, inline=inline)


def _cannot_open(exc: Exception, folder: str, message_id: str, inline: bool):
    reason = reason_of(exc)
    if wants_problem():
        return render_error(422, _l("Cannot be opened"), reason, english=str(exc))
    html = render_template(
        "mailbox/cannot_open.html",
        reason=reason,
        detail=str(exc),
        back=url_for("mailbox.message", folder=folder, message_id=message_id),
    )
    response = FlaskResponse(html, status=422, mimetype="text/html")
    if inline:  # shown in the message page's <iframe>: the page may frame it, nothing may run
        response.headers["Content-Security-Policy"] = SANDBOX_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response
