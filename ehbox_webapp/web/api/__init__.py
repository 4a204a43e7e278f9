"""/api/v1: the eHealthBox as JSON for browser code.

Two ways in:
- the web login's server-side session, with the CSRF header (`X-CSRFToken`) on
  every unsafe method;
- `Authorization: Bearer <access token>` obtained by browser code itself (the
  public PKCE client). The token is validated here, then exchanged (RFC 8693)
  for a token meant for eHealthBox: the browser's token never goes on as is.

Every request is checked against the OpenAPI document (`openapi.py`) before its view
runs; the views then only translate between HTTP and the mailbox (`ehbox_webapp/mailbox/`).
Errors are RFC 9457 problem documents.
"""

from __future__ import annotations

import logging
import time

from flask import g, jsonify, request, session

from ...ehealth.iam import EHBOX_SCOPE, IamError, InvalidToken, client_of
from ..extensions import csrf, services, settings
from .blueprint import bp
from .openapi import check_request
from .problems import ApiProblem, register_problem_handlers

csrf.exempt(bp)  # CSRF is checked below for session callers only; Bearer calls carry no cookie
log = logging.getLogger(__name__)

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
PUBLIC_ENDPOINTS = {"api.openapi", "api.index", "api.reference"}
# A fixed sentence: nothing of the caller's token goes into a response header (a header
# is Latin-1, and a `"` would add parameters to the challenge). The reason is in the body.
REFUSED_CHALLENGE = (
    'Bearer error="invalid_token", error_description="The access token is not valid."'
)


@bp.before_request
def authenticate() -> None:
    g.api_token = None
    g.api_checks = []
    if request.method == "OPTIONS" or request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization")
    if header is not None:
        _authenticate_bearer(header)
        return
    if session.get("user") is None:
        raise ApiProblem(
            401,
            "Authentication required",
            "Send a Bearer access token, or log in to the web application first.",
            headers={"WWW-Authenticate": 'Bearer realm="ehbox-webapp"'},
        )
    if request.method in UNSAFE:
        # Kept: the CSRF check parses the form, the OpenAPI check then reads the raw body.
        request.get_data()
        csrf.protect()  # raises CSRFError: a session caller must send X-CSRFToken
    g.api_caller = session["user"].get("sub", "")


@bp.before_request
def validate() -> None:
    """Parameters and body as the OpenAPI document says, before any view runs."""
    checked = request.url_rule is not None and request.endpoint not in PUBLIC_ENDPOINTS
    if request.method != "OPTIONS" and checked:
        check_request(request)


def _authenticate_bearer(header: str) -> None:
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiProblem(
            401,
            "Invalid authorization header",
            "Use 'Authorization: Bearer <access token>'.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_request"'},
        )
    cfg = settings()
    try:
        claims = services().iam.validate_access_token(
            token, allowed_clients=cfg.api_allowed_clients
        )
    except InvalidToken as exc:
        log.info("Bearer token refused: %s", exc.reason)
        if exc.error == "insufficient_scope":
            raise ApiProblem(
                403,
                "Insufficient scope",
                f"The access token was refused: {exc.reason}.",
                headers={
                    "WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{EHBOX_SCOPE}"'
                },
            ) from None
        raise ApiProblem(
            401,
            "Invalid access token",
            f"The access token was refused: {exc.reason}. Log in again for a new one.",
            headers={"WWW-Authenticate": REFUSED_CHALLENGE},
        ) from None
    except IamError as exc:
        log.warning("Bearer token could not be checked: %s", exc)
        raise ApiProblem(
            503,
            "I.AM Connect unavailable",
            "The token could not be checked "
            "because I.AM Connect is unreachable. Try again shortly.",
        ) from None
    g.api_token = token
    g.api_caller = claims.get("sub", "")
    g.api_checks = [
        "signature verified with the realm's published key (JWKS)",
        f"issuer is {claims['iss']}",
        f"not expired (expires in {int(claims['exp'] - time.time())} s)",
        f"issued to an allowed client ({client_of(claims)})",
        "audience includes this application",
        "scope includes ehbox",
        f"exchanged for the eHealthBox audience ({cfg.ehbox_audience or 'no exchange configured'})"
        " before any eHealthBox call",
    ]
    g.api_claims = {
        k: claims[k]
        for k in ("sub", "azp", "client_id", "scope", "exp", "iss", "name")
        if k in claims
    }


@bp.after_request
def cors(response):
    """CORS for the configured origins only; Bearer tokens, never cookies, cross origins."""
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") in settings().cors_origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = (
            "Authorization, Content-Type, Idempotency-Key"
        )
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
        response.headers["Access-Control-Expose-Headers"] = "Content-Disposition, X-Request-Id"
        response.headers["Access-Control-Max-Age"] = "600"
    response.vary.add("Origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.get("/whoami")
def whoami():
    """Who the server thinks the caller is, and what it checked (no token echoed)."""
    if g.api_token:
        return jsonify(via="bearer", claims=g.api_claims, checks=g.api_checks)
    return jsonify(
        via="session",
        claims={"sub": session["user"].get("sub"), "name": session["user"].get("name")},
        checks=[
            "logged in through the web login (server-side session)",
            "CSRF header checked on unsafe methods",
        ],
    )


register_problem_handlers(bp)

from . import drafts, features, messages, reference  # noqa: E402,F401  (routes register on bp)
