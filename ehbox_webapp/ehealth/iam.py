"""I.AM Connect (Keycloak) client: discovery, private_key_jwt, the grants, token validation.

Framework-neutral: usable from a script, a worker or any web framework. The
protocol work (authorization URL with PKCE S256, token requests) goes through
authlib's requests client; JWTs are signed and checked with joserfc.

What eHealth expects of a client assertion (see docs/ehealth-platform.md):
RS256, `iss` = `sub` = client id, `aud` = the realm issuer URL (not the token
endpoint), a unique `jti`, a short `exp`.

Clocks: this machine and the realm may disagree by up to CLOCK_LEEWAY seconds. Every
time claim the app checks (`exp`, `nbf`, `iat` of ID, access and logout tokens) is given
that leeway, and the client assertion is dated by the realm's clock as its answers'
`Date` header shows it (`RealmClock`), within the same bound: Keycloak allows an
assertion only 15 s of skew and 60 s of age, too little to leave to NTP alone.

Revocation: a Bearer token that passed validation is trusted again without a check for
at most VALIDATION_TTL seconds; then it is validated anew, which includes asking
`EndedSessions` whether the realm said its session ended (a back-channel logout). A
back-channel logout, or a token exchange the realm refuses, also drops at once every
validation and exchanged token cached for that session here (`forget_session`).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote_plus, urlencode

import requests
from authlib.common.urls import add_params_to_qs
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .json_input import JsonRefused
from .json_input import loads as json_loads
from .keystore import SigningIdentity
from .revocation import EndedSessions, session_of

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a URN
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 - a URN
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# Algorithms we accept on tokens, whatever a realm advertises: never `none`, never HMAC.
SAFE_ALGORITHMS = ("RS256", "PS256", "ES256", "RS384", "RS512")
ASSERTION_LIFETIME = 60
# The one tolerance for clocks that disagree, this machine's and the realm's, in seconds:
# every `exp`, `nbf` and `iat` check, and the largest correction of the assertion's dates.
CLOCK_LEEWAY = 60
# A validated Bearer token is trusted again without a check for at most this long.
VALIDATION_TTL = 10
MAX_TOKEN_BYTES = 16 * 1024  # a Keycloak token with many roles is a few kB
DISCOVERY_TTL = 3600
JWKS_TTL = 3600
JWKS_MIN_REFETCH = 10


# The scope eHealth grants for the eHealthBox, asked by the M2M client and required on /api/v1.
EHBOX_SCOPE = "ehbox"


def now() -> float:
    """This machine's clock, as every time check here reads it (tests shift it)."""
    return time.time()


class RealmClock:
    """The realm's time: this machine's clock plus the offset its answers' `Date` header
    shows, at most CLOCK_LEEWAY either way (a `Date` is whole seconds: an offset under
    2 s is taken as none)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def observe(self, date_header: str | None, sent: float, received: float) -> None:
        """Learn the offset from one answer's `Date`, sent and received by `now()`."""
        if not date_header:
            return
        try:
            realm = parsedate_to_datetime(date_header).timestamp() + 0.5  # mid-second
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        offset = realm - (sent + received) / 2
        offset = 0.0 if abs(offset) < 2 else offset
        self.offset = max(-CLOCK_LEEWAY, min(CLOCK_LEEWAY, offset))

    def now(self) -> float:
        return now() + self.offset


class IamError(Exception):
    """Base of the I.AM Connect client's errors; the message is for a person."""


class RealmUnavailable(IamError):
    """The realm did not answer, or answered with something that is not OAuth.

    `url` is what was called, so that an operator can see where the app looked.
    """

    def __init__(self, message: str, url: str | None = None):
        self.url = url
        super().__init__(message)


