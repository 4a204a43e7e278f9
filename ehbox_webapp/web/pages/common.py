"""What the mailbox pages share: folder names, URL checks, template filters, error pages.

The eHealthBox client's exceptions carry English sentences (the client knows nothing of
Flask or of languages): the pages show the translated sentence the failure table
(`mailbox/failures.py`) gives the exception's class instead (see `ehealthbox_sentence`).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from urllib.parse import quote

from babel.dates import format_datetime
from flask import abort, g, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from ...ehealth.ehealthbox import (
    MAX_MESSAGE_BYTES,
    ContentSpecification,
    EhealthboxError,
    Forbidden,
    MessageTooLarge,
    NotFound,
    SendOutcomeUnknown,
    Unauthorized,
    Unavailable,
)
from ...ehealth.iam import IamError
from ...mailbox.failures import N_, failure_of
from ...mailbox.rules import is_message_id
from ...stores import StoreUnavailable
from ..caller import ehealthbox
from ..errors import render_error
from ..i18n import current_page_language, language_of_render, skeleton_pattern
from ..login_checks import LoginRequired
from . import boxcache
from .blueprint import bp
from .drafts import megabytes

log = logging.getLogger(__name__)

# The folders' names (source strings; pages draw them from the render's PageLanguage).
FOLDER_WORDS = {
    "INBOX": N_("Inbox"),
    "SENTBOX": N_("Sent"),
    "BININBOX": N_("Bin (received)"),
    "BINSENTBOX": N_("Bin (sent)"),
}
FOLDER_LABELS = {folder: _l(word) for folder, word in FOLDER_WORDS.items()}  # for Python code
# What a receipt (ACKNOWLEDGMENT message) says happened: "Your message was ... by ...".
ACK_WORDS = {"PUBLISHED": N_("published"), "RECEIVED": N_("received"), "READ": N_("read")}
# Route part that only matches the four folders: anything else is a 404 by routing.
FOLDER = "<any(INBOX, SENTBOX, BININBOX, BINSENTBOX):folder>"
MESSAGE = FOLDER + "/<message_id>"
# The only moves eHealthBox allows (cookbook UC-405): to the bin and back.
OTHER_SIDE = {
    "INBOX": "BININBOX",
    "BININBOX": "INBOX",
    "SENTBOX": "BINSENTBOX",
    "BINSENTBOX": "SENTBOX",
}
SENT_FOLDERS = ("SENTBOX", "BINSENTBOX")
BINS = ("BININBOX", "BINSENTBOX")

# The one sentence the pages word their own way: it names the limit.
TOO_LARGE = _l(
    "The message is larger than the eHealthBox accepts (%(limit)s with its "
    "attachments). Nothing was sent: send smaller files."
)


def ehealthbox_sentence(exc: EhealthboxError) -> str:
    """The user's sentence for an eHealthBox failure, in the page's language.

    The client sometimes words a failure for its situation ("The download was
    interrupted..."): that English sentence is kept on English pages; other languages
    get the translated sentence of the exception's class.
    """
    specific = exc.user_message != type(exc).default_message
    if specific and get_locale() is not None and get_locale().language == "en":
        return str(exc)
    if isinstance(exc, MessageTooLarge):  # the platform's limit, or the one measured
        return str(TOO_LARGE) % {"limit": megabytes(exc.limit or MAX_MESSAGE_BYTES)}
    return _(failure_of(exc).message)  # the failure table's sentence, translated


def check_message_id(message_id: str) -> str:
    """A MessageId has exactly 13 letters or digits; anything else is not a page here."""
    if not is_message_id(message_id):
        abort(404)
    return message_id


@bp.app_template_filter("path_segment")
def path_segment(value: str) -> str:
    """`value` as one segment of a URL path (what `url_for` makes of a path variable).

    A folder page links its 25 rows as `url_for('mailbox.folder', ...) ~ '/' ~ id|path_segment`:
    one route build per page instead of one per row.
    """
    return quote(value, safe="")


@bp.app_template_filter("localtime")
@pass_context
def localtime(context: Context, value: datetime | None, with_time: bool = True) -> str:
    """A moment in Brussels time, as the page's language writes the day and the time."""
    return "" if value is None else language_of_render(context).moment(value, with_time)


@bp.app_template_filter("localdate")
def localdate(value: date | None) -> str:
    """A day, all digits with a four-digit year (04/03/2026, 4/3/2026, 04.03.2026).

    CLDR's "short" date has a two-digit year in French and German; a skeleton asks for
    the language's own order and separators with the full year. Its pattern is worked out
    once per locale (`skeleton_pattern`); formatting is then what `format_skeleton` does.
    """
    if value is None:
        return ""
    locale = get_locale()
    return format_datetime(value, skeleton_pattern("yMMdd", str(locale)), locale=locale)


@bp.app_template_filter("filesize")
@pass_context
def filesize(context: Context, size: int | None) -> str:
    if size is None:
        return ""
    page = language_of_render(context)
    if size < 1024:
        return page.word(N_("%(num)s bytes")) % {"num": page.number(size)}
    for unit in ("kB", "MB"):
        size /= 1024
        if size < 1024 or unit == "MB":
            return f"{page.number(size, '#,##0.0')} {unit}"
    return ""  # pragma: no cover


# (word, class) of each flag a message may have, in the order they are shown.
_FLAGS = (
    (N_("unread"), "flag flag-unread"),
    (N_("important"), "flag flag-important"),
    (N_("annex"), "flag"),
    (N_("encrypted"), "flag"),
    (N_("receipt"), "flag"),
    (N_("error"), "flag flag-important"),
    (N_("news"), "flag"),
)
_CONTENT_FLAGS = {"ACKNOWLEDGMENT": "receipt", "ERROR": "error", "NEWS": "news"}


@bp.app_template_filter("flags")
@pass_context
def flags(
    context: Context, spec: ContentSpecification, unread: bool = False, has_annex: bool = False
) -> Markup:
    """A message's flags: `<span class="flags">` holding one `<span class="flag">` each.

    A filter, not a macro: a folder page shows 25 rows of them, and a macro call per row
    costs more than the rest of its cell. Each word is translated once per page
    (the render's PageLanguage).
    """
    page = language_of_render(context)
    shown = {
        "unread": unread,
        "important": spec.is_important,
        "annex": has_annex,
        "encrypted": spec.is_encrypted,
    }
    kind = _CONTENT_FLAGS.get(spec.content_type)
    if kind:
        shown[kind] = True
    spans = "".join(
        f'<span class="{css}">{escape(page.word(word))}</span>'
        for word, css in _FLAGS
        if shown.get(word)
    )
    return Markup(f'<span class="flags">{spans}</span>')  # noqa: S704 - every word escaped


@bp.context_processor
def mailbox_names() -> dict:
    page = current_page_language()
    return {
        "inbox_unread": _inbox_unread,
        "FOLDER_LABELS": {folder: page.word(word) for folder, word in FOLDER_WORDS.items()},
        "SENT_FOLDERS": SENT_FOLDERS,
        "BINS": BINS,
        "ack_events": {event: page.word(word) for event, word in ACK_WORDS.items()},
    }


_NO_UNREAD = "_mailbox_no_unread"  # on `g`: the eHealthBox just failed, do not ask it again


def _inbox_unread() -> int | None:
    """The header's unread count, asked only when a page shows it; never breaks the page.

    Asked once a request: after a failure (eHealthBox, the realm at a refresh, the store),
    an error page's header asks nothing again.
    """
    if g.get("user") is None or g.get(_NO_UNREAD):
        return None
    try:
        return boxcache.inbox_unread(ehealthbox())
    except (EhealthboxError, LoginRequired, IamError, StoreUnavailable):
        setattr(g, _NO_UNREAD, True)
        return None


@bp.errorhandler(EhealthboxError)
def ehealthbox_error(exc: EhealthboxError):
    """A known eHealthBox failure on a page: its user-facing sentence, never a 500."""
    log.info("eHealthBox error on %s %s: %r", request.method, request.path, exc)
    setattr(g, _NO_UNREAD, True)
    sentence = ehealthbox_sentence(exc)
    status = failure_of(exc).status  # the failure table's, as the API answers
    if isinstance(exc, Unauthorized):
        # A page, not a redirect: if eHealthBox keeps refusing, a redirect would loop.
        return render_template(
            "mailbox/login_again.html", detail=sentence, next_url=request.full_path.rstrip("?")
        ), status
    if isinstance(exc, NotFound):
        title = _l("Message not found")
    elif isinstance(exc, Forbidden):
        title = _l("Not allowed")
    elif isinstance(exc, Unavailable | SendOutcomeUnknown):
        title = _l("eHealthBox unavailable")
    else:
        title = _l("eHealthBox error")
    return render_error(status, title, sentence, english=str(exc))
