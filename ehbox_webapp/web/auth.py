"""Login through I.AM Connect as a confidential client (use case 2.2.2 of the procedure).

Authorization code with PKCE S256, `state` and `nonce`; the app authenticates
with `private_key_jwt`. Tokens live in the server-side session only. What the other
views need of the login (`login_required`, `access_token`, `LoginRequired`) is in
`login_checks.py`, so that they never import this blueprint.
"""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    after_this_request,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded

from ..ehealth.iam import IamError, InvalidToken, TokenError
from . import login_state
from .backchannel import remember_login
from .extensions import services, settings
from .limits import limited, limited_page, login_limit
from .login_checks import LoginRequired, handle_login_required, safe_next

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

PROFILE_CLAIMS = (
    "sub",
    "sid",
    "name",
    "given_name",
    "family_name",
    "ssin",
    "userProfile",
    "locale",
    "preferred_username",
)


@bp.get("/login")
@login_limit
def login():
    next_url = safe_next(request.args.get("next"))
    iam = services().iam
    auth = iam.authorization_request(settings().redirect_uri, settings().iam_scopes)
    # In a sealed cookie, not in a session: an anonymous visitor makes nothing on the server.
    pending = {
        "state": auth.state,
        "nonce": auth.nonce,
        "verifier": auth.code_verifier,
        "next": next_url,
    }
    return login_state.remember(redirect(auth.url), pending)


@bp.get("/auth/callback")
@login_limit
def callback():
    pending = login_state.pending()
    after_this_request(login_state.forget)  # one use, whatever comes of it
    state = request.args.get("state", "")
    if pending is None or not state or state != pending["state"]:
        log.warning("login callback refused: state does not match a login in progress")
        return _failure(
            400,
            "state",
            _(
                "This login link is not the one we started, or it was "
                "already used. Please log in again."
            ),
        )
    issuer = request.args.get("iss")
    if issuer is not None and issuer != services().iam.issuer:
        # RFC 9207: the answer names another authorization server (mix-up attack).
        log.warning("login callback refused: iss names another authorization server")
        return _failure(
            400,
            "issuer_mismatch",
            _(
                "This login answer comes from another "
                "identity provider than the one we asked. "
                "Please log in again."
            ),
        )
    if "error" in request.args:
        error = request.args.get("error", "")
        log.info("login refused by the realm: %s", error)
        if error == "access_denied":
            return _failure(403, "access_denied", _("The login was cancelled or refused."))
        return _failure(400, error, _("I.AM Connect could not log you in."))
    code = request.args.get("code")
    if not code:
        return _failure(400, "invalid_request", _("The login answer carries no code."))
    iam = services().iam
    try:
        tokens = iam.exchange_code(code, settings().redirect_uri, pending["verifier"])
        if not tokens.id_token:
            raise InvalidToken("the realm returned no ID token")
        claims = iam.validate_id_token(tokens.id_token, nonce=pending["nonce"])
    except InvalidToken as exc:
        log.warning("login refused: ID token invalid (%s)", exc.reason)
        return _failure(
            400,
            "invalid_id_token",
            _(
                "The identity token from I.AM Connect did "
                "not pass validation, so you are not "
                "logged in."
            ),
        )
    except TokenError as exc:
        log.warning("login refused: token endpoint said %s", exc.error)
        return _failure(400, exc.error, _("I.AM Connect refused to complete the login."))
    except IamError as exc:
        log.error("login failed: %s", exc)
        return _failure(
            502,
            "realm_unavailable",
            _("I.AM Connect is unreachable. Please try again in a moment."),
        )
    # A new session id at login: an id planted before (fixation) is worth nothing now.
    session.clear()
    session.regenerate()
    session["user"] = {k: claims[k] for k in PROFILE_CLAIMS if k in claims}
    session["tokens"] = tokens.to_dict()
    remember_login(claims.get("sid"), claims.get("sub"))
    log.info("login ok")
    # A login from the home page (or with no destination) lands in the inbox, as mail does.
    target = pending["next"]
    return redirect(url_for("mailbox.folder", folder="INBOX") if target == "/" else target)


def _failure(status: int, code: str, message: str):
    return render_template("auth/failure.html", code=code, message=message), status


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """GET asks for confirmation; POST (with its CSRF token) logs out here and at the realm."""
    if request.method == "GET":
        return render_template("auth/logout.html", logged_in="user" in session)
    tokens = session.get("tokens") or {}
    session.clear()
    # The notice lives under a new id: the realm's back-channel logout, which arrives before
    # the browser is back, ends every session of this login by its old id, the notice with it.
    session.regenerate()
    flash(_("You are logged out. Close the browser on a shared computer."))
    try:
        url = services().iam.end_session_url(
            tokens.get("id_token"), settings().post_logout_redirect_uri
        )
    except IamError:
        log.warning("logout: realm unreachable, local session ended only")
        return redirect(url_for("home.index"))
    return redirect(url)


bp.app_errorhandler(LoginRequired)(handle_login_required)


@bp.errorhandler(RateLimitExceeded)
def login_limited(exc: RateLimitExceeded):
    """Too many logins started from one address: the login's own 429 page."""
    return limited_page("errors/login_limited.html", limited(exc))


@bp.before_app_request
def load_user():
    g.user = session.get("user") if request.endpoint != "static" else None
