"""Security headers on every response (rate limits: `limits.py`).

The Content-Security-Policy allows scripts only from this origin (no inline
script anywhere), no framing by other sites, and forms and fetches only to
this origin and the realm (the login and logout redirects go there).
A route that needs a stricter or different policy sets its own header first.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Flask, Response

from .extensions import settings


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy() -> str:
    return _policy(settings().iam_issuer, settings().iam_m2m_issuer)


@functools.lru_cache(maxsize=8)
def _policy(issuer: str, m2m_issuer: str) -> str:
    """The policy for these realms (worked out once: it is the same on every response)."""
    realm = " ".join(sorted({_origin(issuer), _origin(m2m_issuer)}))
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


_ALWAYS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
_HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def set_security_headers(response: Response) -> Response:
    """Each header unless the view set its own (one pass over the headers, not one per name)."""
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    added = []
    if "content-security-policy" not in present:
        added.append(("Content-Security-Policy", content_security_policy()))
        if "x-frame-options" not in present:
            added.append(("X-Frame-Options", "DENY"))
    added += [item for item in _ALWAYS if item[0].lower() not in present]
    if not settings().is_sandbox and _HSTS[0].lower() not in present:
        added.append(_HSTS)
    headers.extend(added)
    return response


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
