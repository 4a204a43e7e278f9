"""Known failures become a clear page, or an RFC 9457 problem document for API clients.

Pages are in the user's language. Problem documents are for developers and stay in
English: a title or detail given as a lazy translation is rendered in English there.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..ehealth.iam import IamError, TokenError
from .login_checks import LoginRequired, handle_login_required

log = logging.getLogger(__name__)

# Status -> (title, detail) of an error page, for the HTTP errors Werkzeug words in English.
HTTP_ERRORS = {
    400: (_l("Bad request"), _l("The browser sent a request this site could not understand.")),
    401: (_l("Login required"), _l("Log in to see this page.")),
    403: (_l("Not allowed"), _l("You are not allowed to see this page.")),
    404: (
        _l("Page not found"),
        _l("There is no page at this address. Check the link, or start again from the start page."),
    ),
    405: (_l("Not possible here"), _l("This page cannot be used this way.")),
    413: (_l("Too large"), _l("What you sent is larger than this site accepts.")),
    429: (_l("Too many requests"), _l("Please wait a moment and try again.")),
    500: (_l("Something went wrong"), _l("Something went wrong on our side. It has been logged.")),
    502: (
        _l("Service unavailable"),
        _l("A service this site relies on did not answer properly. Please try again in a moment."),
    ),
    503: (
        _l("Service unavailable"),
        _l("This site is busy or being maintained. Please try again in a moment."),
    ),
}


def wants_problem() -> bool:
    """API paths and JSON clients get problem documents; browsers get pages."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(
        ["text/html", "application/problem+json", "application/json"]
    )
    return best in ("application/problem+json", "application/json")


def problem(status: int, title: str, detail: str, type_: str = "about:blank", **extra):
    body = {"type": type_, "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def render_error(status: int, title, detail, *, english: str | None = None, **extra):
    """The error page, or (for API clients) a problem document in English.

    `title` and `detail` may be lazy translations; `english` replaces a `detail` that was
    already translated, for the problem document.
    """
    if wants_problem():
        with force_locale("en"):
            return problem(
                status, str(title), english if english is not None else str(detail), **extra
            )
    return render_template("errors/error.html", status=status, title=title, detail=detail), status


def http_error_texts(exc: HTTPException) -> tuple[object, object, str]:
    """Translated title and detail of an HTTP error, and its English detail.

    A description given with `abort(code, description)` is the view's own (already
    translated) sentence; Werkzeug's default one is replaced by ours.
    """
    code = exc.code or 500
    title, detail = HTTP_ERRORS.get(code, (exc.name, exc.description or exc.name))
    english = exc.description or exc.name
    if exc.description and exc.description != type(exc).description:
        detail = exc.description
    return title, detail, english


def expired_form_page():
    """A form whose CSRF token this session does not know: expired, or not from this site."""
    log.warning("CSRF check failed on %s %s", request.method, request.path)
    return render_error(
        400,
        _l("Form expired"),
        _l(
            "This form has expired or did not come from this site. Go back, reload the page "
            "and try again."
        ),
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return expired_form_page()

    @app.errorhandler(IamError)
    def iam_error(exc: IamError):
        if isinstance(exc, TokenError) and exc.callers_fault:
            # The session's token is no longer accepted (its realm session ended): log in again.
            log.info("I.AM Connect no longer accepts the session's token: %s", exc.error)
            return handle_login_required(LoginRequired(request.full_path.rstrip("?")))
        log.error("I.AM Connect error on %s: %s", request.path, exc)
        return render_error(
            502,
            _l("I.AM Connect is unavailable"),
            _l(
                "I.AM Connect, the eHealth login service, cannot be reached or gave an answer we "
                "could not use. Please try again in a moment."
            ),
            english=str(exc),
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code and exc.code >= 500:
            log.error("%s on %s %s", exc.code, request.method, request.path)
        title, detail, english = http_error_texts(exc)
        if wants_problem():
            response = problem(exc.code or 500, exc.name, english)
        else:
            response = make_response(render_error(exc.code or 500, title, detail))
        if exc.code == 405:  # RFC 9110: a 405 lists the methods the resource has
            response.headers["Allow"] = dict(exc.get_headers()).get("Allow", "")
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        title, detail = HTTP_ERRORS[500]
        if wants_problem():
            with force_locale("en"):
                return problem(500, InternalServerError.name, str(detail))
        return render_error(500, title, detail)
