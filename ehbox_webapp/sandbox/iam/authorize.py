"""The authorization endpoint and the sandbox login page (eHealth's IDP/FAS choice).

Until the client and its redirect URI are known to be registered, every problem
is an error page: redirecting to an unchecked URI would make the realm an open
redirector. After that, errors go back to the client (RFC 6749 §4.1.2.1) in the
`response_mode` it asked for (`query`, `fragment` or `form_post`, as Keycloak),
with `state` and `iss`; a code comes with `session_state` too.
The authorization request waits server-side under a random id while the user
picks a persona; the form posts only that id, a CSRF token and the persona.

A login opens a realm session and sets its SSO cookie (`KEYCLOAK_IDENTITY`, path
the realm), which every client of the realm shares: `prompt=none` answers with a
code while that session lives and `max_age` allows, else with `login_required`.
Without `prompt=none` the persona choice is shown every time, unlike Keycloak,
which would log the user straight in: switching personas stays one click.
"""

from __future__ import annotations

import hmac
import re
import time
from typing import Any
from urllib.parse import urlencode

from flask import redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from .. import personas
from .clients import DEFAULT_SCOPES, parse_scope
from .context import CODE_SECONDS, LOGIN_SECONDS, SESSION_SECONDS, IamContext
from .errors import ErrorPage, OAuthError
from .locales import login_texts, ui_locale

CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # BASE64URL(SHA-256(verifier)), no padding
RESPONSE_MODES = ("query", "fragment", "form_post")
SSO_COOKIE = "KEYCLOAK_IDENTITY"  # Keycloak's name for the realm's SSO session cookie


def _expired() -> ErrorPage:
    return ErrorPage(
        "Login expired",
        "This login page has expired or was already used. "
        "Go back to the application and sign in again.",
    )


def authorize(ctx: IamContext, realm: str, args: MultiDict[str, str]) -> Response:
    """Validate an authorization request and show the login page (or send an error back)."""
    if any(len(args.getlist(name)) > 1 for name in args):
        raise ErrorPage("Invalid request", "A parameter was given more than once.")
    client = ctx.clients.get(realm, args.get("client_id"))
    if client is None:
        raise ErrorPage("Unknown client", "This application is not registered in this realm.")
    redirect_uri = args.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        raise ErrorPage(
            "Invalid redirect URI",
            "The redirect_uri is not exactly one registered for this application.",
        )
    mode = args.get("response_mode", "query")
    if mode not in RESPONSE_MODES:  # Keycloak answers an unknown mode in the default one
        mode = "query"
    try:
        pending = _validate(args)
        pending.update(client_id=client.client_id, redirect_uri=redirect_uri, response_mode=mode)
        if args.get("prompt") == "none":
            return _silent_login(ctx, realm, pending)
    except OAuthError as err:
        return _back_to_client(ctx, realm, redirect_uri, err.as_dict(), args.get("state"), mode)
    request_id, csrf = ctx.store.save_pending(realm, pending, LOGIN_SECONDS)
    return _login_page(realm, client.client_id, request_id, csrf, lang=pending["ui_locale"])


def login(ctx: IamContext, realm: str, form: MultiDict[str, str]) -> Response:
    """The login form's POST: log a persona in and send a code, or cancel."""
    request_id = form.get("request_id", "")
    pending = ctx.store.pending(realm, request_id) if request_id else None
    if pending is None:
        raise _expired()
    if not hmac.compare_digest(form.get("csrf_token", ""), pending["csrf"]):
        raise ErrorPage("Invalid form", "The login form was not sent by this page.")
    if "cancel" in form:
        if not ctx.store.take_pending(request_id):
            raise _expired()
        error = {"error": "access_denied", "error_description": "the user cancelled the login"}
        return _back_to_client(
            ctx, realm, pending["redirect_uri"], error, pending["state"], _mode(pending)
        )

    persona = personas.persona(form.get("username", ""))
    if persona is None:
        return _login_page(
            realm,
            pending["client_id"],
            request_id,
            pending["csrf"],
            error=login_texts(pending.get("ui_locale"))["choose"],
            status=400,
            lang=pending.get("ui_locale"),
        )
    if not ctx.store.take_pending(request_id):  # a double submit must not log in twice
        raise _expired()
    auth_time = int(time.time())
    sid = ctx.store.create_session(
        realm, persona.id, pending["client_id"], auth_time, SESSION_SECONDS
    )
    response = _code_to_client(ctx, realm, pending, persona.id, sid, auth_time)
    cookie = ctx.store.create_sso_cookie(realm, sid, auth_time + SESSION_SECONDS)
    response.set_cookie(
        SSO_COOKIE,
        cookie,
        max_age=SESSION_SECONDS,
        path=sso_cookie_path(realm),
        httponly=True,
        secure=ctx.settings.base_url.startswith("https:"),
        samesite="Lax",
    )
    return response


