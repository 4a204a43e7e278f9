"""RFC 9457 problem documents for /api/v1, and the mapping of eHealthBox errors to them.

Problem documents are for developers and stay in English, whatever the caller's language:
nothing here is translated (the web pages translate; see `web/errors.py`).
"""

from __future__ import annotations

import logging

from flask import Blueprint
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ...ehealth.ehealthbox import errors as ehbox
from ...ehealth.iam import IamError, RealmUnavailable, TokenError
from ..auth import LoginRequired
from ..errors import problem
from ..extensions import settings

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://ehbox-webapp.example/problems/"


class ApiProblem(Exception):
    """Raise to answer with a problem document."""

    def __init__(
        self, status: int, title: str, detail: str, *, headers: dict | None = None, **extra
    ):
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.headers = headers or {}
        self.extra = extra


# Most specific first: the first matching class decides the status.
EHEALTHBOX_STATUS: tuple[tuple[type[ehbox.EhealthboxError], int, str], ...] = (
    (ehbox.SendOutcomeUnknown, 504, "send-outcome-unknown"),
    (ehbox.RecipientsOutOfOffice, 409, "recipients-out-of-office"),
    (ehbox.MessageTooLarge, 413, "message-too-large"),
    (ehbox.InvalidDestination, 422, "invalid-destination"),
    (ehbox.DigestMismatch, 422, "digest-mismatch"),
    (ehbox.QualityNotAllowed, 403, "quality-not-allowed"),
    (ehbox.InvalidBox, 403, "invalid-box"),
    (ehbox.Forbidden, 403, "forbidden"),
    (ehbox.NotFound, 404, "not-found"),
    (ehbox.Unauthorized, 502, "ehealthbox-refused-token"),
    (ehbox.BadRequest, 422, "rejected-by-ehealthbox"),
    (ehbox.Unavailable, 503, "ehealthbox-unavailable"),
)


def ehealthbox_problem(exc: ehbox.EhealthboxError):
    status, slug = next(
        ((s, t) for cls, s, t in EHEALTHBOX_STATUS if isinstance(exc, cls)),
        (502, "ehealthbox-error"),
    )
    extra: dict = {}
    if exc.code:
        extra["code"] = exc.code
    if exc.request_id:
        extra["ehealthRequestId"] = exc.request_id
    if isinstance(exc, ehbox.SendOutcomeUnknown):
        extra["publicationId"] = exc.publication_id
    for key in ("invalidParams", "recipients"):
        if exc.problem.get(key):
            extra[key] = exc.problem[key]
    if status >= 500:
        log.warning(
            "eHealthBox error %s (code %s, request %s)", exc.status, exc.code, exc.request_id
        )
    response = problem(status, type(exc).__name__, str(exc), type_=PROBLEM_BASE + slug, **extra)
    if status == 503:
        response.headers["Retry-After"] = "30"
    return response


def register_problem_handlers(bp: Blueprint) -> None:
    @bp.errorhandler(ApiProblem)
    def api_problem(exc: ApiProblem):
        response = problem(exc.status, exc.title, exc.detail, **exc.extra)
        response.headers.update(exc.headers)
        return response

    @bp.errorhandler(ehbox.EhealthboxError)
    def ehealthbox_error(exc: ehbox.EhealthboxError):
        return ehealthbox_problem(exc)

    @bp.errorhandler(IamError)
    def iam_error(exc: IamError):
        if isinstance(exc, TokenError) and exc.callers_fault:
            log.info("I.AM Connect no longer accepts the caller's token: %s", exc.error)
            response = problem(
                401,
                "Invalid access token",
                "I.AM Connect no longer accepts this token (its session ended, it was revoked "
                "or it expired). Log in again for a new one.",
            )
            response.headers["WWW-Authenticate"] = (
                'Bearer error="invalid_token", error_description="the token is no longer active"'
            )
            return response
        log.warning("I.AM Connect error in the API: %s", exc)
        if isinstance(exc, RealmUnavailable):
            response = problem(503, "I.AM Connect unavailable", str(exc))
            response.headers["Retry-After"] = "30"
            return response
        return problem(502, "I.AM Connect error", str(exc))

    @bp.errorhandler(LoginRequired)
    def login_required(exc: LoginRequired):
        return problem(401, "Session expired", "The web session has expired. Log in again.")

    @bp.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return problem(
            403,
            "CSRF check failed",
            "A call made with the web session must send "
            "the page's CSRF token in the X-CSRFToken header.",
        )

    @bp.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge):
        limit = settings().max_upload_bytes / (1024 * 1024)
        return problem(
            413,
            "MessageTooLarge",
            f"The request is larger than a message may be: at most {limit:g} MB with its "
            "attachments. Nothing was sent.",
            type_=PROBLEM_BASE + "message-too-large",
        )

    @bp.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return problem(exc.code or 500, exc.name, exc.description or exc.name)
