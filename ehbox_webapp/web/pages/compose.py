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
import secrets
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge

from ...ehealth.ehealthbox import (
    EhealthboxError,
    InvalidDestination,
    Message,
    RecipientOutcome,
    RecipientsOutOfOffice,
    SendResult,
    Unauthorized,
    new_publication_id,
)
from ...ehealth.etee.errors import EteeError
from ...mailbox.drafts import DRAFT_LIFETIME, Draft, has_content
from ...mailbox.failures import KNOWN, failure_of
from ...mailbox.problems import Invalid
from ...mailbox.replies import forward_values, reply_values
from ...mailbox.sending import OriginalUnavailable, draft_problems, send_draft
from ..caller import mailbox
from ..errors import expired_form_page
from ..extensions import services, settings
from ..i18n import language_of, remember_language
from ..limits import send_limit_unless
from ..login_checks import LoginRequired, current_user, handle_login_required, login_required
from . import boxcache, contacts, encrypted_send, picking
from .blueprint import bp
from .common import MESSAGE, check_message_id, ehealthbox_sentence, localdate
from .drafts import megabytes, mine, store
from .encrypted_read import kind_reason, reason_of, shown_original
from .forms import MAX_RECIPIENT_ROWS, ComposeForm

log = logging.getLogger(__name__)

SYSTEM_CONTENT_TYPES = ("ACKNOWLEDGMENT", "ERROR")
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
    """A new message; `?draft=<PublicationId>` refills one kept after a new login, and
    `?parked=<key>` what was typed when the session was lost (see `form_expired`)."""
    draft = store().find(g.user["sub"], request.args.get("draft", ""))
    if draft is not None:  # sent again under its PublicationId: delivered once
        return _render(ComposeForm.from_values(draft.values, draft.publication_id), draft)
    parked = _unpark(request.args.get("parked", ""))
    if parked is not None:
        draft = mine(new_publication_id())
        draft.save(parked)  # from now on a draft of this user, as if saved
        flash(_("Your message was kept while you logged in again. Check it, then send it."))
        return redirect(url_for("mailbox.compose", draft=draft.publication_id))
    return _render(ComposeForm.from_values({}, new_publication_id()))


# How much of a compose form is read before it is refused whole: files over the message's
# limit inside this are refused next to their field, with everything typed kept.
READ_FACTOR = 4


@bp.url_value_preprocessor
def _read_more_of_a_compose_form(endpoint: str | None, _values: dict | None) -> None:
    """A send's body may be larger than the message limit (runs before the CSRF check, which
    reads the form): the draft then refuses the files that do not fit, next to their field."""
    if endpoint == "mailbox.send":
        request.max_content_length = settings().max_upload_bytes * READ_FACTOR


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge):
    """A form too large even to read (Werkzeug stops reading it; nothing was sent): back to
    the draft the autosave kept, if there is one, else a page that says so."""
    log.info("upload refused: over the limit on %s", request.path)
    user = current_user()
    draft = store().find(user["sub"], request.args.get("draft", "")) if user else None
    if draft is None:
        return render_template(
            "mailbox/too_large.html", limit=megabytes(settings().max_upload_bytes)
        ), 413
    flash(
        _(
            "The files were too large to be read: nothing was sent. Your message is kept; "
            "choose smaller files or fewer annexes, then send again."
        ),
        "error",
    )
    return redirect(url_for("mailbox.compose", draft=draft.publication_id))


PARKED_TTL = 3600  # seconds: long enough to log in again, short for text kept without owner


@bp.errorhandler(CSRFError)
def form_expired(exc: CSRFError):
    """A compose form posted with a token the session no longer knows (the session was lost
    or ended): nothing typed is lost.

    Logged in still: the values go into the user's draft, and the form comes back. Logged out:
    they are parked under a random one-time key in the server's store for `PARKED_TTL`
    seconds and the user logs in again, then finds them as a draft. Only a form posted from
    this site's own page is kept (its Origin): another site cannot put words in a user's
    compose form. Files cannot be kept without a session; the page says so.
    """
    if request.endpoint != "mailbox.send" or not _from_this_site():
        return expired_form_page()
    values = ComposeForm(meta={"csrf": False}).values()
    if not has_content(values):
        return expired_form_page()
    user = current_user()
    if user is not None:
        g.user = user
        draft = mine(new_publication_id())
        draft.save(values)
        flash(_("This form had expired: your message was kept. Check it, then send it."))
        return redirect(url_for("mailbox.compose", draft=draft.publication_id))
    key = secrets.token_urlsafe(24)
    services().store.set(f"parked:{key}", {"values": values}, PARKED_TTL)
    return handle_login_required(LoginRequired(url_for("mailbox.compose", parked=key)))


def _unpark(key: str) -> dict | None:
    """The values parked under `key`, once (the key then names nothing)."""
    if not key or len(key) > 64:
        return None
    entry = services().store.get(f"parked:{key}")
    services().store.delete(f"parked:{key}")
    values = entry.get("values") if isinstance(entry, dict) else None
    return values if isinstance(values, dict) else None


