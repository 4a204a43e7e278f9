"""What the sandbox realms put in their tokens: the claim sets of eHealth's I.AM Connect.

Field names follow the confirmed eHealth token interface (notes §1.8). The app and
the sandbox eHealthBox rely on them, so they are built here and nowhere else.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import Any

from ..personas import Persona

ROLE = "ehbox-user"
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_SECONDS = 120
# The sandbox's own namespace: a persona keeps the same `sub` across restarts and machines.
SUBJECT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ehbox-webapp:sandbox:iam")
# Claims that describe who the token is about; token exchange carries them over unchanged.
IDENTITY_CLAIMS = (
    "sub",
    "auth_time",
    "sid",
    "ssin",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "locale",
    "userProfile",
    "client_id",
)
# Keycloak's default `acr` mapper: level 1 for a login with the user's credentials.
ACR = "1"


def subject_id(name: str) -> str:
    """The stable `sub` of a persona id, or of `service-account-<client id>`."""
    return str(uuid.uuid5(SUBJECT_NAMESPACE, name))


def profile_claims(persona: Persona) -> dict[str, Any]:
    """The profile of a healthcare professional, as eHealth's ID and access tokens carry it."""
    return {
        "ssin": persona.ssin,
        "name": persona.name,
        "given_name": persona.first_name,
        "family_name": persona.last_name,
        "preferred_username": persona.id,
        "locale": persona.locale,
        "userProfile": {
            "lastName": persona.last_name,
            "firstName": persona.first_name,
            "ssin": persona.ssin,
            persona.profession: {"recognised": True, "nihii11": persona.nihii11},
        },
    }


def as_audience(*clients: str) -> str | list[str]:
    """`aud` as Keycloak writes it: a string when there is one audience, else a list."""
    return clients[0] if len(clients) == 1 else list(clients)


def _base(issuer: str, lifetime: int) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": issuer, "iat": now, "exp": now + lifetime, "jti": str(uuid.uuid4())}


def user_access_token(
    issuer: str,
    client_id: str,
    persona: Persona,
    *,
    sid: str,
    auth_time: int,
    scope: str,
    lifetime: int,
    allowed_origins: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A healthcare-realm access token for a logged-in persona (Keycloak layout).

    `allowed_origins`: the client's web origins, which Keycloak writes in its tokens.
    """
    return {
        **_base(issuer, lifetime),
        "sub": subject_id(persona.id),
        "aud": as_audience(client_id),
        "azp": client_id,
        "typ": "Bearer",
        "auth_time": auth_time,
        "sid": sid,
        "acr": ACR,
        "scope": scope,
        **profile_claims(persona),
        "resource_access": {client_id: {"roles": [ROLE]}},
        "allowed-origins": sorted(allowed_origins),
    }


def id_token(
    issuer: str,
    client_id: str,
    persona: Persona,
    *,
    sid: str,
    auth_time: int,
    nonce: str | None,
    access_token: str,
    lifetime: int,
) -> dict[str, Any]:
    """The OIDC ID token issued next to `access_token`."""
    claims = {
        **_base(issuer, lifetime),
        "sub": subject_id(persona.id),
        "aud": client_id,
        "azp": client_id,
        "typ": "ID",
        "auth_time": auth_time,
        "sid": sid,
        "acr": ACR,
        "at_hash": at_hash(access_token),
        **profile_claims(persona),
    }
    if nonce:
        claims["nonce"] = nonce
    return claims


def refresh_token(
    issuer: str, client_id: str, persona: Persona, *, sid: str, scope: str, expires: int
) -> dict[str, Any]:
    """A refresh token's claims, as Keycloak writes them (keycloak-js decodes them)."""
    return {
        "iat": int(time.time()),
        "exp": expires,
        "jti": str(uuid.uuid4()),
        "iss": issuer,
        "aud": issuer,
        "sub": subject_id(persona.id),
        "typ": "Refresh",
        "azp": client_id,
        "sid": sid,
        "scope": scope,
    }


def m2m_access_token(issuer: str, client_id: str, *, scope: str, lifetime: int) -> dict[str, Any]:
    """An M2M-realm access token for an organisation's service account."""
    username = f"service-account-{client_id}"
    return {
        **_base(issuer, lifetime),
        "sub": subject_id(username),
        "aud": as_audience(client_id),
        "azp": client_id,
        # Keycloak 26's service_account scope names the client `client_id` (`clientId` before).
        "client_id": client_id,
        "preferred_username": username,
        "typ": "Bearer",
        "acr": ACR,
        "scope": scope,
    }


def exchanged_access_token(
    issuer: str,
    subject: dict[str, Any],
    *,
    client_id: str,
    audience: str,
    scope: str,
    lifetime: int,
    allowed_origins: tuple[str, ...] = (),
) -> dict[str, Any]:
    """RFC 8693: the subject token's identity, for `audience`, requested by `client_id`."""
    return {
        **_base(issuer, lifetime),
        **{name: subject[name] for name in IDENTITY_CLAIMS if name in subject},
        "aud": as_audience(audience),
        "azp": client_id,
        "typ": "Bearer",
        "acr": ACR,
        "scope": scope,
        # The target API authorises on the roles of its own client (notes §1.6).
        "resource_access": {audience: {"roles": [ROLE]}},
        "allowed-origins": sorted(allowed_origins),  # the requesting client's
    }


def logout_token(issuer: str, client_id: str, *, sid: str, sub: str) -> dict[str, Any]:
    """An OIDC Back-Channel Logout token: no `nonce`, by the specification."""
    return {
        **_base(issuer, LOGOUT_TOKEN_SECONDS),
        "aud": client_id,
        "sid": sid,
        "sub": sub,
        "typ": "Logout",  # as Keycloak types its logout tokens
        "events": {BACKCHANNEL_EVENT: {}},
    }


def at_hash(access_token: str) -> str:
    """OIDC `at_hash` for RS256: the left half of SHA-256, base64url without padding."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()
