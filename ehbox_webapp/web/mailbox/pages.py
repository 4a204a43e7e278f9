"""What the mailbox pages share: folder names, URL checks, template filters, error pages.

The eHealthBox client's exceptions carry English sentences (the client knows nothing of
Flask or of languages): the pages show the translated sentence of the exception's class
from `EHEALTHBOX_SENTENCES` instead (see `ehealthbox_sentence`).
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime

from babel.dates import format_datetime
from flask import abort, g, render_template, request
from flask_babel import format_decimal, format_number, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from ...ehealth.ehealthbox import (
    MAX_MESSAGE_BYTES,
    EhealthboxError,
    Forbidden,
    NotFound,
    SendOutcomeUnknown,
    Unauthorized,
    Unavailable,
)
from ...ehealth.ehealthbox import errors as ehbox
from ..auth import LoginRequired
from ..caller import ehealthbox
from ..errors import render_error
from ..extensions import settings
from ..i18n import local_day_and_time, skeleton_pattern
from . import boxcache, bp
from .drafts import megabytes

log = logging.getLogger(__name__)

FOLDER_LABELS = {
    "INBOX": _l("Inbox"),
    "SENTBOX": _l("Sent"),
    "BININBOX": _l("Bin (received)"),
    "BINSENTBOX": _l("Bin (sent)"),
}
# What a receipt (ACKNOWLEDGMENT message) says happened: "Your message was ... by ...".
ACK_EVENTS = {"PUBLISHED": _l("published"), "RECEIVED": _l("received"), "READ": _l("read")}
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
MESSAGE_ID = re.compile(r"^[A-Za-z0-9]{13}$")  # system-generated, exactly 13 (XSD v3)

# Exception class -> its sentence for the user, most specific class first. These are the
# client's default sentences (ehealth/ehealthbox/errors.py), translated here.
EHEALTHBOX_SENTENCES: tuple[tuple[type[EhealthboxError], object], ...] = (
    (
        ehbox.SendOutcomeUnknown,
        _l(
            "We could not confirm that the message was sent. Sending it "
            "again is safe: it will be delivered only once."
        ),
    ),
    (ehbox.RecipientsOutOfOffice, _l("Some recipients are out of office. Nothing was sent yet.")),
    (ehbox.InvalidDestination, _l("One of the recipients is not a valid eHealthBox address.")),
    (
        ehbox.MessageTooLarge,
        _l(
            "The message is larger than the eHealthBox accepts (%(limit)s with its "
            "attachments). Nothing was sent: send smaller files."
        ),
    ),
    (
        ehbox.DigestMismatch,
        _l(
            "A file was damaged on its way to the eHealthBox (its checksum "
            "does not match). Please send the message again."
        ),
    ),
    (ehbox.QualityNotAllowed, _l("You are not authorised to send messages to this quality.")),
    (
        ehbox.InvalidBox,
        _l("There is no eHealthBox for your identity, or you have no access to it."),
    ),
    (ehbox.Forbidden, _l("You are not allowed to do this in the eHealthBox.")),
    (ehbox.NotFound, _l("This message no longer exists in that folder.")),
    (ehbox.Unauthorized, _l("Your eHealth session is no longer valid. Please log in again.")),
    (ehbox.BadRequest, _l("The eHealthBox rejected the request as malformed.")),
    (
        ehbox.Unavailable,
        _l("The eHealthBox is not available at the moment. Please try again later."),
    ),
    (ehbox.EhealthboxError, _l("The eHealthBox could not process the request.")),
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
    sentence = next((s for cls, s in EHEALTHBOX_SENTENCES if isinstance(exc, cls)), None)
    if isinstance(exc, ehbox.MessageTooLarge):  # the platform's limit, or the one measured
        return str(sentence) % {"limit": megabytes(exc.limit or MAX_MESSAGE_BYTES)}
    return str(sentence) if sentence is not None else str(exc)


def check_message_id(message_id: str) -> str:
    """A MessageId has exactly 13 letters or digits; anything else is not a page here."""
    if not MESSAGE_ID.match(message_id):
        abort(404)
    return message_id


@bp.app_template_filter("localtime")
def localtime(value: datetime | None, with_time: bool = True) -> str:
    """A moment in Brussels time, as the page's language writes the day and the time."""
    return "" if value is None else local_day_and_time(value, with_time)


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
def filesize(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return _("%(num)s bytes", num=format_number(size))
    for unit in ("kB", "MB"):
        size /= 1024
        if size < 1024 or unit == "MB":
            return f"{format_decimal(size, '#,##0.0')} {unit}"
    return ""  # pragma: no cover


@bp.context_processor
def mailbox_names() -> dict:
    return {
        "inbox_unread": _inbox_unread,
        "FOLDER_LABELS": FOLDER_LABELS,
        "SENT_FOLDERS": SENT_FOLDERS,
        "BINS": BINS,
        "ack_events": ACK_EVENTS,
    }


_NO_UNREAD = "_mailbox_no_unread"  # on `g`: the eHealthBox just failed, do not ask it again


def _inbox_unread() -> int | None:
    """The header's unread count, asked only when a page shows it; never breaks the page."""
    if g.get("user") is None or g.get(_NO_UNREAD):
        return None
    try:
        return boxcache.inbox_unread(ehealthbox())
    except (EhealthboxError, LoginRequired):
        return None


@bp.errorhandler(EhealthboxError)
def ehealthbox_error(exc: EhealthboxError):
    """A known eHealthBox failure on a page: its user-facing sentence, never a 500."""
    log.info("eHealthBox error on %s %s: %r", request.method, request.path, exc)
    setattr(g, _NO_UNREAD, True)
    sentence = ehealthbox_sentence(exc)
    if isinstance(exc, Unauthorized):
        # A page, not a redirect: if eHealthBox keeps refusing, a redirect would loop.
        return render_template(
            "mailbox/login_again.html", detail=sentence, next_url=request.full_path.rstrip("?")
        ), 401
    if isinstance(exc, NotFound):
        return render_error(404, _l("Message not found"), sentence, english=str(exc))
    if isinstance(exc, Forbidden):
        return render_error(403, _l("Not allowed"), sentence, english=str(exc))
    if isinstance(exc, Unavailable | SendOutcomeUnknown):
        return render_error(503, _l("eHealthBox unavailable"), sentence, english=str(exc))
    return render_error(502, _l("eHealthBox error"), sentence, english=str(exc))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge):
    """The upload is over the limit: Werkzeug stops reading it, nothing was sent."""
    log.info("upload refused: over the limit on %s", request.path)
    return render_template(
        "mailbox/too_large.html", limit=megabytes(settings().max_upload_bytes)
    ), 413