def _from_this_site() -> bool:
    """The request came from one of this site's pages.

    The browser says so in Sec-Fetch-Site, which no page can set. Its Origin does not: under
    this site's `Referrer-Policy: no-referrer` a browser posts a form with `Origin: null` and
    no Referer, its own pages' forms included. Without Sec-Fetch-Site (an older browser, a
    script), the Origin, or the Referer, names this site.
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    here = urlsplit(request.host_url)
    sent = request.headers.get("Origin") or request.headers.get("Referer") or ""
    there = urlsplit(sent)
    return (there.scheme, there.netloc) == (here.scheme, here.netloc)


@bp.post("/compose/autosave")
@login_required
def autosave():
    """The compose page's script keeps the fields as they are typed (files wait for a submit).

    CSRF is checked for every POST (CSRFProtect); the script sends the form's token.
    """
    form = ComposeForm()
    mine(form.publication_id.data).save(form.values())
    return "", 204


@bp.get("/drafts")
@login_required
def drafts_list():
    """The user's kept drafts, the last changed first: open one to go on, or delete it."""
    return render_template(
        "mailbox/drafts.html",
        drafts=store().list(g.user["sub"]),
        lifetime_days=DRAFT_LIFETIME // (24 * 3600),
    )


@bp.post("/drafts/<publication_id>/delete")
@login_required
def delete_draft(publication_id: str):
    draft = store().find(g.user["sub"], publication_id)
    if draft is None:
        abort(404)
    draft.delete()
    flash(_("Draft deleted."))
    return redirect(url_for("mailbox.drafts_list"))


@bp.post("/drafts/delete")
@login_required
def delete_drafts():
    """The drafts ticked in the list, deleted at once (a key that names none is skipped)."""
    found = [store().find(g.user["sub"], key) for key in request.form.getlist("draft")]
    doomed = [d for d in found if d is not None]
    for draft in doomed:
        draft.delete()
    if doomed:
        flash(ngettext("%(num)d draft deleted.", "%(num)d drafts deleted.", len(doomed)))
    else:
        flash(_("Tick the drafts to delete first."), "error")
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
    heading = _(
        "On %(date)s, %(sender)s wrote:",
        date=localdate(original.publication_date),
        sender=original.sender.display_name,
    )
    me = boxcache.my_box(mailbox()) if everyone else None
    values = reply_values(original, heading=heading, me=me, everyone=everyone)
    form = ComposeForm.from_values(values, new_publication_id())
    return _render(form, heading=_("Reply to all") if everyone else _("Reply"))


@bp.get(f"/{MESSAGE}/forward")
@login_required
def forward(folder: str, message_id: str):
    original = _original(folder, message_id)
    form = ComposeForm.from_values(forward_values(original, folder), new_publication_id())
    return _render(form, original=original, heading=_("Forward"))


def _arranging() -> bool:
    """The post arranges the form (a search, a pick, Remove, one more row, Save draft, the
    language switch): it sends nothing, so it does not count as a send."""
    form = request.form
    return (
        picking.asked()
        or picking.removing() is not None
        or any(form.get(button) for button in ("add_recipient", "save_draft", "lang"))
    )


@bp.post("/compose")
@login_required
@send_limit_unless(_arranging)
def send():
    form = ComposeForm()
    draft = mine(form.publication_id.data)
    upload_problems = _keep_uploads(form, draft)
    # Everything typed is kept before anything else happens: a crash or a lost answer from
    # here on leaves the draft complete, under the PublicationId that delivers it once. A
    # search for a recipient or one more row makes no draft of a form nobody wrote in yet.
    finding = picking.asked()
    arranging = finding or form.add_recipient.data or picking.removing() is not None
    if not arranging or draft.exists:
        draft.save(form.values())
    language = language_of(request.form.get("lang"))
    if language is not None:  # the header's language switch, pressed while composing
        resume = redirect(url_for("mailbox.compose", draft=draft.publication_id))
        return remember_language(resume, language)
    if form.save_draft.data:
        flash(_("Draft saved. You find it under Drafts."))
        return redirect(url_for("mailbox.compose", draft=draft.publication_id))
    if finding:
        return _add_found(form, draft, upload_problems)
    if picking.removing() is not None:
        return _remove_recipient(form, draft, picking.removing())
    if form.add_recipient.data:
        if len(form.recipients) < MAX_RECIPIENT_ROWS:
            form.recipients.append_entry()
        form.show_problems(upload_problems, has_document=draft.document is not None)
        return _render(form, draft)
    if upload_problems:  # a file the user chose was not kept: nothing is sent without it
        problems = [*upload_problems, *draft_problems(draft)]
        form.show_problems(problems, has_document=draft.document is not None)
        return _render(form, draft, status=422)
    resume = url_for("mailbox.compose", draft=draft.publication_id)
    try:
        result = _publish(draft)
    except Invalid as exc:  # the mailbox's checks, the same as for an /api/v1 send
        form.show_problems(exc.problems, has_document=draft.document is not None)
        return _render(form, draft, status=422)
    except LoginRequired:
        raise LoginRequired(resume) from None
    except OriginalUnavailable as exc:
        form.top_errors.append(_original_sentence(exc))
        return _render(form, draft, status=_status(exc.cause))
    except EhealthboxError as exc:
        return _render(
            form,
            draft,
            absences=_explain(form, exc),
            status=_status(exc),
            login_again=resume if isinstance(exc, Unauthorized) else None,
        )
    except EteeError as exc:  # a key missing or unreachable: raised before anything is sent
        return _render(form, draft, status=encrypted_send.explain(form, exc))
    _flash_sent(result)
    return redirect(url_for("mailbox.message", folder="SENTBOX", message_id=result.message_id))


