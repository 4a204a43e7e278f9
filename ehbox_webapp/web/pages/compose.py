"""Compose, reply, forward and send, without losing anything on the way.

The form gets its PublicationId when it is first shown (a hidden field). Every
POST keeps the uploaded files in a server-side draft (`drafts.py`), so when
eHealthBox refuses, is unavailable or its answer is lost, the form comes back
filled in with the files still attached; sending again with the same
PublicationId cannot deliver twice, because eHealthBox delivers a PublicationId
once. If the login has expired meanwhile, the fields are kept too and the user
comes back to them after logging in again.
"""

from __future__ import annotations

import functools
import logging
from contextlib import ExitStack

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from ...ehealth.ehealthbox import (
    BoxId,
    EhealthboxError,
    InvalidDestination,
    Message,
    RecipientOutcome,
    RecipientsOutOfOffice,
    SendOutcomeUnknown,
    SendResult,
    Unauthorized,
    Unavailable,
    new_publication_id,
)
from ...ehealth.etee.errors import EteeError
from ...mailbox.addressbook import find, label
from ...mailbox.outgoing import Outgoing
from ...mailbox.rules import is_publication_id
from ..caller import mailbox
from ..extensions import settings
from ..i18n import language_of, remember_language
from ..limits import send_limit
from ..login_checks import LoginRequired, login_required
from . import boxcache, contacts, drafts, encrypted_send
from .blueprint import bp
from .common import MESSAGE, check_message_id, ehealthbox_sentence, localdate
from .drafts import Draft, DraftError, megabytes
from .encrypted_read import shown_original
from .forms import MAX_RECIPIENT_ROWS, ComposeForm
from .outgoing import OriginalUnavailable, build_message

log = logging.getLogger(__name__)

SYSTEM_CONTENT_TYPES = ("ACKNOWLEDGMENT", "ERROR")
NOT_KEPT_FIELDS = {"csrf_token", "send", "save_draft", "add_recipient", "remove_kept", "lang"}
NOT_KEPT_FIELDS |= {"find", "add_found", "pick"}  # the address book's search
# The field next to which a refused recipient's problem is shown, per eHealthBox code.
REFUSAL_BY_CODE = {
    "802": ("identifier", _l("eHealthBox knows no box with this identifier.")),
    "803": ("quality", _l("eHealthBox has no box with this identifier and quality.")),
    "804": ("type", _l("eHealthBox refuses this identifier type for this quality.")),
    "805": ("type", _l("eHealthBox refuses this identifier type for this quality.")),
}


@bp.get("/compose")
@login_required
def compose():
    """A new message; `?draft=<PublicationId>` refills one kept after a new login."""
    draft_id = request.args.get("draft", "")
    if is_publication_id(draft_id):
        draft = _draft(draft_id)
        if draft.exists:
            form = ComposeForm(formdata=MultiDict(draft.fields))
            form.publication_id.data = draft.publication_id  # sent again: delivered once
            return _render(form, draft)
    form = ComposeForm(formdata=None)
    form.publication_id.data = new_publication_id()
    return _render(form)


@bp.post("/compose/autosave")
@login_required
def autosave():
    """The compose page's script keeps the fields as they are typed (files wait for a submit).

    CSRF is checked for every POST (CSRFProtect); the script sends the form's token.
    """
    _draft(request.form.get("publication_id")).save_fields(_kept_fields())
    return "", 204


@bp.get("/drafts")
@login_required
def drafts_list():
    """The user's kept drafts, the last changed first: open one to go on, or delete it."""
    return render_template(
        "mailbox/drafts.html",
        drafts=drafts.list_for_user(),
        lifetime_days=drafts.DRAFT_LIFETIME // (24 * 3600),
    )


@bp.post("/drafts/<publication_id>/delete")
@login_required
def delete_draft(publication_id: str):
    _draft(publication_id).delete()
    flash(_("Draft deleted."))
    return redirect(url_for("mailbox.drafts_list"))


