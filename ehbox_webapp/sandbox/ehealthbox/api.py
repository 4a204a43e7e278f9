"""The API blueprint: authentication, request ids and problem answers for every route."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..trusted import TrustedRealms
from .auth import box_for_claims, require_identifying_headers, verify_bearer
from .platform import FOLDERS, MESSAGE_ID_LENGTH, is_message_id
from .problems import ApiProblem, new_request_id, problem_response
from .store import Store, box_key

if TYPE_CHECKING:
    from ..settings import SandboxSettings
    from ..tokens import RealmSigner

log = logging.getLogger(__name__)

EXTENSION = "sandbox_ehealthbox"

bp = Blueprint("ehealthbox_api", __name__)


@dataclass
class Context:
    """What the routes need, kept in `app.extensions[EXTENSION]`."""

    settings: SandboxSettings
    signer: RealmSigner
    store: Store
    trusted: TrustedRealms  # a real I.AM Connect's realms (make keycloak), if the app uses one


def ctx() -> Context:
    return current_app.extensions[EXTENSION]


@bp.before_request
def authenticate() -> None:
    g.request_id = new_request_id()
    context = ctx()
    settings = context.settings
    claims = verify_bearer(
        request.headers.get("Authorization"),
        context.signer,
        (settings.issuer("healthcare"), settings.issuer("M2M")),
        settings.ehbox_audience,
        context.trusted,
    )
    require_identifying_headers(request.headers)
    key = box_key(box_for_claims(claims))
    with context.store.connect() as conn:
        if context.store.box(conn, key) is None:
            raise ApiProblem(403, "This eHealthBox does not exist in the sandbox.", code="810")
    g.box_key = key


@bp.after_request
def add_request_id(response: Response) -> Response:
    if getattr(g, "request_id", None):
        response.headers["X-Request-Id"] = g.request_id
    return response


@bp.errorhandler(ApiProblem)
def on_problem(problem: ApiProblem) -> Response:
    # Codes and request ids only: never tokens or message contents.
    log.info(
        "eHealthBox sandbox %s %s -> %s %s",
        request.method,
        request.path,
        problem.status,
        problem.body.get("code", ""),
    )
    return problem_response(problem)


@bp.errorhandler(RequestEntityTooLarge)
def on_too_large(_: RequestEntityTooLarge) -> Response:
    return problem_response(
        ApiProblem(
            413,
            f"The message exceeds the maximum size of {ctx().settings.max_message_bytes} bytes.",
            code="801",
        )
    )


@bp.errorhandler(HTTPException)
def on_http_error(error: HTTPException) -> Response:
    return problem_response(
        ApiProblem(error.code or 500, error.description or error.name, title=error.name)
    )


def folder_param(
    name: str = "source", default: str = "INBOX", allowed: tuple[str, ...] = FOLDERS
) -> str:
    folder = request.args.get(name, default)
    if folder not in allowed:
        raise ApiProblem(
            400,
            f"Unknown folder {folder!r}.",
            invalidParams=[{"in": "query", "name": name, "reason": f"one of {', '.join(allowed)}"}],
        )
    return folder


def check_message_id(message_id: str) -> str:
    if not is_message_id(message_id):
        raise ApiProblem(
            400,
            f"A MessageId has {MESSAGE_ID_LENGTH} letters or digits.",
            invalidParams=[
                {
                    "in": "path",
                    "name": "messageId",
                    "reason": f"{MESSAGE_ID_LENGTH} characters [A-Za-z0-9]",
                }
            ],
        )
    return message_id