def _add_found(form: ComposeForm, draft: Draft, upload_problems: list):
    """The address book's search (works without JavaScript): one match fills a row."""
    form.show_problems(upload_problems, has_document=draft.document is not None)
    search = picking.find_person(form.recipients, MAX_RECIPIENT_ROWS)
    if search.found is not None:
        return _render(form, draft, found=search.found, find_text=search.text)
    if search.already is not None:
        form.recipient_errors.append(
            _("%(who)s is a recipient already.", who=picking.who(search.already))
        )
    elif search.full:
        form.recipient_errors.append(_("At most %(max)s recipients.", max=MAX_RECIPIENT_ROWS))
    elif draft.exists:
        draft.save(form.values())
    return _render(form, draft)


def _remove_recipient(form: ComposeForm, draft: Draft, index: str):
    """A picked recipient taken off (the row's posted index): the form again, without them."""
    picking.remove_person(form.recipients, index)
    if draft.exists:
        draft.save(form.values())
    return _render(form, draft)


def _publish(draft: Draft) -> SendResult:
    box = mailbox()
    box.sender_box = functools.partial(boxcache.my_box, box.client)  # kept briefly per user
    recipients = draft.recipients
    try:
        result = send_draft(box, draft)
    except BaseException:  # a send whose answer was lost may have changed the box: forget all
        boxcache.forget()
        raise
    boxcache.sent(recipients)  # only what a send changes: the sent folder, the box size
    return result


def _keep_uploads(form: ComposeForm, draft: Draft) -> list:
    """Apply the "remove" ticks, then keep the new uploads; returns the refusals (problems)."""
    draft.remove(form.remove_kept.data or ())
    form.remove_kept.data = []
    problems = []
    uploads = [("document", form.document.data)] if form.document.data else []
    uploads += [("annex", upload) for upload in form.annexes.data or () if upload]
    for role, upload in uploads:
        try:
            draft.keep(upload.stream, upload.filename, upload.mimetype, role)
        except Invalid as exc:
            problems += exc.problems
    return problems


def _original_sentence(exc: OriginalUnavailable) -> str:
    """Why the original of a forward could not go along, in the page's language."""
    if exc.sealed:
        reason = reason_of(exc.cause) if exc.cause is not None else kind_reason(exc.kind or "")
        return _(
            "The forwarded message is encrypted and cannot be opened: %(reason)s", reason=reason
        )
    return _(
        "The files of the forwarded message could not be fetched: %(reason)s",
        reason=ehealthbox_sentence(exc.cause),
    )


def _explain(form: ComposeForm, exc: EhealthboxError) -> dict[int, RecipientOutcome]:
    """Put a send failure on the form: at the top, and next to the recipients it names.

    Returns the out-of-office recipients by row index (as the rows' field names number
    them), for the "send anyway" boxes.
    """
    log.info("send refused or failed: %r", exc)
    form.top_errors.append(ehealthbox_sentence(exc))
    rows = [(int(e.name.rpartition("-")[2]), e.form) for e in form.recipients]
    absences: dict[int, RecipientOutcome] = {}
    if isinstance(exc, InvalidDestination):
        field_name, sentence = REFUSAL_BY_CODE.get(exc.code or "", REFUSAL_BY_CODE["802"])
        for box in exc.recipients:
            for _index, row in rows:
                if row.matches(box.id, box.type, box.quality):
                    getattr(row, field_name).errors.append(str(sentence))
    elif isinstance(exc, RecipientsOutOfOffice):
        # The substitutes by name, though the sender may never have written to them.
        contacts.name_boxes(s for outcome in exc.recipients for s in outcome.substitutes)
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


def _status(exc: Exception | None) -> int:
    """The failure table's status for `exc`, as the API answers it (422 for anything else)."""
    return failure_of(exc).status if isinstance(exc, KNOWN) else 422


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
                    box=contacts.person_text(outcome.box),
                )
            )
        if outcome.absent_to:
            flash(
                _(
                    "%(box)s is out of office until %(date)s.",
                    box=contacts.person_text(outcome.box),
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


def too_many_sends(count: int, window: int, retry_after: str):
    """A send refused by the rate limit: the form comes back as typed (files kept), unsent."""
    form = ComposeForm()
    try:
        draft = store().open(g.user["sub"], form.publication_id.data or "")
    except ValueError:  # not a form this site issued: nothing of it is kept
        draft = None
    else:
        _keep_uploads(form, draft)
        draft.save(form.values())
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
    return _render(form, draft, status=429, find_text=picking.search_text())


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
        address_book=contacts.offered(),
        found=found,
        find_text=find_text,
        heading=heading,
    ), status
