"""Known failures become a clear page, or an RFC 9457 problem document for API clients."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..ehealth.iam import IamError

log = logging.getLogger(__name__)


def wants_problem() -> bool:
    """API paths and JSON clients get problem documents; browsers get pages."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/problem+json",
                                                 "application/json"])
    return best in ("application/problem+json", "application/json")


def problem(status: int, title: str, detail: str, type_: str = "about:blank", **extra):
    body = {"type": type_, "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def render_error(status: int, title: str, detail: str, **extra):
    if wants_problem():
        return problem(status, title, detail, **extra)
    return render_template("errors/error.html", status=status, title=title, detail=detail), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        log.warning("CSRF check failed on %s %s", request.method, request.path)
        return render_error(400, "Form expired", "This form has expired or did not come from "
                            "this site. Go back, reload the page and try again.")

    @app.errorhandler(IamError)
    def iam_error(exc: IamError):
        log.error("I.AM Connect error on %s: %s", request.path, exc)
        return render_error(502, "I.AM Connect is unavailable", str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code and exc.code >= 500:
            log.error("%s on %s %s", exc.code, request.method, request.path)
        return render_error(exc.code or 500, exc.name, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return render_error(500, InternalServerError.name,
                            "Something went wrong on our side. It has been logged.")
