"""Security headers on every response, and rate limits on the login and send routes.

The Content-Security-Policy allows scripts only from this origin (no inline
script anywhere), no framing by other sites, and forms and fetches only to
this origin and the realm (the login and logout redirects go there).
A route that needs a stricter or different policy sets its own header first.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Flask, Response, g, render_template, request, session

from .extensions import services, settings

RATE_LIMITS = {  # endpoint -> (requests, per seconds)
    "auth.login": (20, 60),
    "auth.callback": (20, 60),
    "api.send": (30, 60),
    "mailbox.send": (30, 60),
}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy() -> str:
    realm = " ".join(sorted({_origin(settings().iam_issuer), _origin(settings().iam_m2m_issuer)}))
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            f"form-action 'self' {realm}",
            f"connect-src 'self' {realm}",
            "frame-src 'self'",
            "frame-ancestors 'none'",
        ]
    )


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = content_security_policy()
        headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if not settings().is_sandbox:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def rate_limit() -> Response | tuple | None:
    """A fixed window per route and caller, counted in the shared store."""
    limit = RATE_LIMITS.get(request.endpoint or "")
    if limit is None:
        return None
    count, window = limit
    user = session.get("user") or {}
    caller = g.get("api_caller") or user.get("sub") or request.remote_addr or "?"
    slot = int(time.time() // window)
    seen = services().store.incr(f"rate:{request.endpoint}:{caller}:{slot}", window)
    if seen <= count:
        return None
    retry_after = str(window - int(time.time()) % window)
    if request.path.startswith("/api/"):
        from .errors import problem

        # Problem documents are for developers: English, like all of /api/v1.
        response = problem(
            429,
            "Too many requests",
            f"At most {count} requests per {window} seconds here. Try again in {retry_after} s.",
        )
    else:
        response = Response(
            render_template(
                "errors/rate_limited.html", count=count, window=window, retry_after=retry_after
            ),
            429,
        )
    response.headers["Retry-After"] = retry_after
    return response


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
    app.before_request(rate_limit)
