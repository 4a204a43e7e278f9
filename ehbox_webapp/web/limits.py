"""Rate limits per person, with Flask-Limiter, on the views themselves.

Sends and other actions count per user (a pseudonym of the token's `sub`), so the
doctors of a clinic behind one proxy each keep their own limit. The login start counts
per client address, the only thing known before a login: the user's own address once
`TRUSTED_PROXIES` says how many proxies to look through. The counters live in the
shared Redis when `REDIS_URL` is set, so every instance counts the same requests.
The rates are settings (`RATE_LIMIT_LOGIN`, `RATE_LIMIT_SEND`, `RATE_LIMIT_ACTIONS`).
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, make_response, render_template, request, session
from flask_limiter import Limiter, RateLimitExceeded

from .extensions import settings
from .observability import pseudonym


def client_address() -> str:
    """The caller's address (the user's own behind trusted proxies)."""
    return f"addr:{request.remote_addr or 'unknown'}"


def user_or_address() -> str:
    """The authenticated user, as a pseudonym: never a user id in the shared store."""
    caller = g.get("api_caller") or (session.get("user") or {}).get("sub")
    return f"user:{pseudonym(caller)}" if caller else client_address()


limiter = Limiter(
    client_address,
    strategy="fixed-window",
    key_prefix="ehbox",
    swallow_errors=True,  # a store outage lets requests through (logged), never a 500
    headers_enabled=False,  # Retry-After is set on the 429 below
)

# The decorators the views carry.
login_limit = limiter.limit(lambda: settings().rate_limit_login, key_func=client_address)
send_limit = limiter.limit(lambda: settings().rate_limit_send, key_func=user_or_address)
action_limit = limiter.limit(lambda: settings().rate_limit_actions, key_func=user_or_address)

LOGIN_ENDPOINTS = {"auth.login", "auth.callback"}


def storage_uri(redis_url: str) -> str:
    """The limits library's URL for the app's Redis (it spells a socket `redis+unix://`)."""
    if not redis_url:
        return "memory://"
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


def too_many(exc: RateLimitExceeded) -> Response:
    """The 429: a page for logins, the compose form as typed for a send, a page for other
    actions, a problem document for the API."""
    item = exc.limit.limit
    count, window = item.amount, item.get_expiry()
    current = limiter.current_limit
    reset_at = current.reset_at if current is not None else time.time() + window
    retry_after = str(max(1, int(reset_at - time.time())))
    if request.path.startswith("/api/"):
        from .errors import problem

        # Problem documents are for developers: English, like all of /api/v1.
        response = problem(
            429,
            "Too many requests",
            f"At most {count} requests per {window} seconds here. Try again in {retry_after} s.",
        )
    elif request.endpoint == "mailbox.send":
        from .pages.compose import too_many_sends

        response = make_response(too_many_sends(count, window, retry_after))
    else:
        template = (
            "errors/login_limited.html"
            if request.endpoint in LOGIN_ENDPOINTS
            else "errors/rate_limited.html"
        )
        response = Response(
            render_template(template, count=count, window=window, retry_after=retry_after), 429
        )
    response.headers["Retry-After"] = retry_after
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(app.config["SETTINGS"].redis_url))
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, too_many)
