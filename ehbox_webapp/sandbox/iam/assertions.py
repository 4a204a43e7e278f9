"""Client authentication at the token-side endpoints: `private_key_jwt`, a secret, or none.

The confidential clients authenticate as eHealth's M2M samples do (notes §1.4): an
RS256 JWT with `iss` = `sub` = client id, `aud` = the realm URL, a short `exp` and
a fresh `jti`, verified against the client's registered JWKS URL. The web client may
instead be registered with a secret (how I.AM Connect registers it is UNKNOWN), sent
in the Basic header (RFC 6749 §2.3.1, form-encoded) or in the form.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from urllib.parse import unquote_plus

import requests
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from .. import json_input
from ..json_input import MAX_TOKEN_BYTES, check_jwt
from .clients import Client, ClientRegistry
from .errors import OAuthError
from .store import IamStore

log = logging.getLogger(__name__)


class AssertionRefused(OAuthError):
    """A known client's assertion failed its checks: `invalid_client` with HTTP 400.

    Keycloak answers 400 here (its signed-JWT authenticator), 401 only when no client
    has the id (docs/ehealth-platform.md §1.11); RFC 6749 §5.2 would say 401 for both.
    """

    def __init__(self, description: str):
        super().__init__("invalid_client", description, 400)


JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHM = "RS256"
MAX_LIFETIME = 600  # an assertion may live at most 10 minutes
CLOCK_SKEW = 30  # tolerated for `iat` / `nbf` slightly in the future
JWKS_TTL = 300
JWKS_TIMEOUT = 5


class JwksCache:
    """The clients' public keys, fetched from their JWKS URL and kept a few minutes."""

    def __init__(self, ttl: int = JWKS_TTL):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, list[RSAKey]]] = {}

    def keys(self, uri: str, refresh: bool = False) -> list[RSAKey]:
        with self._lock:
            cached = self._entries.get(uri)
        if cached and not refresh and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        try:
            keys = self._fetch(uri)
        except (requests.RequestException, ValueError, JoseError) as exc:
            log.warning("cannot fetch client JWKS from %s: %s", uri, exc)
            if cached:  # a refetch that fails should not lose keys that worked
                return cached[1]
            raise OAuthError("invalid_client", "the client's JWKS could not be fetched") from None
        with self._lock:
            self._entries[uri] = (time.monotonic(), keys)
        return keys

    @staticmethod
    def _fetch(uri: str) -> list[RSAKey]:
        response = requests.get(uri, timeout=JWKS_TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
        keys = []
        for jwk in document.get("keys", []) if isinstance(document, dict) else []:
            # Only RSA signature keys can verify an RS256 assertion; skip `use=enc` keys.
            if (
                isinstance(jwk, dict)
                and jwk.get("kty") == "RSA"
                and jwk.get("use", "sig") == "sig"
                and jwk.get("alg", ALGORITHM) == ALGORITHM
            ):
                keys.append(RSAKey.import_key({k: v for k, v in jwk.items() if k != "d"}))
        return keys


class ClientAuthenticator:
    """Finds and authenticates the client of a token, exchange or introspection request."""

    def __init__(self, registry: ClientRegistry, store: IamStore, jwks: JwksCache | None = None):
        self.registry = registry
        self.store = store
        self.jwks = jwks or JwksCache()

    def authenticate(
        self,
        realm: str,
        form: Mapping[str, str],
        audiences: Iterable[str],
        authorization: str | None = None,
    ) -> Client:
        """The authenticated client, or OAuthError(invalid_client)."""
        client_id = form.get("client_id")
        basic = _basic_credentials(authorization)
        if basic is not None or "client_secret" in form:
            return self._with_secret(realm, form, basic)
        assertion = form.get("client_assertion")
        if form.get("client_assertion_type") or assertion:
            if form.get("client_assertion_type") != JWT_BEARER or not assertion:
                raise OAuthError("invalid_client", f"client_assertion_type must be {JWT_BEARER}")
            header, claims, signed = _parse(assertion)
            claimed = claims.get("sub")
            if client_id and client_id != claimed:
                raise OAuthError("invalid_client", "client_id does not match the assertion")
            client = self.registry.get(realm, claimed if isinstance(claimed, str) else None)
            if client is None or client.public:
                raise OAuthError("invalid_client", "unknown confidential client")
            if client.auth_method != "private_key_jwt":
                raise OAuthError(
                    "invalid_client", f"this client authenticates with {client.auth_method}"
                )
            self._verify(client, header, claims, signed, set(audiences))
            return client
        client = self.registry.get(realm, client_id)
        if client is None:
            raise OAuthError("invalid_client", "unknown client")
        if not client.public:
            raise OAuthError(
                "invalid_client", f"this client must authenticate ({client.auth_method})"
            )
        return client

    def _with_secret(
        self, realm: str, form: Mapping[str, str], basic: tuple[str, str] | None
    ) -> Client:
        if basic is not None and "client_secret" in form:
            raise OAuthError("invalid_client", "use one client authentication method, not two")
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        if basic and form.get("client_id") not in (None, client_id):
            raise OAuthError("invalid_client", "client_id does not match the Basic credentials")
        client = self.registry.get(realm, client_id)
        if client is None or client.public or not client.secret:
            raise OAuthError("invalid_client", "no client with a secret by this id")
        if not hmac.compare_digest(secret.encode(), client.secret.encode()):
            raise OAuthError("invalid_client", "wrong client secret")
        return client

    def _verify(
        self,
        client: Client,
        header: dict,
        claims: dict,
        signed: jws.CompactSignature,
        audiences: set[str],
    ) -> None:
        kid = header.get("kid")
        verified = _verify_signature(signed, self.jwks.keys(client.jwks_uri), kid)
        # A new key (rollover) is not in the cache yet: fetch once more before refusing.
        if verified is None or (verified is False and kid is None):
            verified = _verify_signature(signed, self.jwks.keys(client.jwks_uri, True), kid)
        if not verified:
            raise AssertionRefused("the client assertion's signature does not verify")

        if claims.get("iss") != client.client_id or claims.get("sub") != client.client_id:
            raise AssertionRefused("the assertion's iss and sub must be the client id")
        aud = claims.get("aud")
        if not audiences & set(aud if isinstance(aud, list) else [aud]):
            raise AssertionRefused("the assertion's aud must be the realm URL")
        now = int(time.time())
        exp, iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf")
        if not _is_time(exp) or exp <= now:
            raise AssertionRefused("the assertion is expired or has no exp")
        if exp > now + MAX_LIFETIME:
            raise AssertionRefused("the assertion's exp is more than 10 minutes ahead")
        if iat is not None and (
            not _is_time(iat) or iat > now + CLOCK_SKEW or exp - iat > MAX_LIFETIME
        ):
            raise AssertionRefused("the assertion's iat is invalid or too long ago")
        if nbf is not None and (not _is_time(nbf) or nbf > now + CLOCK_SKEW):
            raise AssertionRefused("the assertion is not valid yet")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise AssertionRefused("the assertion has no jti")
        if not self.store.remember_assertion(client.client_id, jti, int(exp)):
            raise AssertionRefused("the assertion was already used")


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(client_id, secret) from `Authorization: Basic`, each form-decoded; None if absent."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "unreadable Basic credentials") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError("invalid_client", "unreadable Basic credentials")
    return unquote_plus(client_id), unquote_plus(secret)


def _parse(assertion: str) -> tuple[dict, dict, jws.CompactSignature]:
    """Header and claims, still unverified: they say which client's keys to use."""
    try:
        check_jwt(assertion)
        signed = jws.extract_compact(assertion.encode())
        claims = json_input.loads(signed.payload, max_bytes=MAX_TOKEN_BYTES)
    except (JoseError, ValueError, UnicodeError):
        raise OAuthError("invalid_client", "the client assertion is not a JWT") from None
    header = signed.headers()
    # Refuse `none` and the HMAC family before anything else: only RS256 is registered.
    if header.get("alg") != ALGORITHM:
        raise OAuthError("invalid_client", "the client assertion must be signed with RS256")
    if not isinstance(claims, dict):
        raise OAuthError("invalid_client", "the client assertion's payload is not a JSON object")
    return header, claims, signed


def _verify_signature(
    signed: jws.CompactSignature, keys: list[RSAKey], kid: str | None
) -> bool | None:
    """True if a key verifies; None if no key has that `kid`; False otherwise."""
    candidates = [k for k in keys if kid is None or k.kid == kid]
    if not candidates:
        return None
    for key in candidates:
        try:
            if jws.validate_compact(signed, key, algorithms=[ALGORITHM]):
                return True
        except (JoseError, ValueError):
            continue
    return False


def _is_time(value: object) -> bool:
    # NumericDate may be fractional (RFC 7519 §2); a JSON `true` is not a date.
    return isinstance(value, int | float) and not isinstance(value, bool)
