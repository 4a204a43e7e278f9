"""What the views need of the login: who is logged in, their access token, and the way back
to the login when there is none.

The login itself (routes /login, /auth/callback, /logout) is the `auth` blueprint, which
imports this module; this module imports neither it nor the rate limits nor the error
pages, so that every view module can use it without closing an import circle.
"""

from __future__ import annotations

import functools
import logging
from urllib.parse import urlsplit

from flask import g, redirect, request, session, url_for

from ..ehealth.iam import TokenSet
from ..refresh import REFRESH_MARGIN, LoginAgain, SessionRefresher
from ..stores import SESSION_TTL
from .extensions import services, settings

log = logging.getLogger(__name__)


class LoginRequired(Exception):
    """The user must (re-)authenticate; `next` is where they were going."""

    def __init__(self, next_url: str = "/"):
        self.next_url = next_url


def safe_next(value: str | None) -> str:
    """Only the app's own paths: never an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def current_user() -> dict | None:
    return session.get("user")


def access_token() -> str:
    """The user's access token, refreshed when it is about to expire.

    One refresh per session at a time (`ehbox_webapp.refresh`). Raises
    :class:`LoginRequired` when there is none or the refresh was refused.
    """
    data = session.get("tokens")
    if not data:
        raise LoginRequired(request.full_path.rstrip("?"))
    tokens = TokenSet.from_dict(data)
    if not tokens.expires_within(REFRESH_MARGIN):
        return tokens.access_token
    refresher = SessionRefresher(
        services().store, services().iam, SESSION_TTL, timeout=settings().http_timeout
    )
    try:
        fresh = refresher.fresh_tokens(session.sid, tokens)
    except LoginAgain as exc:
        log.info("token refresh impossible (%s): asking the user to log in again", exc)
        session.clear()
        raise LoginRequired(request.full_path.rstrip("?")) from None
    if fresh.access_token != tokens.access_token:
        session["tokens"] = fresh.to_dict()
        session.loaded_tokens = session["tokens"]  # what the store holds now
    return fresh.access_token


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            return redirect(url_for("auth.login", next=safe_next(request.full_path.rstrip("?"))))
        g.user = current_user()
        return view(*args, **kwargs)

    return wrapped


def handle_login_required(exc: LoginRequired):
    """Back to the login, then to where the user was going (the `auth` blueprint registers it
    for the whole app)."""
    return redirect(url_for("auth.login", next=safe_next(exc.next_url)))