@bp.get(f"/{MESSAGE}/reply")
@login_required
def reply(folder: str, message_id: str):
    """An answer to the sender, titled "Re: ...", quoting the original's text."""
    return _reply(folder, message_id, everyone=False)


@bp.get(f"/{MESSAGE}/reply-all")
@login_required
def reply_all(folder: str, message_id: str):
    """An answer to the sender and the original's other recipients (never to oneself)."""
    return _reply(folder, message_id, everyone=True)


def _reply(folder: str, message_id: str, *, everyone: bool):
    original = _original(folder, message_id)
    form = _new_form(original, "Re: ")
    sender = original.sender
    boxes = [BoxId(sender.id, sender.type, sender.quality, sender.sub_type)]
    if everyone:
        me = boxcache.my_box(mailbox())
        boxes += [d for d in original.destinations if (d.id, d.type) != (me.id, me.type)]
    boxes = list(dict.fromkeys(boxes))[:MAX_RECIPIENT_ROWS]
    while len(form.recipients) < len(boxes):
        form.recipients.append_entry()
    for entry, box in zip(form.recipients, boxes, strict=False):
        row = entry.form
        row.type.data, row.identifier.data, row.quality.data = box.type, box.id, box.quality
    form.text.data = _quoted(original)
    return _render(form, heading=_("Reply to all") if everyone else _("Reply"))


def _quoted(original: Message) -> str:
    """The original's text, each line after "> ", under who wrote it and when."""
    info = original.free_information
    if info is None:
        return ""
    text = info.text if not info.is_table else "\n".join(f"{r.left}: {r.right}" for r in info.rows)
    head = _(
        "On %(date)s, %(sender)s wrote:",
        date=localdate(original.publication_date),
        sender=original.sender.display_name,
    )
    return "\n\n" + head + "\n" + "\n".join(f"> {line}" for line in (text or "").splitlines())


@bp.get(f"/{MESSAGE}/forward")
@login_required
def forward(folder: str, message_id: str):
    original = _original(folder, message_id)
    form = _new_form(original, "Fwd: ")
    form.forward_folder.data, form.forward_message_id.data = folder, message_id
    info = original.free_information
    if info is not None:
        form.free_text.data = (
            info.text
            if not info.is_table
            else "\n".join(f"{row.left}: {row.right}" for row in info.rows)
        )
    return _render(form, original=original)


@bp.post("/compose")
@login_required
@send_limit
def send():
    form = ComposeForm()
    draft = _draft(form.publication_id.data)
    upload_errors = _keep_uploads(form, draft)
    # Every field is kept before anything else happens: a crash or a lost answer from here
    # on leaves the draft complete, under the PublicationId that delivers it once.
    draft.save_fields(_kept_fields())
    language = language_of(request.form.get("lang"))
    if language is not None:  # the header's language switch, pressed while composing
        resume = redirect(url_for("mailbox.compose", draft=draft.publication_id))
        return remember_language(resume, language)
    if form.save_draft.data:
        flash(_("Draft saved. You find it under Drafts."))
        return redirect(url_for("mailbox.compose", draft=draft.publication_id))
    if request.form.get("add_found") or request.form.get("pick"):
        return _add_found(form, draft)
    if form.add_recipient.data:
        if len(form.recipients) < MAX_RECIPIENT_ROWS:
            form.recipients.append_entry()
        _show_upload_errors(form, upload_errors)
        return _render(form, draft)
    valid = form.validate_message(has_document=draft.document is not None)
    _show_upload_errors(form, upload_errors)  # after validate(), which resets the errors
    if not valid or upload_errors:
        return _render(form, draft, status=422)
    try:
        result = _publish(form, draft)
    except LoginRequired:
        raise LoginRequired(url_for("mailbox.compose", draft=draft.folder.name)) from None
    except (EhealthboxError, OriginalUnavailable) as exc:
        resume = url_for("mailbox.compose", draft=draft.folder.name)
        return _render(
            form,
            draft,
            absences=_explain(form, exc),
            status=_status(exc),
            login_again=resume if isinstance(exc, Unauthorized) else None,
        )
    except EteeError as exc:  # a key missing or unreachable: raised before anything is sent
        return _render(form, draft, status=encrypted_send.explain(form, exc))
    draft.delete()
    _flash_sent(result)
    return redirect(url_for("mailbox.message", folder="SENTBOX", message_id=result.message_id))