def _silent_login(ctx: IamContext, realm: str, pending: dict[str, Any]) -> Response:
    """`prompt=none`: a code from the realm's SSO session, or `login_required`."""
    session = ctx.store.sso_session(realm, request.cookies.get(SSO_COOKIE, ""))
    if session is None:
        raise OAuthError("login_required", "the user is not logged in")
    max_age = pending.get("max_age")
    if max_age is not None and time.time() - session["auth_time"] > max_age:
        raise OAuthError("login_required", "the login is older than max_age")
    return _code_to_client(
        ctx, realm, pending, session["persona"], session["sid"], session["auth_time"]
    )


def _code_to_client(
    ctx: IamContext,
    realm: str,
    pending: dict[str, Any],
    persona_id: str,
    sid: str,
    auth_time: int,
) -> Response:
    code = ctx.store.save_code(
        realm,
        {
            "client_id": pending["client_id"],
            "redirect_uri": pending["redirect_uri"],
            "code_challenge": pending["code_challenge"],
            "nonce": pending["nonce"],
            "scope": pending["scope"],
            "sid": sid,
            "persona": persona_id,
            "auth_time": auth_time,
        },
        CODE_SECONDS,
    )
    params = {"code": code, "session_state": sid}
    return _back_to_client(
        ctx, realm, pending["redirect_uri"], params, pending["state"], _mode(pending)
    )


def sso_cookie_path(realm: str) -> str:
    """The realm's path under the sandbox mount, as Keycloak scopes its cookies."""
    return f"{request.script_root}/auth/realms/{realm}/"


def _mode(pending: dict[str, Any]) -> str:
    return pending.get("response_mode", "query")  # requests saved before form_post existed


def _validate(args: MultiDict[str, str]) -> dict[str, Any]:
    """The parts of the request kept for the code; OAuthError if it cannot be served."""
    if args.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "response_type must be code")
    if args.get("response_mode", "query") not in RESPONSE_MODES:
        raise OAuthError("invalid_request", "response_mode must be query, fragment or form_post")
    if "request" in args or "request_uri" in args:
        raise OAuthError("request_not_supported", "request objects are not supported")
    scopes = parse_scope(args.get("scope"))
    if scopes is None:
        raise OAuthError("invalid_scope", "unknown scope requested")
    scopes += [scope for scope in DEFAULT_SCOPES if scope not in scopes]
    challenge = args.get("code_challenge")
    if not challenge:
        raise OAuthError("invalid_request", "missing code_challenge: PKCE is required")
    if args.get("code_challenge_method") != "S256":
        raise OAuthError("invalid_request", "code_challenge_method must be S256")
    if not CHALLENGE.fullmatch(challenge):
        raise OAuthError("invalid_request", "code_challenge is not a base64url SHA-256 value")
    max_age = args.get("max_age")
    if max_age is not None and not max_age.isdigit():
        raise OAuthError("invalid_request", "max_age must be a number of seconds")
    return {
        "scope": " ".join(scopes),
        "code_challenge": challenge,
        "nonce": args.get("nonce"),
        "state": args.get("state"),
        "max_age": int(max_age) if max_age is not None else None,
        "ui_locale": ui_locale(args.get("ui_locales")),
    }


def _back_to_client(
    ctx: IamContext,
    realm: str,
    redirect_uri: str,
    params: dict[str, str],
    state: str | None,
    mode: str = "query",
) -> Response:
    """Answer a registered URI in `mode`, with `state` and `iss` (RFC 9207) added."""
    if state is not None:
        params = {**params, "state": state}
    params = {**params, "iss": ctx.issuer(realm)}
    if mode == "form_post":  # OAuth 2.0 Form Post Response Mode
        html = render_template("sandbox/form_post.html", action=redirect_uri, params=params)
        response = Response(html, mimetype="text/html")
        # The one sandbox page with a script: our own file that submits the form.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; script-src 'self'; style-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'"
        )
        return response
    if mode == "fragment":
        return redirect(f"{redirect_uri}#{urlencode(params)}", code=302)
    separator = "&" if "?" in redirect_uri else "?"
    return redirect(f"{redirect_uri}{separator}{urlencode(params)}", code=302)


def _login_page(
    realm: str,
    client_id: str,
    request_id: str,
    csrf: str,
    *,
    error: str = "",
    status: int = 200,
    lang: str | None = None,
) -> Response:
    choices = [
        {
            "id": p.id,
            "name": p.name,
            "quality": p.quality,
            "profession": p.profession,
            "ssin": _masked(p.ssin),
        }
        for p in personas.PERSONAS
    ]
    html = render_template(
        "sandbox/login.html",
        realm=realm,
        client_id=client_id,
        personas=choices,
        request_id=request_id,
        csrf_token=csrf,
        error=error,
        action=url_for("sandbox_iam.login_action", realm=realm),
        lang=lang or "en",
        t=login_texts(lang),
    )
    return Response(html, status=status, mimetype="text/html")


def _masked(ssin: str) -> str:
    """Birth date and check digits only, as identity screens show an INSS."""
    return f"{ssin[0:2]}.{ssin[2:4]}.{ssin[4:6]}-***.{ssin[9:11]}"