class TokenError(IamError):
    """The token endpoint refused a request (RFC 6749 §5.2)."""

    # The grant or the subject token is no longer good (revoked, expired, session ended):
    # the caller's to fix by logging in again, not an outage.
    CALLERS_ERRORS = frozenset({"invalid_grant", "invalid_token"})

    def __init__(self, error: str, description: str = "", status: int | None = None):
        self.error = error
        self.description = description
        self.status = status
        super().__init__(
            f"I.AM Connect refused the request: {error}"
            + (f" ({description})" if description else "")
        )

    @property
    def callers_fault(self) -> bool:
        """True when the token or grant sent is no longer accepted (log in again)."""
        return self.error in self.CALLERS_ERRORS


class InvalidToken(IamError):
    """A JWT from the realm failed validation; `reason` says which check."""

    def __init__(self, reason: str, error: str = "invalid_token"):
        self.reason = reason
        self.error = error
        super().__init__(reason)


@dataclass(frozen=True)
class TokenSet:
    """A token response, with absolute expiry times."""

    access_token: str
    expires_at: float
    refresh_token: str | None = None
    refresh_expires_at: float | None = None
    id_token: str | None = None
    scope: str = ""
    raw: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_response(cls, data: dict, now: float | None = None) -> TokenSet:
        now = time.time() if now is None else now
        if not isinstance(data.get("access_token"), str):
            raise RealmUnavailable("The token endpoint's answer carries no access token.")
        refresh_in = data.get("refresh_expires_in")
        return cls(
            access_token=data["access_token"],
            expires_at=now + float(data.get("expires_in") or 60),
            refresh_token=data.get("refresh_token"),
            refresh_expires_at=now + float(refresh_in) if refresh_in else None,
            id_token=data.get("id_token"),
            scope=data.get("scope", ""),
            raw={
                k: v
                for k, v in data.items()
                if k not in ("access_token", "refresh_token", "id_token")
            },
        )

    def expires_within(self, seconds: float, now: float | None = None) -> bool:
        return self.expires_at - seconds <= (time.time() if now is None else now)

    def to_dict(self) -> dict:
        return {
            "access_token": self.access_token,
            "expires_at": self.expires_at,
            "refresh_token": self.refresh_token,
            "refresh_expires_at": self.refresh_expires_at,
            "id_token": self.id_token,
            "scope": self.scope,
        }

    @classmethod
    def from_dict(cls, data: dict) -> TokenSet:
        return cls(
            **{
                k: data.get(k)
                for k in (
                    "access_token",
                    "expires_at",
                    "refresh_token",
                    "refresh_expires_at",
                    "id_token",
                )
            },
            scope=data.get("scope") or "",
        )


@dataclass(frozen=True)
class AuthorizationRequest:
    """What the app keeps between sending the user to the realm and the callback."""

    url: str
    state: str
    nonce: str
    code_verifier: str


class PrivateKeyJwt:
    """authlib client-auth method `private_key_jwt`, signed with the eHealth certificate.

    `aud` is the realm issuer URL, which is what eHealth's realms expect.
    """

    name = "private_key_jwt"

    def __init__(self, identity: SigningIdentity, audience: str, clock: RealmClock | None = None):
        self.identity = identity
        self.audience = audience
        self.clock = clock or RealmClock()

    def assertion(self, client_id: str, now: float | None = None) -> str:
        """Dated by the realm's clock (`RealmClock`) unless `now` is given."""
        issued = int(self.clock.now() if now is None else now)
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": self.audience,
            "jti": str(uuid.uuid4()),
            "iat": issued,
            "exp": issued + ASSERTION_LIFETIME,
        }
        return self.identity.sign_jwt(claims)

    def __call__(self, auth, method, uri, headers, body):
        body = add_params_to_qs(
            body or "",
            [
                ("client_id", auth.client_id),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", self.assertion(auth.client_id)),
            ],
        )
        return uri, headers, body