def _add_found(form: ComposeForm, draft: Draft):
    """The address book's search (works without JavaScript): one match fills a row."""
    book = contacts.contacts()
    pick = request.form.get("pick", "")
    text = request.form.get("find", "")
    found = [c for c in book if c.key == pick] if pick else find(book, text)
    if len(found) != 1:
        return _render(form, draft, found=found, find_text=text)
    rows = [entry.form for entry in form.recipients]
    row = next((r for r in rows if r.is_blank), None)
    if row is None and len(form.recipients) < MAX_RECIPIENT_ROWS:
        row = form.recipients.append_entry().form
    if row is not None:
        box = found[0].box
        row.type.data, row.identifier.data, row.quality.data = box.type, box.id, box.quality
        draft.save_fields(_form_fields(form))
    return _render(form, draft)


def _form_fields(form: ComposeForm) -> list[tuple[str, str]]:
    """The kept fields with the recipient rows as the form now holds them."""
    rows = [entry.form for entry in form.recipients]
    kept = [(k, v) for k, v in _kept_fields() if not k.startswith("recipients-")]
    for index, row in enumerate(rows):
        for name in ("type", "identifier", "quality"):
            kept.append((f"recipients-{index}-{name}", getattr(row, name).data or ""))
        if row.send_anyway.data:
            kept.append((f"recipients-{index}-send_anyway", "y"))
    return kept


def _publish(form: ComposeForm, draft: Draft) -> SendResult:
    box = mailbox()
    box.sender_box = functools.partial(boxcache.my_box, box.client)  # kept briefly per user
    try:
        with ExitStack() as files:
            message = build_message(form, draft, files, box)
            return box.send(Outgoing(message, encrypted=bool(form.encrypt.data)))
    finally:  # even a send whose answer was lost may have changed the counts and the box size
        boxcache.forget()


def _draft(publication_id: str | None) -> Draft:
    try:
        return drafts.for_user(publication_id or "", settings().max_upload_bytes)
    except ValueError:
        abort(400, _("This form is not one this site issued. Open “Write a message” again."))


def _keep_uploads(form: ComposeForm, draft: Draft) -> dict[str, list[str]]:
    """Apply the "remove" ticks, then keep the new uploads; returns the refusals per field."""
    draft.remove(form.remove_kept.data or ())
    form.remove_kept.data = []
    errors: dict[str, list[str]] = {}
    uploads = [("document", form.document.data)] if form.document.data else []
    uploads += [("annexes", upload) for upload in form.annexes.data or () if upload]
    for field_name, upload in uploads:
        try:
            draft.keep(upload, "document" if field_name == "document" else "annex")
        except DraftError as exc:
            errors.setdefault(field_name, []).append(str(exc))
    return errors


def _show_upload_errors(form: ComposeForm, upload_errors: dict[str, list[str]]) -> None:
    for field_name, errors in upload_errors.items():
        field = getattr(form, field_name)
        field.errors = [*field.errors, *errors]


def _kept_fields() -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.form.items(multi=True) if k not in NOT_KEPT_FIELDS]


def _explain(form: ComposeForm, exc: Exception) -> dict[int, RecipientOutcome]:
    """Put a send failure on the form: at the top, and next to the recipients it names.

    Returns the out-of-office recipients by row index, for the "send anyway" boxes.
    """
    log.info("send refused or failed: %r", exc)
    form.top_errors.append(
        str(exc) if isinstance(exc, OriginalUnavailable) else ehealthbox_sentence(exc)
    )
    rows = list(enumerate(row.form for row in form.recipients))
    absences: dict[int, RecipientOutcome] = {}
    if isinstance(exc, InvalidDestination):
        field_name, sentence = REFUSAL_BY_CODE.get(exc.code or "", REFUSAL_BY_CODE["802"])
        for box in exc.recipients:
            for _index, row in rows:
                if row.matches(box.id, box.type, box.quality):
                    getattr(row, field_name).errors.append(str(sentence))
    elif isinstance(exc, RecipientsOutOfOffice):
        for outcome in exc.recipients:
            box = outcome.box
            absences.update(
                {i: outcome for i, row in rows if row.matches(box.id, box.type, box.quality)}
            )
        form.top_errors.append(
            _(
                "Tick “send anyway” for each recipient below who may receive "
                "it anyway, or add a substitute as a recipient, then send again."
            )
        )
    return absences


