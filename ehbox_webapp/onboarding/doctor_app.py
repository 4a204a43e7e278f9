"""The doctor's checks of this app's own side: is it up, is its key published, is its
redirect URI the one the realm knows.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ..config import Settings
from .doctor_report import FAIL, OK, WARNING, CheckResult, KeyState, skipped


def start_app_hint(settings: Settings) -> str:
    """Where the sandbox's realms and API come from, for the "what to do" of a failure."""
    if settings.is_sandbox:
        return (
            f" (the sandbox is served by the app at PUBLIC_URL={settings.public_url}: start it "
            "there with `make run`, or set PUBLIC_URL/PORT to where it runs)"
        )
    return ""


def _b64url_int(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")
    except ValueError:  # binascii.Error included: a malformed member matches nothing
        return None


def _same_key(jwk: object, public_key: object) -> bool:
    """The JWK holds this public key: RSA modulus and exponent, or EC point, as integers.

    Integers, not base64 text, so a leading zero byte in a published modulus still matches.
    """
    if not isinstance(jwk, dict):
        return False
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        kty, wanted = "RSA", {"n": numbers.n, "e": numbers.e}
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        point = public_key.public_numbers()
        kty, wanted = "EC", {"x": point.x, "y": point.y}
    else:
        return False
    return jwk.get("kty") == kty and all(_b64url_int(jwk.get(k)) == v for k, v in wanted.items())


def check_app(settings: Settings, http: requests.Session) -> CheckResult:
    """The app answers at PUBLIC_URL; in the sandbox the realms and the API depend on it."""
    url = f"{settings.public_url}/healthz"
    status, error = None, ""
    try:
        status = http.get(url, allow_redirects=False).status_code
    except requests.RequestException as exc:
        error = type(exc).__name__
    if status == 200:
        return CheckResult(OK, "app", f"{url} answers")
    found = f"{url} answers HTTP {status}" if status else f"{url} does not answer ({error})"
    if settings.is_sandbox:
        return CheckResult(
            FAIL,
            "app",
            found,
            "nothing answers at PUBLIC_URL: start the app there with `make run`, or set "
            "PUBLIC_URL (or PORT) to where it runs; the sandbox realms and eHealthBox are "
            "served by it",
        )
    # The doctor may run before the deployment, or where PUBLIC_URL is not reachable.
    return CheckResult(WARNING, "app", found, "is the app deployed at PUBLIC_URL?")


def check_published_key(settings: Settings, keys: KeyState, http: requests.Session) -> CheckResult:
    """The signing key is the one at the JWKS URL the realm reads (same modulus: same key)."""
    check = "published key (JWKS)"
    if keys.identity is None:
        return skipped(check, keys.reason)
    url = settings.jwks_url if settings.is_sandbox else settings.etee_jwks_url
    where = "the app's own JWKS (sandbox)" if settings.is_sandbox else "the eHealth ETEE JWKS"
    try:
        response = http.get(url, headers={"Accept": "application/json"})
        published = response.json().get("keys", []) if response.status_code == 200 else None
    except (requests.RequestException, ValueError, AttributeError) as exc:
        return CheckResult(
            FAIL,
            check,
            f"{url} cannot be read ({type(exc).__name__})",
            "check the network" + start_app_hint(settings),
        )
    if published is None:
        return CheckResult(
            FAIL,
            check,
            f"{url} answered HTTP {response.status_code}",
            "check ETEE_IDENTIFIER, ETEE_IDENTIFIER_TYPE and ETEE_APPLICATION_ID"
            + start_app_hint(settings),
        )
    ours = keys.identity.key.public_key()
    match = next((k for k in published if _same_key(k, ours)), None)
    if match is None:
        return CheckResult(
            FAIL,
            check,
            f"none of the {len(published)} key(s) at {url} is this keystore's key",
            "use the keystore whose certificate eHealth "
            "registered for this identifier (a renewed one?)",
        )
    kid = match.get("kid")
    if kid and kid != keys.identity.kid:
        # The realm finds the key by the assertion's kid: the app must send eHealth's kid.
        return CheckResult(
            WARNING,
            check,
            f"published in {where} with kid '{kid}', but the app "
            f"signs with kid '{keys.identity.kid}' (its RFC 7638 thumbprint)",
            f"the client assertion must carry kid '{kid}'",
        )
    return CheckResult(OK, check, f"published in {where}; kid to use: '{kid or keys.identity.kid}'")


def check_redirect_uri(settings: Settings) -> CheckResult:
    """The redirect URI is PUBLIC_URL's, https outside the sandbox, not a loopback host."""
    uri = settings.redirect_uri
    parts = urlsplit(uri)
    if not uri.startswith(settings.public_url + "/"):
        return CheckResult(
            FAIL,
            "redirect URI",
            f"{uri} is not under PUBLIC_URL",
            "set PUBLIC_URL to the app's external base URL",
        )
    if not settings.is_sandbox and parts.scheme != "https":
        return CheckResult(FAIL, "redirect URI", f"{uri} is not https", "use an https PUBLIC_URL")
    if not settings.is_sandbox and parts.hostname in ("localhost", "127.0.0.1", "::1"):
        return CheckResult(
            WARNING,
            "redirect URI",
            f"{uri} is a loopback address",
            "set PUBLIC_URL to the URL users reach the app at",
        )
    return CheckResult(OK, "redirect URI", f"{uri} (from PUBLIC_URL)")


def check_redirect_registered(
    settings: Settings, authorization_endpoint: str | None, http: requests.Session
) -> CheckResult:
    """Ask the realm's authorization endpoint: an unregistered redirect URI is an error page."""
    check = "redirect URI registered"
    if not authorization_endpoint:
        return skipped(check, "the healthcare realm did not answer as IAM_ISSUER")
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "client_id": settings.iam_client_id,
        "redirect_uri": settings.redirect_uri,
        "response_type": "code",
        "scope": settings.iam_scopes,
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    try:
        response = http.get(authorization_endpoint, params=params, allow_redirects=False)
    except requests.RequestException as exc:
        return CheckResult(
            FAIL,
            check,
            f"the authorization endpoint does not answer ({type(exc).__name__})",
            "check IAM_ISSUER",
        )
    location = response.headers.get("Location", "")
    if response.status_code == 200 or (
        300 <= response.status_code < 400 and "error=" not in location
    ):
        return CheckResult(
            OK, check, f"the realm accepts {settings.redirect_uri} for {settings.iam_client_id}"
        )
    if location.startswith(settings.redirect_uri):
        return CheckResult(
            WARNING,
            check,
            "registered, but the realm answers the login request with an error",
            f"check IAM_SCOPES ({settings.iam_scopes})",
        )
    return CheckResult(
        FAIL,
        check,
        f"the realm refuses the login request (HTTP "
        f"{response.status_code}) for {settings.iam_client_id} with "
        f"{settings.redirect_uri}",
        "register this Redirect URI for IAM_CLIENT_ID "
        "(form section 5.1), or fix IAM_CLIENT_ID / PUBLIC_URL",
    )
