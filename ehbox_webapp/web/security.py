"""Security headers on every response (rate limits: `limits.py`).

The Content-Security-Policy allows scripts only from this origin (no inline
script anywhere), no framing by other sites, and forms and fetches only to
this origin and the realm (the login and logout redirects go there).
A route that needs a stricter or different policy sets its own header first.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

from .extensions import settings


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


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