def _status(exc: Exception) -> int:
    if isinstance(exc, Unauthorized):
        return 401
    return 503 if isinstance(exc, Unavailable | SendOutcomeUnknown) else 422


def _flash_sent(result: SendResult) -> None:
    flash(_("Message sent."))
    if result.replayed:
        # The first attempt reached eHealthBox: that version was delivered, once.
        flash(
            _(
                "eHealthBox had already received this message at an earlier attempt: it was "
                "delivered once, as it was first sent."
            )
        )
    for outcome in result.recipients:
        if outcome.stand_by:
            flash(
                _(
                    "The box of %(box)s is full: the message waits until there is room.",
                    box=outcome.box,
                )
            )
        if outcome.absent_to:
            flash(
                _(
                    "%(box)s is out of office until %(date)s.",
                    box=outcome.box,
                    date=localdate(outcome.absent_to),
                )
            )


def _original(folder: str, message_id: str) -> Message:
    """The message answered or forwarded, its sealed fields opened (None where they fail)."""
    check_message_id(message_id)
    client = mailbox()
    original = client.get_message(message_id, folder)
    if original.content_specification.content_type in SYSTEM_CONTENT_TYPES:
        abort(404)  # system messages come from the platform: nobody to answer
    return shown_original(client, original, folder)


def _new_form(original: Message, prefix: str) -> ComposeForm:
    form = ComposeForm(formdata=None)
    form.publication_id.data = new_publication_id()
    form.encrypt.data = original.content_specification.is_encrypted  # answered as it came
    title = original.document.title if original.document else ""
    form.title.data = title if title.lower().startswith(prefix.lower()) else (prefix + title)[:400]
    form.patient_inss.data = original.patient_inss
    return form


def too_many_sends(count: int, window: int, retry_after: str):
    """A send refused by the rate limit: the form comes back as typed (files kept), unsent."""
    form = ComposeForm()
    try:
        draft = drafts.for_user(form.publication_id.data or "", settings().max_upload_bytes)
    except ValueError:  # not a form this site issued: nothing of it is kept
        draft = None
    else:
        _keep_uploads(form, draft)
        draft.save_fields(_kept_fields())
    flash(
        _(
            "You did this more than %(count)s times in %(window)s seconds. Please wait "
            "%(retry_after)s seconds and try again. Nothing you were writing was sent twice.",
            count=count,
            window=window,
            retry_after=retry_after,
        ),
        "error",
    )
    return _render(form, draft, status=429)


def _render(
    form: ComposeForm,
    draft: Draft | None = None,
    *,
    absences: dict[int, RecipientOutcome] | None = None,
    original: Message | None = None,
    login_again: str | None = None,
    status: int = 200,
    found: list | None = None,
    find_text: str = "",
    heading: str | None = None,
):
    """The compose page; `login_again` is where to come back after a new login."""
    return render_template(
        "mailbox/compose.html",
        form=form,
        kept=draft.files if draft else [],
        absences=absences or {},
        original=original,
        login_again=login_again,
        limit=megabytes(settings().max_upload_bytes),
        no_encryption=encrypted_send.encryption_unavailable(mailbox()),
        clear_fields_warning=encrypted_send.CLEAR_FIELDS_WARNING,
        address_book=_address_book(),
        contact_label=label,
        found=found,
        find_text=find_text,
        heading=heading,
    ), status


def _address_book() -> list:
    try:
        return contacts.contacts()
    except EhealthboxError:  # the page still works: rows are typed by hand
        return []