class ClientSecretBasic:
    """`client_secret_basic` as RFC 6749 §2.3.1 has it: id and secret form-encoded first.

    authlib's built-in method sends them raw, which a secret holding `:`, `%` or `+`
    does not survive (Keycloak's own secrets are alphanumeric: the same bytes either way).
    """

    name = "client_secret_basic"

    def __call__(self, auth, method, uri, headers, body):
        text = f"{quote_plus(auth.client_id)}:{quote_plus(auth.client_secret)}"
        headers["Authorization"] = "Basic " + base64.b64encode(text.encode()).decode()
        return uri, headers, body


class JwksCache:
    """A realm's signing keys: cached, re-fetched when an unknown `kid` shows up.

    A token without `kid` whose signature fails may also have been signed by a key
    published since (`keyset(..., retry=True)`). Either way the JWKS is fetched at
    most once per JWKS_MIN_REFETCH seconds, so forged tokens cannot hammer the realm.
    """

    def __init__(self, http: requests.Session, timeout: float):
        self._http = http
        self._timeout = timeout
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[KeySet, float, float]] = {}  # uri -> keys, fetched, expires

    def keyset(self, uri: str, kid: str | None = None, *, retry: bool = False) -> KeySet | None:
        """The realm's keys. With `retry`: fresh keys, or None if fetched too recently."""
        with self._lock:
            entry = self._keys.get(uri)
            now = time.monotonic()
            stale = entry is None or entry[2] <= now
            unknown = entry is not None and kid is not None and not _has_kid(entry[0], kid)
            may_refetch = entry is not None and now - entry[1] >= JWKS_MIN_REFETCH
            if stale or ((unknown or retry) and may_refetch):
                entry = (self._fetch(uri), now, now + JWKS_TTL)
                self._keys[uri] = entry
            elif retry:
                return None
            return entry[0]

    def _fetch(self, uri: str) -> KeySet:
        data = _get_json(self._http, uri, self._timeout, "the realm's JWKS")
        keys = [k for k in data.get("keys", []) if k.get("use", "sig") == "sig"]
        try:
            return KeySet.import_key_set({"keys": keys})
        except (JoseError, ValueError, TypeError) as exc:
            raise RealmUnavailable(f"The realm's JWKS could not be read: {exc}") from None


def _has_kid(keyset: KeySet, kid: str) -> bool:
    return any(k.kid == kid for k in keyset.keys)


