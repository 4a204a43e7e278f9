"""What the mailbox pages share: folder names, URL checks, template filters, error pages."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import abort, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from ...ehealth.ehealthbox import (
    EhealthboxError,
    Forbidden,
    NotFound,
    SendOutcomeUnknown,
    Unauthorized,
    Unavailable,
)
from ..errors import render_error
from ..extensions import settings
from . import bp
from .drafts import megabytes

log = logging.getLogger(__name__)

FOLDER_LABELS = {
    "INBOX": "Inbox",
    "SENTBOX": "Sent",
    "BININBOX": "Bin (received)",
    "BINSENTBOX": "Bin (sent)",
}
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

try:  # the users are in Belgium; fall back to UTC where the system has no time zone data
    LOCAL_TIME = ZoneInfo("Europe/Brussels")
except ZoneInfoNotFoundError:  # pragma: no cover - depends on the system's tzdata
    LOCAL_TIME = UTC


def check_message_id(message_id: str) -> str:
    """A MessageId has exactly 13 letters or digits; anything else is not a page here."""
    if not MESSAGE_ID.match(message_id):
        abort(404)
    return message_id


@bp.app_template_filter("localtime")
def localtime(value: datetime | None, with_time: bool = True) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TIME).strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")


@bp.app_template_filter("filesize")
def filesize(size: int | None) -> str:
    if size is None:
        return ""
    for unit in ("bytes", "kB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""  # pragma: no cover


@bp.context_processor
def mailbox_names() -> dict:
    return {"FOLDER_LABELS": FOLDER_LABELS, "SENT_FOLDERS": SENT_FOLDERS, "BINS": BINS}


@bp.errorhandler(EhealthboxError)
def ehealthbox_error(exc: EhealthboxError):
    """A known eHealthBox failure on a page: its user-facing sentence, never a 500."""
    log.info("eHealthBox error on %s %s: %r", request.method, request.path, exc)
    if isinstance(exc, Unauthorized):
        # A page, not a redirect: if eHealthBox keeps refusing, a redirect would loop.
        return render_template(
            "mailbox/login_again.html", detail=str(exc), next_url=request.full_path.rstrip("?")
        ), 401
    if isinstance(exc, NotFound):
        return render_error(404, "Message not found", str(exc))
    if isinstance(exc, Forbidden):
        return render_error(403, "Not allowed", str(exc))
    if isinstance(exc, Unavailable | SendOutcomeUnknown):
        return render_error(503, "eHealthBox unavailable", str(exc))
    return render_error(502, "eHealthBox error", str(exc))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge):
    """The upload is over the limit: Werkzeug stops reading it, nothing was sent."""
    log.info("upload refused: over the limit on %s", request.path)
    return render_template(
        "mailbox/too_large.html", limit=megabytes(settings().max_upload_bytes)
    ), 413
