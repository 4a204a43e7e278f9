"""The login in progress, sealed in a cookie: no server-side session before a login ends.

`/login` needs to remember its `state`, `nonce` and PKCE verifier, and where the user was
going, until the realm sends the browser back to `/auth/callback`. Kept in the session
store, every anonymous visit to `/login` would make an entry there; a flood of them would
fill the store and push logged-in users out. So they travel in a cookie of their own,
sealed (encrypted and authenticated: Fernet, from `cryptography`) under a key derived from
`SECRET_KEY`, so that any instance opens what another sealed and nobody can read or forge
it. It is only sent to `/auth/`, lives `LOGIN_SECONDS`, and is deleted by the callback.
A session is made only when the login succeeds (with a new id: `auth.callback`).

One login at a time per browser: a second `/login` replaces the first, as a login kept in
the session did.
"""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Response, current_app, request

COOKIE = "ehbox_login"
PATH = "/auth/"
LOGIN_SECONDS = 1800  # the time a user may take at the realm (Keycloak's login timeout)
MAX_NEXT = 1000  # characters of the destination kept (the cookie stays well under 4 KB)


@functools.lru_cache(maxsize=4)
def _sealer(secret_key: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"ehbox-webapp login in progress"
    ).derive(secret_key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def remember(response: Response, pending: dict[str, Any]) -> Response:
    """Seal `pending` (state, nonce, verifier, next) into the login cookie of `response`."""
    if len(pending.get("next", "")) > MAX_NEXT:
        pending = {**pending, "next": "/"}
    sealed = _sealer(_secret()).encrypt(json.dumps(pending).encode("utf-8")).decode("ascii")
    response.set_cookie(
        COOKIE,
        sealed,
        max_age=LOGIN_SECONDS,
        path=PATH,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


def pending() -> dict[str, Any] | None:
    """The login this browser started here, if its cookie is ours and not too old."""
    sealed = request.cookies.get(COOKIE)
    if not sealed or len(sealed) > 4096:
        return None
    try:
        data = json.loads(_sealer(_secret()).decrypt(sealed.encode("ascii"), ttl=LOGIN_SECONDS))
    except (InvalidToken, ValueError, UnicodeError):
        return None
    if not isinstance(data, dict):
        return None
    wanted = ("state", "nonce", "verifier", "next")
    if not all(isinstance(data.get(name), str) for name in wanted):
        return None
    return data


def forget(response: Response) -> Response:
    """Delete the login cookie (the callback used it, whatever came of it)."""
    response.delete_cookie(
        COOKIE,
        path=PATH,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response
