"""Machine-readable endpoints: the JWKS URL and the health check."""

from flask import Blueprint, jsonify

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


@bp.get("/healthz")
@csrf.exempt
def healthz():
    """200 once the app is up: scripts and the container wait on it."""
    return jsonify(status="ok")
