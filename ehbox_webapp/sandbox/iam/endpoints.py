"""The realms' HTTP surface, laid out as Keycloak lays it out under `/auth/realms/<realm>`.

Views are thin: they read the request, call the module that knows the protocol
and shape the response (JSON with `no-store`, error pages, CORS, page headers).
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, send_from_directory
from werkzeug.wrappers import Response

from ..settings import TEMPLATES
from ..tokens import InvalidToken
from . import authorize as authorize_module
from . import faults
from . import logout as logout_module
from .claims import IDENTITY_CLAIMS
from .clients import KNOWN_SCOPES, REALM_GRANTS
from .context import IamContext
from .errors import ErrorPage, OAuthError
from .grants import token_response

bp = Blueprint("sandbox_iam", __name__)
REALM = "/auth/realms/<any(healthcare, M2M):realm>"
OIDC = f"{REALM}/protocol/openid-connect"
STATIC = TEMPLATES.parent / "static"
# Browser pages of the public client call these directly (CORS, Keycloak's web origins).
CORS_ENDPOINTS = {"sandbox_iam.token", "sandbox_iam.userinfo"}
PAGE_HEADERS = {
    # No script at all, styles from our own stylesheet only.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # The login URL holds a pending request id: do not leak it to the client's page.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
CLAIMS_SUPPORTED = (
    "iss",
    "sub",
    "aud",
    "azp",
    "exp",
    "iat",
    "auth_time",
    "jti",
    "sid",
    "typ",
    "nonce",
    "at_hash",
    "scope",
    "ssin",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "locale",
    "userProfile",
    "resource_access",
    "allowed-origins",
    "client_id",
)


def _ctx() -> IamContext:
    return current_app.extensions["sandbox_iam"]


@bp.get(f"{REALM}/.well-known/openid-configuration")
def discovery(realm: str) -> Response:
    ctx = _ctx()
    # As Keycloak lists them: public clients send their client_id alone, `none` is not named.
    auth_methods = ["private_key_jwt", "client_secret_basic", "client_secret_post"]
    algs = ["RS256"]
    document: dict[str, Any] = {
        "issuer": ctx.issuer(realm),
        "authorization_endpoint": ctx.endpoint(realm, "auth"),
        "token_endpoint": ctx.endpoint(realm, "token"),
        "introspection_endpoint": ctx.endpoint(realm, "token/introspect"),
        "userinfo_endpoint": ctx.endpoint(realm, "userinfo"),
        "end_session_endpoint": ctx.endpoint(realm, "logout"),
        "jwks_uri": ctx.endpoint(realm, "certs"),
        # Keycloak names every grant of the server in every realm; a client's own are
        # checked at the token endpoint (unauthorized_client).
        "grant_types_supported": sorted({g for grants in REALM_GRANTS.values() for g in grants}),
        "response_types_supported": ["code"],
        "response_modes_supported": list(authorize_module.RESPONSE_MODES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": algs,
        "introspection_endpoint_auth_methods_supported": ["private_key_jwt"],
        "introspection_endpoint_auth_signing_alg_values_supported": algs,
        "scopes_supported": list(KNOWN_SCOPES),
        "claims_supported": list(CLAIMS_SUPPORTED),
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }
    return _public_json(document)


@bp.get(f"{OIDC}/certs")
def certs(realm: str) -> Response:
    return _public_json(_ctx().signer.jwks())


@bp.get(f"{OIDC}/auth")
def auth(realm: str) -> Response:
    return authorize_module.authorize(_ctx(), realm, request.args)


@bp.post(f"{REALM}/login-actions/authenticate")
def login_action(realm: str) -> Response:
    return authorize_module.login(_ctx(), realm, request.form)


@bp.post(f"{OIDC}/token")
def token(realm: str) -> Response:
    ctx = _ctx()
    late = faults.before(ctx.store, request.form.get("grant_type", ""))
    answer = token_response(ctx, realm, request.form, request.headers.get("Authorization"))
    time.sleep(late)  # an injected lost answer: the grant is carried out, answered too late
    return _no_store(jsonify(answer))


@bp.route(f"{OIDC}/userinfo", methods=["GET", "POST"])
def userinfo(realm: str) -> Response:
    ctx = _ctx()
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    access_token = value.strip() if scheme.lower() == "bearer" else request.form.get("access_token")
    claims = _active_access_token(ctx, realm, access_token or "")
    if claims is None:
        response = jsonify(error="invalid_token", error_description="invalid or inactive token")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = f'Bearer realm="{realm}", error="invalid_token"'
        return _no_store(response)
    return _no_store(
        jsonify(
            {k: claims[k] for k in IDENTITY_CLAIMS if k in claims and k not in ("auth_time", "sid")}
        )
    )


@bp.post(f"{OIDC}/token/introspect")
def introspect(realm: str) -> Response:
    ctx = _ctx()
    audiences = {
        ctx.issuer(realm),
        ctx.endpoint(realm, "token"),
        ctx.endpoint(realm, "token/introspect"),
    }
    client = ctx.authenticator.authenticate(
        realm, request.form, audiences, request.headers.get("Authorization")
    )
    if client.public:
        raise OAuthError("invalid_client", "introspection requires client authentication")
    value = request.form.get("token")
    if not value:
        raise OAuthError("invalid_request", "missing parameter: token")
    claims = _active_access_token(ctx, realm, value)
    if claims is not None:
        return _no_store(
            jsonify(
                {
                    **claims,
                    "active": True,
                    "client_id": claims.get("azp"),
                    "username": claims.get("preferred_username"),
                    "token_type": "Bearer",
                }
            )
        )
    refresh = ctx.store.refresh_token(value)
    grant = ctx.store.grant(refresh["grant_id"]) if refresh else None
    if refresh and grant and grant["realm"] == realm:
        return _no_store(
            jsonify(
                {
                    "active": True,
                    "token_type": "Refresh",
                    "client_id": grant["client_id"],
                    "sid": grant["sid"],
                    "scope": grant["scope"],
                    "exp": refresh["expires"],
                }
            )
        )
    return _no_store(jsonify(active=False))


@bp.route(f"{OIDC}/logout", methods=["GET", "POST"])
def logout(realm: str) -> Response:
    params = request.form if request.method == "POST" else request.args
    return logout_module.logout(_ctx(), realm, params)


@bp.get("/auth/resources/sandbox.css")
def stylesheet() -> Response:
    return send_from_directory(STATIC, "sandbox.css", max_age=300)


@bp.get("/auth/resources/form-post.js")
def form_post_script() -> Response:
    return send_from_directory(STATIC, "sandbox-form-post.js", max_age=300)


@bp.errorhandler(OAuthError)
def oauth_error(err: OAuthError) -> Response:
    response = jsonify(err.as_dict())
    response.status_code = err.status
    return _no_store(response)


@bp.errorhandler(ErrorPage)
def error_page(err: ErrorPage) -> Response:
    html = render_template("sandbox/error.html", title=err.title, detail=err.detail)
    return Response(html, status=err.status, mimetype="text/html")


@bp.after_request
def headers(response: Response) -> Response:
    if response.mimetype == "text/html":
        for name, value in PAGE_HEADERS.items():
            response.headers.setdefault(name, value)
    origin = request.headers.get("Origin")
    if origin and request.endpoint in CORS_ENDPOINTS and origin in _web_origins():
        response.headers["Access-Control-Allow-Origin"] = origin
        # keycloak-js calls with `credentials: 'include'`; Keycloak allows it for web origins.
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.vary.add("Origin")
    return response


def _active_access_token(ctx: IamContext, realm: str, value: str) -> dict[str, Any] | None:
    """The claims of an access token of this realm that is still active, else None."""
    try:
        claims = ctx.signer.verify(value, issuer=ctx.issuer(realm))
    except InvalidToken:
        return None
    if claims.get("typ") != "Bearer" or not ctx.store.access_token_active(claims.get("jti", "")):
        return None
    return claims


def _web_origins() -> frozenset[str]:
    realm = (request.view_args or {}).get("realm", "")
    return frozenset().union(*(c.web_origins for c in _ctx().clients.in_realm(realm)))


def _public_json(document: dict[str, Any]) -> Response:
    response = jsonify(document)
    response.headers["Access-Control-Allow-Origin"] = "*"  # public metadata, as Keycloak's
    return response


def _no_store(response: Response) -> Response:
    # RFC 6749 §5.1: token responses must not be cached.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
