"""Realms of a real I.AM Connect whose access tokens the sandbox eHealthBox accepts too.

With `make keycloak` the app logs in at a real Keycloak while its eHealthBox stays the
sandbox's: the app's IAM_ISSUER and IAM_M2M_ISSUER then name Keycloak's realms, and the
sandbox eHealthBox trusts them as eHealth's trusts I.AM Connect. Keys come from each
issuer's discovery document (`jwks_uri`), are kept an hour, and are fetched again (at
most every 10 s) when a token names a `kid` not seen yet, as after a key rotation.
"""

from __future__ import annotations

import base64
import json
import threading
import time

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from . import json_input
from .json_input import MAX_TOKEN_BYTES, check_jwt
from .tokens import InvalidToken

KEYS_TTL = 3600.0
MIN_REFETCH = 10.0
TIMEOUT = 5.0
ALGORITHMS = ["RS256", "PS256", "ES256"]


def unverified_issuer(token: str) -> str | None:
    """The `iss` a JWT claims, read without checking it (to pick whose keys check it)."""
    try:
        check_jwt(token)  # header and payload within bounds before anything reads them
        payload = token.split(".")[1]
        claims = json_input.loads(
            base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)),
            max_bytes=MAX_TOKEN_BYTES,
        )
    except (IndexError, ValueError, UnicodeDecodeError):
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None


class TrustedRealms:
    """Verifies access tokens of the realms in `issuers` with those realms' published keys."""

    def __init__(self, issuers: tuple[str, ...]):
        self.issuers = tuple(i.rstrip("/") for i in issuers if i)
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[KeySet, float]] = {}  # issuer -> keys, fetched at

    def __contains__(self, issuer: object) -> bool:
        return issuer in self.issuers

    def verify(self, token: str, *, issuer: str, audience: str | None, leeway: int = 0) -> dict:
        """Signature (the realm's JWKS), `iss`, `exp` and `aud`; the claims, or InvalidToken."""
        try:
            check_jwt(token)
            kid = _header(token).get("kid")
        except ValueError:
            raise InvalidToken("bad token: not a JWT") from None
        keys = self._keyset(issuer, kid)
        try:
            claims = jwt.decode(token, keys, algorithms=ALGORITHMS).claims
        except (JoseError, ValueError):  # its text may quote the token (a `"`, non-Latin-1)
            raise InvalidToken("bad token: unreadable, or not signed by this realm") from None
        if claims.get("iss") != issuer:
            raise InvalidToken("token from another issuer")
        if not isinstance(claims.get("exp"), int) or claims["exp"] + leeway < time.time():
            raise InvalidToken("token expired")
        if audience is not None:
            aud = claims.get("aud")
            if audience not in (aud if isinstance(aud, list) else [aud]):
                raise InvalidToken("token not meant for this audience")
        return claims

    def _keyset(self, issuer: str, kid: str | None) -> KeySet:
        with self._lock:
            kept = self._keys.get(issuer)
            now = time.monotonic()
            unknown = (
                kid is not None and kept is not None and not any(k.kid == kid for k in kept[0].keys)
            )
            age = now - kept[1] if kept is not None else None
            if age is None or age > KEYS_TTL or (unknown and age > MIN_REFETCH):
                try:
                    kept = (_fetch_keys(issuer), now)
                except (requests.RequestException, ValueError, KeyError, JoseError) as exc:
                    raise InvalidToken(f"the keys of {issuer} could not be read ({exc})") from None
                self._keys[issuer] = kept
            return kept[0]


def _fetch_keys(issuer: str) -> KeySet:
    discovery = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=TIMEOUT)
    discovery.raise_for_status()
    jwks = requests.get(discovery.json()["jwks_uri"], timeout=TIMEOUT)
    jwks.raise_for_status()
    keys = [k for k in jwks.json().get("keys", []) if k.get("use", "sig") == "sig"]
    return KeySet.import_key_set({"keys": keys})


def _header(token: str) -> dict:
    segment = token.split(".")[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise ValueError("not a JWT") from None
    if not isinstance(header, dict):
        raise ValueError("not a JWT")
    return header
