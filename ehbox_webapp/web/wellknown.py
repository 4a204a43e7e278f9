"""Machine-readable endpoints: the JWKS URL and the health check."""

import requests
from flask import Blueprint, current_app, jsonify

from .extensions import csrf, services

bp = Blueprint("wellknown", __name__)


@bp.get("/.well-known/jwks.json")
def jwks():
    """The public key(s) of the certificate's `authentication` entry; never private members."""
    response = jsonify(services().jwks())
    # Realms cache it; an hour keeps a rotation (publish next, then switch) short.
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for it on every origin's pages (the sandbox's too): answer, not 404."""
    return current_app.send_static_file("favicon.svg")


@bp.get("/healthz")
@csrf.exempt
def healthz():
    """200 once the app is up: scripts and the container wait on it."""
    return jsonify(status="ok")


@bp.get("/readyz")
@csrf.exempt
def readyz():
    """Ready to serve: keystore loaded, realm and eHealthBox reachable, session store up.

    Used by the container's health check and load balancers; says which check failed.
    """
    svc = services()
    checks = {
        "keystore": svc.identity is not None and svc.identity.days_left() >= 0,
        "session_store": svc.store.ping(),
        "realm": _answers(
            svc, f"{svc.settings.iam_issuer}/.well-known/openid-configuration", ok=(200,)
        ),
        "ehealthbox": _answers(svc, f"{svc.settings.ehbox_api_url}/boxInfo", ok=range(200, 500)),
    }
    ready = all(checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


def _answers(svc, url: str, ok) -> bool:
    """Any expected HTTP answer within 3 s: a 401 from eHealthBox still means it is up."""
    try:
        return svc.http.get(url, timeout=3).status_code in ok
    except requests.RequestException:
        return False
