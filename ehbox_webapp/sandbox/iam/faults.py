"""Injected faults of the realms' token endpoint: a realm down, slow, or whose answer is lost.

`POST /auth/_faults` {"grantType": "refresh_token"|"authorization_code"|...|"*",
"delay": s, "status": 503, "times": N} arms a fault for the next N token requests of that
grant type; `DELETE /auth/_faults` clears them. Kept in the realms' SQLite store, so
every thread and process of the sandbox sees them.

- With a `status`, the request is answered at once with that status and a
  `temporarily_unavailable` error, before anything is done: the realm is down.
- With only a `delay`, the grant is carried out (a refresh token is used, new tokens are
  issued and recorded) and its answer is sent `delay` seconds late: a client that gives up
  before has lost the answer of a request the realm did carry out.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, jsonify, request

from ..json_input import json_body
from .errors import OAuthError
from .store import IamStore

GRANT_TYPES = (
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "*",
)
MAX_DELAY = 120.0
PREFIX = "/auth/_faults"

faults_bp = Blueprint("sandbox_iam_faults", __name__)


def _store() -> IamStore:
    return current_app.extensions["sandbox_iam"].store


def before(store: IamStore, grant_type: str) -> float:
    """Apply an armed fault of `grant_type`: raise its error status, or return the delay
    to wait once the grant is carried out (0 when none is armed)."""
    fault = store.take_token_fault(grant_type)
    if fault is None:
        return 0.0
    if fault["status"] is not None:
        time.sleep(fault["delay"])
        raise OAuthError(
            "temporarily_unavailable", "fault injected by the sandbox", fault["status"]
        )
    return float(fault["delay"])


@faults_bp.post("")
def add_fault() -> Response:
    data = json_body(request)
    if not isinstance(data, dict):
        return _bad("Send a JSON object.")
    grant_type, status, times = data.get("grantType", "*"), data.get("status"), data.get("times", 1)
    delay = data.get("delay", 0)
    if grant_type not in GRANT_TYPES:
        return _bad(f"grantType: one of {', '.join(GRANT_TYPES)}")
    if not isinstance(delay, int | float) or not 0 <= delay <= MAX_DELAY:
        return _bad(f"delay: 0 to {MAX_DELAY} seconds")
    if not isinstance(times, int) or not 1 <= times <= 1000:
        return _bad("times: 1 to 1000")
    if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
        return _bad("status: an HTTP error status 400-599")
    if status is None and not delay:
        return _bad("a fault needs a delay or a status")
    fault_id = _store().add_token_fault(grant_type, float(delay), status, times)
    answer = {"id": fault_id, "grantType": grant_type, "delay": delay, "status": status}
    return _json({**answer, "times": times}, 201)


@faults_bp.delete("")
def clear_faults() -> Response:
    _store().clear_token_faults()
    return Response(status=204)


def _bad(detail: str) -> Response:
    return _json({"error": "invalid_request", "error_description": detail}, 400)


def _json(body: dict, status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
