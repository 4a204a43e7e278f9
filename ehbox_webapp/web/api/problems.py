"""RFC 9457 problem documents for /api/v1: input problems, and failures from the failure table.

Problem documents are for developers and stay in English, whatever the caller's language:
nothing here is translated (the web pages translate; see `web/errors.py`).
"""

from __future__ import annotations

import logging

from flask import Blueprint, request
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ...ehealth.ehealthbox import errors as box_errors
from ...ehealth.etee.directory import NoEncryptionKey
from ...ehealth.iam import IamError, RealmUnavailable, TokenError
from ...mailbox.failures import KNOWN, PROBLEM_BASE, failure_of
from ...mailbox.problems import Invalid
from ...mailbox.shape import problem_json
from ...stores import StoreUnavailable
from ..errors import problem
from ..extensions import settings
from ..limits import limited, with_retry_after
from ..login_checks import LoginRequired
from ..sessions import store_unavailable

log = logging.getLogger(__name__)


class ApiProblem(Exception):
    """Raise to answer with a problem document."""

    def __init__(
        self, status: int, title: str, detail: str, *, headers: dict | None = None, **extra
    ):
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.headers = headers or {}
        self.extra = extra


def failure_problem(exc: Exception):
    """A known failure as a problem document: its meaning comes from the failure table."""
    failure = failure_of(exc)
    extra: dict = {}
    if isinstance(exc, box_errors.EhealthboxError):
        if exc.code:
            extra["code"] = exc.code
        if exc.request_id:
            extra["ehealthRequestId"] = exc.request_id
        if isinstance(exc, box_errors.SendOutcomeUnknown):
            extra["publicationId"] = exc.publication_id
        for key in ("invalidParams", "recipients"):
            if exc.problem.get(key):
                extra[key] = exc.problem[key]
        detail = str(exc)
    elif isinstance(exc, NoEncryptionKey):
        detail = f"{exc} Nothing was sent."
        extra["invalidParams"] = [{"name": "recipients", "reason": str(exc)}]
    else:
        detail = f"{failure.message} {exc}".strip()
    if failure.status >= 500:
        log.warning(
            "%s in the API: %s (status %s)", type(exc).__name__, failure.code, failure.status
        )
    response = problem(failure.status, type(exc).__name__, detail, type_=failure.type, **extra)
    if failure.retry_after:
        response.headers["Retry-After"] = str(failure.retry_after)
    return response


def register_problem_handlers(bp: Blueprint) -> None:
    @bp.errorhandler(ApiProblem)
    def api_problem(exc: ApiProblem):
        response = problem(exc.status, exc.title, exc.detail, **exc.extra)
        response.headers.update(exc.headers)
        return response

    for cls in KNOWN:
        bp.register_error_handler(cls, failure_problem)

    @bp.errorhandler(Invalid)
    def invalid(exc: Invalid):
        # Query parameters are all a GET or a DELETE carries; other input is the body's.
        status = 400 if request.method in ("GET", "DELETE") else 422
        return problem(
            status,
            "Invalid request",
            "Some fields are not valid.",
            invalidParams=[problem_json(p) for p in exc.problems],
        )

    @bp.errorhandler(IamError)  # registered after the table: the caller's token decides
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

    @bp.errorhandler(StoreUnavailable)  # Redis down: the app's 503, with Retry-After
    def store_down(exc: StoreUnavailable):
        return store_unavailable(exc)

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

    @bp.errorhandler(RateLimitExceeded)
    def too_many_requests(exc: RateLimitExceeded):
        """Over a rate limit (`web/limits.py`): when to try again, in English like all here."""
        limit = limited(exc)
        return with_retry_after(
            problem(
                429,
                "Too many requests",
                f"At most {limit.count} requests per {limit.window} seconds here. "
                f"Try again in {limit.retry_after} s.",
            ),
            limit,
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
        response = problem(exc.code or 500, exc.name, exc.description or exc.name)
        for name, value in exc.get_headers():  # e.g. Allow on a 405
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
        return response

    @bp.errorhandler(Exception)
    def unexpected(exc: Exception):
        """A bug: one traceback in the log, a problem document for the caller."""
        log.exception("unexpected error in the API on %s %s", request.method, request.path)
        return problem(500, "Internal Server Error", "Something went wrong on our side.")
