"""The token endpoint's grants: authorization code, refresh, client credentials, exchange.

Each grant takes the authenticated client and the form, and returns the JSON body
of a successful response or raises :class:`OAuthError` (RFC 6749 §5.2).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import Any

from werkzeug.datastructures import MultiDict

from .. import personas
from ..tokens import InvalidToken
from . import claims
from .clients import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    REFRESH_TOKEN,
    TOKEN_EXCHANGE,
    Client,
    parse_scope,
)
from .context import SESSION_SECONDS, IamContext
from .errors import OAuthError

ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 - a URN
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")  # RFC 7636 §4.1


def token_response(
    ctx: IamContext, realm: str, form: MultiDict[str, str], authorization: str | None = None
) -> dict[str, Any]:
    """Authenticate the client (form, or the `Authorization` header), run its grant."""
    repeated = [name for name in form if len(form.getlist(name)) > 1]
    if repeated:  # RFC 6749 §3.2: no parameter more than once
        raise OAuthError("invalid_request", f"repeated parameter: {repeated[0]}")
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "missing grant_type")
    audiences = {ctx.issuer(realm), ctx.endpoint(realm, "token")}
    client = ctx.authenticator.authenticate(realm, form, audiences, authorization)
    grant = GRANTS.get(grant_type)
    if grant is None:
        raise OAuthError("unsupported_grant_type", f"unsupported grant_type: {grant_type}")
    if grant_type not in client.grant_types:
        raise OAuthError("unauthorized_client", f"this client may not use {grant_type}")
    return grant(ctx, realm, client, form)


def authorization_code(
    ctx: IamContext, realm: str, client: Client, form: MultiDict[str, str]
) -> dict[str, Any]:
    code = _required(form, "code")
    used = ctx.store.consume_code(realm, code, SESSION_SECONDS)
    if used is None:
        raise OAuthError("invalid_grant", "unknown authorization code")
    if not used["first_use"]:
        # RFC 6749 §4.1.2: a replayed code may be stolen: revoke what the first use got.
        ctx.store.revoke_grant(used["grant_id"])
        raise OAuthError("invalid_grant", "authorization code already used")
    try:
        if used["expires"] <= time.time():
            raise OAuthError("invalid_grant", "authorization code expired")
        if used["client_id"] != client.client_id:
            raise OAuthError("invalid_grant", "authorization code issued to another client")
        if form.get("redirect_uri") != used["redirect_uri"]:
            raise OAuthError("invalid_grant", "redirect_uri differs from the authorization request")
        _check_pkce(form.get("code_verifier"), used["code_challenge"])
        grant = ctx.store.grant(used["grant_id"])
        if grant is None:
            raise OAuthError("invalid_grant", "the session has ended")
    except OAuthError:
        ctx.store.revoke_grant(used["grant_id"])  # a code gets one attempt
        raise
    return issue_user_tokens(ctx, realm, client, grant, grant["scope"])


def refresh_token(
    ctx: IamContext, realm: str, client: Client, form: MultiDict[str, str]
) -> dict[str, Any]:
    used = ctx.store.use_refresh_token(_required(form, "refresh_token"))
    if used is None:
        raise OAuthError("invalid_grant", "unknown refresh token")
    if used["stale"] or used["uses_before"] > ctx.settings.refresh_token_max_reuse:
        # Rotation (Keycloak's "Revoke Refresh Token"): a use beyond `refreshTokenMaxReuse`,
        # or of a token older than one already used ("Stale token"), means two parties hold
        # it; Keycloak then detaches the client's session from the user's: the whole family
        # ends, the realm's SSO session stays.
        ctx.store.revoke_grant(used["grant_id"])
        raise OAuthError("invalid_grant", "Maximum allowed refresh token reuse exceeded")
    if used["expires"] <= time.time():
        raise OAuthError("invalid_grant", "refresh token expired")
    grant = ctx.store.grant(used["grant_id"])
    if grant is None:
        raise OAuthError("invalid_grant", "the session has ended or the token was revoked")
    if grant["realm"] != realm or grant["client_id"] != client.client_id:
        raise OAuthError("invalid_grant", "refresh token issued to another client")
    scope = _narrowed_scope(form.get("scope"), grant["scope"])
    return issue_user_tokens(ctx, realm, client, grant, scope)


def client_credentials(
    ctx: IamContext, realm: str, client: Client, form: MultiDict[str, str]
) -> dict[str, Any]:
    scopes = parse_scope(form.get("scope"))
    if scopes is None:
        raise OAuthError("invalid_scope", "unknown scope")
    scope = " ".join(scopes or ["ehbox"])  # the client's default scope, as Keycloak adds it
    lifetime = ctx.settings.access_token_seconds
    token = claims.m2m_access_token(
        ctx.issuer(realm), client.client_id, scope=scope, lifetime=lifetime
    )
    ctx.store.record_access_token(token["jti"], None, None, token["exp"])
    return {
        "access_token": ctx.signer.sign(token),
        "expires_in": lifetime,
        "refresh_expires_in": 0,
        "token_type": "Bearer",
        "not-before-policy": 0,
        "scope": scope,
    }


def token_exchange(
    ctx: IamContext, realm: str, client: Client, form: MultiDict[str, str]
) -> dict[str, Any]:
    subject_token = _required(form, "subject_token")
    if form.get("subject_token_type") != ACCESS_TOKEN_TYPE:
        raise OAuthError("invalid_request", f"subject_token_type must be {ACCESS_TOKEN_TYPE}")
    if form.get("requested_token_type", ACCESS_TOKEN_TYPE) != ACCESS_TOKEN_TYPE:
        raise OAuthError("invalid_request", "only access tokens can be requested")
    audience = _required(form, "audience")
    if audience not in client.exchange_audiences:
        raise OAuthError("access_denied", "client not allowed to exchange to this audience", 403)
    try:
        subject = ctx.signer.verify(subject_token, issuer=ctx.issuer(realm))
    except InvalidToken:
        raise OAuthError("invalid_request", "invalid subject_token") from None
    if subject.get("typ") != "Bearer" or not ctx.store.access_token_active(subject.get("jti", "")):
        # Keycloak's answer when the subject token's session has ended or it expired.
        raise OAuthError("invalid_token", "subject_token is not an active access token")
    if subject.get("azp") not in client.exchange_from:
        raise OAuthError("access_denied", "client not allowed to exchange this subject token", 403)
    scope = _narrowed_scope(form.get("scope"), subject.get("scope", ""))
    lifetime = ctx.settings.access_token_seconds
    token = claims.exchanged_access_token(
        ctx.issuer(realm),
        subject,
        client_id=client.client_id,
        audience=audience,
        scope=scope,
        lifetime=lifetime,
        allowed_origins=tuple(client.web_origins),
    )
    # The new token belongs to the subject token's family: revoking one revokes both.
    origin = ctx.store.access_token(subject["jti"]) or {}
    ctx.store.record_access_token(
        token["jti"], origin.get("grant_id"), origin.get("sid"), token["exp"]
    )
    return {
        "access_token": ctx.signer.sign(token),
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": scope,
        "not-before-policy": 0,
    }


GRANTS = {
    AUTHORIZATION_CODE: authorization_code,
    REFRESH_TOKEN: refresh_token,
    CLIENT_CREDENTIALS: client_credentials,
    TOKEN_EXCHANGE: token_exchange,
}


def issue_user_tokens(
    ctx: IamContext, realm: str, client: Client, grant: dict[str, Any], scope: str
) -> dict[str, Any]:
    """Access, refresh and (with `openid`) ID token for a grant: Keycloak's response body."""
    persona = personas.persona(grant["persona"])
    session = ctx.store.session(grant["sid"])
    if persona is None or session is None:
        raise OAuthError("invalid_grant", "the session has ended")
    settings, issuer, sid = ctx.settings, ctx.issuer(realm), grant["sid"]
    access = claims.user_access_token(
        issuer,
        client.client_id,
        persona,
        sid=sid,
        auth_time=grant["auth_time"],
        scope=scope,
        lifetime=settings.access_token_seconds,
        allowed_origins=tuple(client.web_origins),
    )
    access_token = ctx.signer.sign(access)
    ctx.store.record_access_token(access["jti"], grant["id"], sid, access["exp"])
    now = int(time.time())
    refresh_expires = min(now + settings.refresh_token_seconds, session["expires"])
    refresh = ctx.signer.sign_refresh(
        claims.refresh_token(
            issuer, client.client_id, persona, sid=sid, scope=scope, expires=refresh_expires
        )
    )
    ctx.store.save_refresh_token(grant["id"], refresh, refresh_expires)
    response: dict[str, Any] = {
        "access_token": access_token,
        "expires_in": settings.access_token_seconds,
        "refresh_expires_in": refresh_expires - now,
        "refresh_token": refresh,
        "token_type": "Bearer",
    }
    if "openid" in scope.split():
        response["id_token"] = ctx.signer.sign(
            claims.id_token(
                issuer,
                client.client_id,
                persona,
                sid=sid,
                auth_time=grant["auth_time"],
                nonce=grant["nonce"],
                access_token=access_token,
                lifetime=settings.access_token_seconds,
            )
        )
    response.update({"not-before-policy": 0, "session_state": sid, "scope": scope})
    return response


def _check_pkce(verifier: str | None, challenge: str) -> None:
    if not verifier or not VERIFIER.fullmatch(verifier):
        raise OAuthError("invalid_grant", "code_verifier missing or not 43-128 unreserved chars")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    if not hmac.compare_digest(computed, challenge):
        raise OAuthError("invalid_grant", "PKCE verification failed")


def _narrowed_scope(requested: str | None, granted: str) -> str:
    """RFC 6749 §6: a client may ask for less than it was granted, never more."""
    if not requested:
        return granted
    scopes = parse_scope(requested)
    if scopes is None or not set(scopes) <= set(granted.split()):
        raise OAuthError("invalid_scope", "scope exceeds what was granted")
    return " ".join(scopes)


def _required(form: MultiDict[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise OAuthError("invalid_request", f"missing parameter: {name}")
    return value
