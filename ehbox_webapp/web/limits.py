"""Rate limits per person, with Flask-Limiter, on the views themselves.

Sends and other actions count per user (a pseudonym of the token's `sub`), so the
doctors of a clinic behind one proxy each keep their own limit. The login start counts
per client address, the only thing known before a login: the user's own address once
`TRUSTED_PROXIES` says how many proxies to look through. The counters live in the
shared Redis when `REDIS_URL` is set, so every instance counts the same requests.
The rates are settings (`RATE_LIMIT_LOGIN`, `RATE_LIMIT_SEND`, `RATE_LIMIT_ACTIONS`).

Each blueprint answers its own 429 (the login its page, the mailbox pages the compose form
as typed or a page, the API a problem document) with the helpers below; the app answers
the generic page for anything else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, g, make_response, render_template, request, session
from flask.typing import ResponseReturnValue
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


def send_limit_unless(arranging: Callable[[], bool]) -> Callable:
    """The send limit on a view whose posts are not all sends (the compose form's search,
    pick, Remove, Save draft and language buttons post it too): a post for which
    `arranging()` is true counts under the actions' limit instead, so that finding
    colleagues does not use up the sends."""
    send = limiter.limit(
        lambda: settings().rate_limit_send, key_func=user_or_address, exempt_when=arranging
    )
    action = limiter.limit(
        lambda: settings().rate_limit_actions,
        key_func=user_or_address,
        exempt_when=lambda: not arranging(),
    )
    return lambda view: send(action(view))


def storage_uri(redis_url: str) -> str:
    """The limits library's URL for the app's Redis (it spells a socket `redis+unix://`)."""
    if not redis_url:
        return "memory://"
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


RATE_LIMITED_PAGE = "errors/rate_limited.html"


@dataclass(frozen=True)
class Limited:
    """A refused request: at most `count` requests per `window` seconds; `retry_after` is
    the number of seconds to wait, as the Retry-After header says it."""

    count: int
    window: int
    retry_after: str


def limited(exc: RateLimitExceeded) -> Limited:
    """The limit a request went over, and how long until it may try again."""
    item = exc.limit.limit
    count, window = item.amount, item.get_expiry()
    current = limiter.current_limit
    reset_at = current.reset_at if current is not None else time.time() + window
    return Limited(count, window, str(max(1, int(reset_at - time.time()))))


def with_retry_after(answer: ResponseReturnValue, limit: Limited) -> Response:
    """A blueprint's 429 answer, with its Retry-After."""
    response = make_response(answer)
    response.headers["Retry-After"] = limit.retry_after
    return response


def limited_page(template: str, limit: Limited) -> Response:
    """A 429 page (`template` is told the count, the window and the wait)."""
    page = render_template(
        template, count=limit.count, window=limit.window, retry_after=limit.retry_after
    )
    return with_retry_after((page, 429), limit)


def too_many(exc: RateLimitExceeded) -> Response:
    """The app's 429 when no blueprint answers its own: the generic page."""
    return limited_page(RATE_LIMITED_PAGE, limited(exc))


def storage_options(redis_url: str) -> dict:
    """Short timeouts and one retry: a stopped Redis must not hold a login for seconds (the
    limit is then skipped, `swallow_errors`; the session store answers its own 503)."""
    if not redis_url:
        return {}
    from redis.backoff import ConstantBackoff
    from redis.retry import Retry

    return {
        "socket_connect_timeout": 1,
        "socket_timeout": 2,
        "retry": Retry(ConstantBackoff(0.05), 1),
    }


def init_app(app: Flask) -> None:
    redis_url = app.config["SETTINGS"].redis_url
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(redis_url))
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", storage_options(redis_url))
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, too_many)
