"""The public PKCE client (use case 2.2.1 of the procedure), made visible.

This page runs entirely in the browser: it logs the user in with the
authorization code flow and PKCE S256 (Web Crypto), keeps the token in memory
only, and calls /api/v1 with `Authorization: Bearer`. The server side validates
that token and exchanges it before calling eHealthBox. The server only serves
the page and tells it where the realm is; it never sees the code or the token
until the browser sends the token to /api/v1.
"""

from flask import Blueprint, render_template

from .extensions import services, settings

bp = Blueprint("public_client", __name__, url_prefix="/public-client")


@bp.get("/")
def page():
    cfg = settings()
    metadata = services().iam.metadata
    return render_template(
        "public_client/index.html",
        client_id=cfg.iam_public_client_id,
        authorization_endpoint=metadata["authorization_endpoint"],
        token_endpoint=metadata["token_endpoint"],
        end_session_endpoint=metadata.get("end_session_endpoint", ""),
        redirect_uri=f"{cfg.public_url}/public-client/",
        scope=cfg.iam_scopes,
        own_login=True,  # the header offers no second, different login (base.html)
    )
