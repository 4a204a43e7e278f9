"""One structured log line per request, with a request id that travels to eHealth.

The request id comes from the caller's `X-Request-Id` when it is a sane value,
else a new one; it is returned in the response header and sent on every
eHealth call made while serving the request, so a support ticket can follow
one click from the browser to eHealthBox. The user appears as a pseudonym
(a keyed hash of `sub`), never by name, SSIN or token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
import uuid

from flask import Flask, Response, current_app, g, request, session

from ..ehealth.http import REQUEST_ID
from .extensions import settings

log = logging.getLogger("ehbox_webapp.access")
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def pseudonym(sub: str | None) -> str | None:
    if not sub:
        return None
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, sub.encode(), hashlib.sha256).hexdigest()[:16]


def start() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if _SANE_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()
    g.request_id_token = REQUEST_ID.set(g.request_id)


def finish(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id", "")
    if request.endpoint == "static" and settings().log_format == "text":
        return response  # a developer's terminal: the pages, not every stylesheet and script
    started = g.get("request_started")
    user = (session.get("user") or {}).get("sub") if "user" in session else None
    log.info(
        "request",
        extra={
            "http": {
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1)
                if started
                else None,
                "request_id": g.get("request_id"),
                "user": pseudonym(user or g.get("api_caller")),
            }
        },
    )
    return response


def teardown(_exc: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        REQUEST_ID.reset(token)


def init_app(app: Flask) -> None:
    app.before_request(start)
    app.after_request(finish)
    app.teardown_request(teardown)
