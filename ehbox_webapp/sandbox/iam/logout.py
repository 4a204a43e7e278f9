"""RP-initiated logout and OIDC Back-Channel Logout.

Ending a realm session (`sid`) makes its refresh tokens and access tokens
inactive. Clients with a back-channel logout URI are told with a signed
`logout_token`, best effort: a client that is down must not block the logout.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import requests
from flask import redirect, render_template
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from ..tokens import InvalidToken
from . import claims
from .authorize import SSO_COOKIE, sso_cookie_path
from .clients import Client
from .context import IamContext
from .errors import ErrorPage

log = logging.getLogger(__name__)

BACKCHANNEL_TIMEOUT = 3
# An expired ID token is still a good hint of who is logging out (Keycloak accepts it).
HINT_LEEWAY = 365 * 24 * 3600


def logout(ctx: IamContext, realm: str, params: MultiDict[str, str]) -> Response:
    """End the hinted session, notify the clients, return to the client or say goodbye."""
    hint = params.get("id_token_hint")
    client_id = params.get("client_id")
    post_logout_uri = params.get("post_logout_redirect_uri")
    hinted: dict = {}
    if hint:
        try:
            hinted = ctx.signer.verify(hint, issuer=ctx.issuer(realm), leeway=HINT_LEEWAY)
        except InvalidToken:
            raise ErrorPage("Invalid logout request", "The id_token_hint is not valid.") from None
        if hinted.get("typ") != "ID":
            raise ErrorPage("Invalid logout request", "The id_token_hint is not an ID token.")
        if client_id and client_id != hinted.get("azp"):
            raise ErrorPage("Invalid logout request", "client_id does not match id_token_hint.")
        client_id = hinted.get("azp")
    client = ctx.clients.get(realm, client_id) if client_id else None
    if client_id and client is None:
        raise ErrorPage("Invalid logout request", "Unknown client.")
    if post_logout_uri and (
        client is None or post_logout_uri not in client.post_logout_redirect_uris
    ):
        raise ErrorPage(
            "Invalid logout request",
            "The post_logout_redirect_uri is not registered for this application.",
        )

    sid = hinted.get("sid")
    if sid and ctx.store.end_session(sid):
        for listener in ctx.clients.in_realm(realm):
            if listener.backchannel_logout_uri:
                send_backchannel_logout(ctx, realm, listener, sid=sid, sub=hinted["sub"])

    if post_logout_uri:
        state = params.get("state")
        if state is not None:
            separator = "&" if "?" in post_logout_uri else "?"
            post_logout_uri = f"{post_logout_uri}{separator}{urlencode({'state': state})}"
        response = redirect(post_logout_uri, code=302)
    else:
        html = render_template("sandbox/logged_out.html", realm=realm)
        response = Response(html, mimetype="text/html")
    # The browser's SSO cookie goes with the session (it would name an ended one anyway).
    response.delete_cookie(SSO_COOKIE, path=sso_cookie_path(realm))
    return response


def send_backchannel_logout(
    ctx: IamContext, realm: str, client: Client, *, sid: str, sub: str
) -> bool:
    """POST a `logout_token` to the client; True if it answered 2xx. Never raises."""
    token = ctx.signer.sign(
        claims.logout_token(ctx.issuer(realm), client.client_id, sid=sid, sub=sub), typ="logout+jwt"
    )
    try:
        response = requests.post(
            client.backchannel_logout_uri, data={"logout_token": token}, timeout=BACKCHANNEL_TIMEOUT
        )
    except requests.RequestException as exc:
        log.warning("back-channel logout to %s failed: %s", client.client_id, type(exc).__name__)
        return False
    if not response.ok:
        log.warning("back-channel logout to %s answered %s", client.client_id, response.status_code)
    return response.ok
