"""OpenID Connect Back-Channel Logout: the realm tells us a user logged out elsewhere.

At login the app notes which local sessions belong to the realm session (`sid`)
and to the user (`sub`). A valid `logout_token` ends every one of them, and the Bearer
tokens of that realm session are refused from then on: their cached validations and
exchanged tokens are dropped, and every instance refuses them at their next validation
(`IamClient.session_ended`).
"""

from __future__ import annotations

import logging

from flask import Blueprint, request, session

from ..ehealth.iam import IamError, InvalidToken
from .extensions import csrf, services

bp = Blueprint("backchannel", __name__)
log = logging.getLogger(__name__)

INDEX_TTL = 24 * 3600
JTI_TTL = 24 * 3600


def remember_login(sid: str | None, sub: str | None) -> None:
    """Index the current (new) session under the realm's `sid` and the user's `sub`."""
    store = services().store
    for key in (f"bcl:sid:{sid}" if sid else None, f"bcl:sub:{sub}" if sub else None):
        if key:
            known = (store.get(key) or {}).get("sessions", [])
            store.set(key, {"sessions": [*known[-20:], session.sid]}, INDEX_TTL)


@bp.post("/auth/backchannel-logout")
@csrf.exempt  # a server-to-server call from the realm, authenticated by the signed token
def backchannel_logout():
    token = request.form.get("logout_token", "")
    headers = {"Cache-Control": "no-store"}
    if not token:
        return {"error": "invalid_request"}, 400, headers
    try:
        claims = services().iam.validate_logout_token(token)
    except InvalidToken as exc:
        log.warning("back-channel logout refused: %s", exc.reason)
        return {"error": "invalid_request", "error_description": exc.reason}, 400, headers
    except IamError as exc:
        log.error("back-channel logout could not be checked: %s", exc)
        return {"error": "temporarily_unavailable"}, 503, headers
    store = services().store
    if not store.add(f"bcl:jti:{claims['jti']}", {}, JTI_TTL):
        log.warning("back-channel logout refused: replayed logout token")
        return {"error": "invalid_request", "error_description": "replayed"}, 400, headers
    sid, sub = claims.get("sid"), claims.get("sub")
    svc = services()
    svc.iam.session_ended(sid=sid, sub=sub, at=claims["iat"])
    svc.exchanger.forget_session(sid=sid, sub=None if sid else sub)
    ended = 0
    keys = [f"bcl:sid:{sid}"] if sid else [f"bcl:sub:{sub}"]
    for key in keys:
        for sid in (store.pop(key) or {}).get("sessions", []):
            store.delete(f"session:{sid}")
            ended += 1
    log.info("back-channel logout: %d session(s) ended", ended)
    return "", 200, headers