def _get_json(
    http: requests.Session, uri: str, timeout: float, what: str, clock: RealmClock | None = None
) -> dict:
    try:
        sent = now()
        response = http.get(uri, timeout=timeout, headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise RealmUnavailable(
            f"I.AM Connect is unreachable at {uri} ({what}: {type(exc).__name__}).", uri
        ) from None
    if clock is not None:
        clock.observe(response.headers.get("Date"), sent, now())
    if response.status_code != 200:
        raise RealmUnavailable(
            f"I.AM Connect answered {response.status_code} at {uri} ({what}).", uri
        )
    try:
        data = response.json()
    except ValueError:
        raise RealmUnavailable(
            f"I.AM Connect did not answer JSON at {uri} ({what}).", uri
        ) from None
    if not isinstance(data, dict):
        raise RealmUnavailable(
            f"I.AM Connect answered an unexpected document at {uri} ({what}).", uri
        )
    return data


class IamClient:
    """One client of one realm (healthcare or M2M).

    It authenticates with `private_key_jwt` signed by `identity` (the default), with
    `client_secret_basic` or `client_secret_post` and `client_secret`, or not at all
    (a public client: no identity, no secret). `ended_sessions` (shared by the instances)
    is asked whether a Bearer token's realm session has ended.
    """

    def __init__(
        self,
        issuer: str,
        client_id: str,
        *,
        http: requests.Session,
        identity: SigningIdentity | None = None,
        timeout: float = 15.0,
        jwks: JwksCache | None = None,
        client_auth: str = "private_key_jwt",
        client_secret: str = "",
        ended_sessions: EndedSessions | None = None,
    ):
        if client_auth != "private_key_jwt" and not client_secret:
            raise ValueError(f"{client_auth} needs a client secret")
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_auth = client_auth
        self._client_secret = client_secret
        self.identity = identity
        self.http = http
        self.timeout = timeout
        self.jwks = jwks or JwksCache(http, timeout)
        self._metadata: dict | None = None
        self._metadata_expires = 0.0
        self._lock = threading.Lock()
        self._validated: dict[tuple, tuple[dict, float]] = {}  # key -> claims, checked at
        self.ended_sessions = ended_sessions
        self.clock = RealmClock()

    # -- discovery -------------------------------------------------------
    @property
    def metadata(self) -> dict:
        """The realm's discovery document, cached for an hour."""
        with self._lock:
            if self._metadata is None or self._metadata_expires <= time.monotonic():
                url = f"{self.issuer}/.well-known/openid-configuration"
                data = _get_json(self.http, url, self.timeout, "discovery", self.clock)
                if data.get("issuer") != self.issuer:
                    raise RealmUnavailable(
                        f"The discovery document at {url} names issuer {data.get('issuer')!r}, "
                        f"not the configured {self.issuer!r}.",
                        url,
                    )
                self._metadata, self._metadata_expires = data, time.monotonic() + DISCOVERY_TTL
            return self._metadata

    def endpoint(self, name: str) -> str:
        url = self.metadata.get(name)
        if not url:
            raise RealmUnavailable(f"The realm's discovery document has no {name}.")
        return url

    def _oauth(self, **kwargs: Any) -> OAuth2Session:
        if self.client_auth != "private_key_jwt":
            method: Any = (
                ClientSecretBasic()
                if self.client_auth == "client_secret_basic"
                else "client_secret_post"
            )
            kwargs["client_secret"] = self._client_secret
        elif self.identity is not None:
            method = PrivateKeyJwt(self.identity, self.issuer, self.clock)
        else:
            method = "none"
        session = OAuth2Session(
            self.client_id,
            token_endpoint_auth_method=method,
            code_challenge_method="S256",
            **kwargs,
        )
        # Reuse our pooled connections and headers (User-Agent, From).
        session.headers.update(self.http.headers)
        session.hooks["response"].append(self._note_date)
        session.mount("https://", self.http.get_adapter("https://"))
        session.mount("http://", self.http.get_adapter("http://"))
        return session

    # -- authorization code ---------------------------------------------
    def authorization_request(
        self, redirect_uri: str, scope: str, **extra: str
    ) -> AuthorizationRequest:
        """Build the authorization URL with PKCE S256, `state` and `nonce`."""
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(64)[:96]
        url, _ = self._oauth(redirect_uri=redirect_uri, scope=scope).create_authorization_url(
            self.endpoint("authorization_endpoint"),
            state=state,
            code_verifier=verifier,
            nonce=nonce,
            **extra,
        )
        return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        return self._token_request(
            grant_type="authorization_code",
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        return self._token_request(grant_type="refresh_token", refresh_token=refresh_token)

    def exchange_token(self, subject_token: str, audience: str) -> TokenSet:
        """RFC 8693: trade a user's (or M2M) token for one meant for `audience`."""
        return self._token_request(
            grant_type=TOKEN_EXCHANGE,
            subject_token=subject_token,
            subject_token_type=ACCESS_TOKEN_TYPE,
            requested_token_type=ACCESS_TOKEN_TYPE,
            audience=audience,
        )

    def client_credentials(self, scope: str | None = None) -> TokenSet:
        params = {"scope": scope} if scope else {}
        return self._token_request(grant_type="client_credentials", **params)

    def _note_date(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """The realm's clock, from a token endpoint's answer (never from a cache)."""
        received = now()
        self.clock.observe(
            response.headers.get("Date"), received - response.elapsed.total_seconds(), received
        )

    def _token_request(self, **params: str) -> TokenSet:
        url = self.endpoint("token_endpoint")
        session = self._oauth()
        try:
            data = session.fetch_token(url, timeout=self.timeout, **params)
        except OAuthError as exc:
            raise TokenError(exc.error or "invalid_request", exc.description or "") from None
        except requests.RequestException as exc:
            raise RealmUnavailable(
                f"I.AM Connect is unreachable at {url} (token endpoint: {type(exc).__name__}).",
                url,
            ) from None
        except ValueError:
            raise RealmUnavailable(
                f"The token endpoint at {url} did not answer JSON.", url
            ) from None
        return TokenSet.from_response(dict(data))

    # -- validation ------------------------------------------------------
    def _algorithms(self, advertised_key: str) -> list[str]:
        advertised = self.metadata.get(advertised_key) or ["RS256"]
        return [a for a in advertised if a in SAFE_ALGORITHMS] or ["RS256"]

    def decode(self, token: str, algorithms: Iterable[str]) -> dict:
        """Verify the signature against the realm's JWKS and return the claims.

        The header and the payload are read within bounds (`json_input`) before the JOSE
        library sees them; a refusal's reason never repeats the token's own text.
        """
        algorithms = list(algorithms)
        header = _header(token)
        if header.get("alg") not in algorithms:
            raise InvalidToken("its algorithm is not accepted")
        uri, kid = self.endpoint("jwks_uri"), header.get("kid")
        keys = self.jwks.keyset(uri, kid)
        try:
            return jwt.decode(token, keys, algorithms=algorithms).claims
        except (JoseError, ValueError) as exc:
            failure = InvalidToken(f"bad signature or unreadable token ({type(exc).__name__})")
        # No kid to tell a rotated key: one (rate-limited) look at the realm's current keys.
        fresh = self.jwks.keyset(uri, retry=True) if kid is None else None
        if fresh is None:
            raise failure
        try:
            return jwt.decode(token, fresh, algorithms=algorithms).claims
        except (JoseError, ValueError):
            raise failure from None

    def validate_id_token(self, id_token: str, *, nonce: str, leeway: int = CLOCK_LEEWAY) -> dict:
        """OpenID Connect Core §3.1.3.7: signature, iss, aud, azp, exp, iat, nonce."""
        claims = self.decode(id_token, self._algorithms("id_token_signing_alg_values_supported"))
        check_claims(claims, issuer=self.issuer, audience=self.client_id, leeway=leeway)
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise InvalidToken("the ID token has no sub (OpenID Connect Core §2: REQUIRED)")
        aud = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(aud) > 1 and claims.get("azp") != self.client_id:
            raise InvalidToken("the ID token was issued to another party (azp)")
        if not isinstance(claims.get("iat"), int):
            raise InvalidToken("the ID token has no valid iat")
        if not nonce or not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise InvalidToken("the ID token's nonce does not match this login")
        return claims

    def validate_access_token(
        self,
        token: str,
        *,
        allowed_clients: Iterable[str],
        required_scope: str | None = EHBOX_SCOPE,
        leeway: int = CLOCK_LEEWAY,
    ) -> dict:
        """Check a Bearer access token from browser code before the server acts on it.

        Signature (realm JWKS), `iss`, `exp`, `nbf`, `iat`, that it is an access token,
        that it was issued to an allowed client (`azp`) for this app (`aud`), the scope,
        and that its realm session has not ended (`ended_sessions`). Browser code sends
        the same token on every call: a token that passed is trusted again for at most
        VALIDATION_TTL seconds (and never past its `exp`), then checked anew, so a
        session the realm ended elsewhere is refused here within that time. The cache key
        covers the token and the rules applied.
        """
        allowed = frozenset(allowed_clients)
        key = (hashlib.sha256(token.encode()).hexdigest(), allowed, required_scope)
        checked_now = time.monotonic()
        with self._lock:
            cached = self._validated.get(key)
        if cached is not None:
            claims, checked = cached
            if checked_now - checked < VALIDATION_TTL and claims["exp"] + leeway > now():
                return claims
        claims = self._validate_access_token(token, allowed, required_scope, leeway)
        if self.ended_sessions is not None and self.ended_sessions.ended(claims):
            raise InvalidToken("the realm session of this token has ended")
        with self._lock:
            if len(self._validated) >= 10_000:
                self._validated = {
                    k: c for k, c in self._validated.items() if checked_now - c[1] < VALIDATION_TTL
                }
            self._validated[key] = (claims, checked_now)
        return claims

    def forget_session(self, *, sid: str | None = None, sub: str | None = None) -> int:
        """Drop the cached validations of tokens of realm session `sid` (or, with `sub`
        only, of that user); how many were dropped."""
        with self._lock:
            gone = [k for k, (c, _) in self._validated.items() if _same_session(c, sid, sub)]
            for key in gone:
                del self._validated[key]
        return len(gone)

    def session_ended(self, *, sid: str | None, sub: str | None, at: float | None) -> None:
        """The realm said (back-channel logout) that session `sid`, or every session of
        `sub` begun by `at`, ended: remember it for every instance, forget it here."""
        if self.ended_sessions is not None:
            self.ended_sessions.end(sid=sid, sub=sub, at=at)
        self.forget_session(sid=sid, sub=sub)

    def _validate_access_token(
        self, token: str, allowed: frozenset[str], required_scope: str | None, leeway: int
    ) -> dict:
        claims = self.decode(token, self._algorithms("id_token_signing_alg_values_supported"))
        check_claims(claims, issuer=self.issuer, audience=None, leeway=leeway)
        if claims.get("typ", "Bearer") != "Bearer":
            raise InvalidToken("this is not an access token")
        # Keycloak names the client `azp`; RFC 9068 JWT access tokens name it `client_id`.
        if client_of(claims) not in allowed:
            raise InvalidToken("the token was issued to a client this API does not accept")
        aud = claims.get("aud")
        if not allowed & set(aud if isinstance(aud, list) else [aud]):
            raise InvalidToken("the token is not meant for this application (aud)")
        if required_scope and required_scope not in str(claims.get("scope", "")).split():
            raise InvalidToken(
                f"the token lacks the {required_scope!r} scope", error="insufficient_scope"
            )
        return claims

    def validate_logout_token(self, token: str, *, leeway: int = CLOCK_LEEWAY) -> dict:
        """OpenID Connect Back-Channel Logout 1.0 §2.6 (the `jti` replay check is the caller's)."""
        claims = self.decode(token, self._algorithms("id_token_signing_alg_values_supported"))
        check_claims(claims, issuer=self.issuer, audience=self.client_id, leeway=leeway)
        events = claims.get("events")
        if not isinstance(events, dict) or BACKCHANNEL_EVENT not in events:
            raise InvalidToken("the logout token carries no back-channel logout event")
        if "nonce" in claims:
            raise InvalidToken("a logout token must not carry a nonce")
        if not claims.get("sid") and not claims.get("sub"):
            raise InvalidToken("the logout token names neither a session nor a subject")
        if not claims.get("jti") or not isinstance(claims.get("iat"), int):
            raise InvalidToken("the logout token lacks jti or iat")
        return claims

    def end_session_url(self, id_token_hint: str | None, post_logout_redirect_uri: str) -> str:
        params = {"post_logout_redirect_uri": post_logout_redirect_uri, "client_id": self.client_id}
        if id_token_hint:
            params["id_token_hint"] = id_token_hint
        return f"{self.endpoint('end_session_endpoint')}?{urlencode(params)}"


def _header(token: str) -> dict:
    """A compact JWS's header, its payload read too: both objects within bounds."""
    if len(token) > MAX_TOKEN_BYTES:
        raise InvalidToken("it is longer than any token of the realm")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("it is not a JWT (three parts)")
    header, payload = _segment(parts[0], "header"), _segment(parts[1], "payload")
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise InvalidToken("its header or payload is not a JSON object")
    return header


def _segment(text: str, name: str) -> object:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:  # binascii.Error, or a character outside ASCII
        raise InvalidToken(f"its {name} is not base64url") from None
    try:
        return json_loads(raw, max_bytes=MAX_TOKEN_BYTES)
    except JsonRefused as exc:
        raise InvalidToken(f"its {name} is not accepted: {exc.reason}") from None


def unverified_claims(token: str) -> dict:
    """A token's claims, NOT verified: only to find what a cache keeps under it."""
    try:
        _header(token)
        claims = _segment(token.split(".")[1], "payload")
    except InvalidToken:
        return {}
    return claims if isinstance(claims, dict) else {}


def _same_session(claims: dict, sid: str | None, sub: str | None) -> bool:
    if sid:
        return session_of(claims) == sid
    return bool(sub) and claims.get("sub") == sub


def client_of(claims: dict) -> str | None:
    """The client a token was issued to: `azp` (Keycloak) or `client_id` (RFC 9068)."""
    return claims.get("azp", claims.get("client_id"))


def check_claims(
    claims: dict, *, issuer: str, audience: str | None, leeway: int = CLOCK_LEEWAY
) -> None:
    """The registered-claim checks shared by ID, access and logout tokens: `iss`, `aud`,
    and `exp`, `nbf`, `iat` with the same leeway for clocks that disagree."""
    if claims.get("iss") != issuer:
        raise InvalidToken("the token comes from another issuer")
    if audience is not None:
        aud = claims.get("aud")
        if audience not in (aud if isinstance(aud, list) else [aud]):
            raise InvalidToken("the token is not meant for this client (aud)")
    at = now()
    exp = claims.get("exp")
    if not _is_time(exp) or exp + leeway < at:
        raise InvalidToken("the token has expired")
    for name in ("nbf", "iat"):  # optional; when present, not in the future
        value = claims.get(name)
        if value is not None and (not _is_time(value) or value - leeway > at):
            raise InvalidToken(f"the token's {name} is in the future or not a time")


def _is_time(value: object) -> bool:
    """A NumericDate (RFC 7519 §2): a number, never a JSON `true`."""
    return isinstance(value, int | float) and not isinstance(value, bool)


class TokenExchanger:
    """RFC 8693 exchanges, cached per (subject token, audience) until shortly before expiry.

    The cache is in process by default; pass a shared `store` (anything with
    `get(key)` and `set(key, value, ttl)`, e.g. the Redis store) so that several
    instances reuse one exchange. The subject token is never a cache key: its
    SHA-256 is. With a shared store, each process also keeps what it exchanged or
    read, until the same moment the store forgets it: a user's next call costs no
    round trip to the store. Only the end of the subject token's realm session removes
    an exchanged token earlier (`forget_session`: a back-channel logout, or an exchange
    the realm refused); the other instances then refuse the subject token at its next
    validation (`IamClient.validate_access_token`).
    """

    def __init__(
        self, client: IamClient, margin: float = 30.0, store: Any = None, max_entries: int = 10_000
    ):
        self.client = client
        self.margin = margin
        self.store = store
        self.max_entries = max_entries
        self._cache: dict[str, TokenSet] = {}
        self._owners: dict[str, tuple[str | None, str | None]] = {}  # key -> (sid, sub)
        self._lock = threading.Lock()
        self._inflight: dict[str, threading.Lock] = {}

    def token_for(self, subject_token: str, audience: str) -> str:
        key = f"exchange:{hashlib.sha256(subject_token.encode()).hexdigest()}:{audience}"
        cached = self._fresh(key, subject_token)
        if cached is not None:
            return cached.access_token
        # One exchange per key at a time: requests arriving together for a new token wait
        # for the first one's answer instead of each asking the realm.
        with self._lock:
            gate = self._inflight.setdefault(key, threading.Lock())
        try:
            with gate:
                cached = self._fresh(key, subject_token)
                if cached is None:
                    cached = self._exchange(subject_token, audience)
                    self._put(key, cached, subject_token)
        finally:
            with self._lock:
                self._inflight.pop(key, None)
        return cached.access_token

    def _exchange(self, subject_token: str, audience: str) -> TokenSet:
        try:
            return self.client.exchange_token(subject_token, audience)
        except TokenError as exc:
            refusal = _subject_refusal(exc)
            if refusal is None:
                raise
            # The realm no longer accepts the subject token (expired, or its session ended):
            # nothing kept for that session here is good any more.
            sid, sub = _owner(subject_token)
            self.client.forget_session(sid=sid, sub=None if sid else sub)
            self.forget_session(sid=sid, sub=None if sid else sub)
            raise refusal from None

    def forget_session(self, *, sid: str | None = None, sub: str | None = None) -> int:
        """Drop the tokens exchanged for realm session `sid` (or, with `sub` only, for that
        user), here and in the shared store; how many were dropped."""
        with self._lock:
            gone = [
                k
                for k, (s, u) in self._owners.items()
                if (s == sid if sid else bool(sub) and u == sub)
            ]
            for key in gone:
                self._owners.pop(key, None)
                self._cache.pop(key, None)
        if self.store is not None:
            for key in gone:
                self.store.delete(key)
        return len(gone)

    def _fresh(self, key: str, subject_token: str) -> TokenSet | None:
        cached = self._get(key, subject_token)
        return None if cached is None or cached.expires_within(self.margin) else cached

    def _get(self, key: str, subject_token: str) -> TokenSet | None:
        with self._lock:
            kept = self._cache.get(key)
        if kept is not None and not kept.expires_within(self.margin):
            return kept
        if self.store is not None:
            data = self.store.get(key)
            if data:
                tokens = TokenSet.from_dict(data)
                self._keep(key, tokens, subject_token)
                return tokens
            return None
        return kept

    def _put(self, key: str, tokens: TokenSet, subject_token: str) -> None:
        if self.store is not None:
            ttl = int(tokens.expires_at - time.time() - self.margin)
            if ttl > 0:
                self.store.set(key, tokens.to_dict(), ttl)
        self._keep(key, tokens, subject_token)

    def _keep(self, key: str, tokens: TokenSet, subject_token: str) -> None:
        owner = _owner(subject_token)
        with self._lock:
            if len(self._cache) >= self.max_entries:
                now = time.time()
                self._cache = {k: v for k, v in self._cache.items() if v.expires_at > now}
                self._owners = {k: o for k, o in self._owners.items() if k in self._cache}
            self._cache[key] = tokens
            self._owners[key] = owner


def _subject_refusal(exc: TokenError) -> TokenError | None:
    """The refusal of an exchange's subject token as the caller's `invalid_token`, or None
    when the exchange failed for another reason.

    Keycloak refuses a subject token it cannot accept (expired a second ago, its session
    ended, unreadable) with `invalid_request` and "Invalid token" (V1 and standard token
    exchange alike); other realms say `invalid_token` or `invalid_grant`. Either way it is
    the caller's to renew (401), not the realm failing (502).
    """
    if exc.callers_fault:
        return exc
    described = exc.description.lower()
    if exc.error == "invalid_request" and ("invalid token" in described or "subject" in described):
        return TokenError("invalid_token", exc.description, exc.status)
    return None


def _owner(subject_token: str) -> tuple[str | None, str | None]:
    """The realm session and user of a subject token (read, not verified: a cache's index)."""
    claims = unverified_claims(subject_token)
    sub = claims.get("sub")
    return session_of(claims), sub if isinstance(sub, str) else None
