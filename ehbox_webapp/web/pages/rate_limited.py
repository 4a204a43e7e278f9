"""The mailbox pages' 429: a send over the limit gets the compose form back as typed (files
kept, nothing sent), any other action the rate-limited page."""

from __future__ import annotations

from flask import request
from flask_limiter import RateLimitExceeded

from ..limits import RATE_LIMITED_PAGE, limited, limited_page, with_retry_after
from .blueprint import bp
from .compose import too_many_sends


@bp.errorhandler(RateLimitExceeded)
def too_many_requests(exc: RateLimitExceeded):
    limit = limited(exc)
    if request.endpoint == "mailbox.send":
        return with_retry_after(too_many_sends(limit.count, limit.window, limit.retry_after), limit)
    return limited_page(RATE_LIMITED_PAGE, limit)
