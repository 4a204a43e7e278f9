"""The clients registered in the sandbox realms, as eHealth registers them at onboarding.

One confidential web client and one public PKCE client in `healthcare` (use cases
2.2.2 and 2.2.1 of the eHealthBox onboarding procedure), one organisation client in
`M2M` (use case 2.2.3). Every client has the `ehbox` scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..settings import SandboxSettings

HEALTHCARE = "healthcare"
M2M = "M2M"

AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a grant type name, not a secret
CLIENT_CREDENTIALS = "client_credentials"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105
REALM_GRANTS = {
    HEALTHCARE: (AUTHORIZATION_CODE, REFRESH_TOKEN, TOKEN_EXCHANGE),
    M2M: (CLIENT_CREDENTIALS, TOKEN_EXCHANGE),
}

KNOWN_SCOPES = ("openid", "ehbox", "profile", "email", "offline_access")
# Keycloak's "default" client scopes: granted whether or not the client asks for them
# (eHealth's browser sample asks for none but `openid`).
DEFAULT_SCOPES = ("ehbox",)


@dataclass(frozen=True)
class Client:
    """A registered client: how it authenticates, where it may send users, what it may do."""

    client_id: str
    realm: str
    public: bool  # no credentials: PKCE only; confidential clients use private_key_jwt
    grant_types: frozenset[str]
    # A confidential client's registration: private_key_jwt, or a secret (Keycloak's
    # "Client Id and Secret" accepts it both in the Basic header and in the form).
    auth_method: str = "private_key_jwt"
    secret: str = field(default="", repr=False)
    jwks_uri: str = ""
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    exchange_audiences: frozenset[str] = frozenset()  # token exchange: allowed `audience`
    exchange_from: frozenset[str] = frozenset()  # token exchange: allowed subject `azp`
    backchannel_logout_uri: str = ""

    @property
    def web_origins(self) -> frozenset[str]:
        """Origins of the redirect URIs: Keycloak's "+" web origins, used for CORS."""
        return frozenset(_origin(uri) for uri in self.redirect_uris)


class ClientRegistry:
    """The clients of both realms, looked up by realm and client id."""

    def __init__(self, clients: list[Client]):
        self._clients = {(c.realm, c.client_id): c for c in clients}

    def get(self, realm: str, client_id: str | None) -> Client | None:
        return self._clients.get((realm, client_id or ""))

    def in_realm(self, realm: str) -> list[Client]:
        return [c for (r, _), c in self._clients.items() if r == realm]

    @classmethod
    def from_settings(cls, settings: SandboxSettings) -> ClientRegistry:
        web, public, m2m = settings.web_client_id, settings.public_client_id, settings.m2m_client_id
        audience = frozenset({settings.ehbox_audience})
        return cls(
            [
                Client(
                    web,
                    HEALTHCARE,
                    public=False,
                    grant_types=frozenset({AUTHORIZATION_CODE, REFRESH_TOKEN, TOKEN_EXCHANGE}),
                    auth_method=settings.web_client_auth,
                    secret=settings.web_client_secret
                    if settings.web_client_auth != "private_key_jwt"
                    else "",
                    jwks_uri=settings.client_jwks_url,
                    redirect_uris=settings.redirect_uris,
                    post_logout_redirect_uris=settings.post_logout_redirect_uris,
                    exchange_audiences=audience,
                    # The app's server side also exchanges the tokens its browser page obtained.
                    exchange_from=frozenset({web, public}),
                    backchannel_logout_uri=settings.backchannel_logout_uri,
                ),
                Client(
                    public,
                    HEALTHCARE,
                    public=True,
                    grant_types=frozenset({AUTHORIZATION_CODE, REFRESH_TOKEN, TOKEN_EXCHANGE}),
                    redirect_uris=settings.public_redirect_uris,
                    # The public page belongs to the same app: it may return to its own page
                    # (Keycloak's "+") or to the app's post-logout page.
                    post_logout_redirect_uris=settings.public_redirect_uris
                    + settings.post_logout_redirect_uris,
                    exchange_audiences=audience,
                    exchange_from=frozenset({public}),
                ),
                Client(
                    m2m,
                    M2M,
                    public=False,
                    grant_types=frozenset({CLIENT_CREDENTIALS, TOKEN_EXCHANGE}),
                    jwks_uri=settings.client_jwks_url,
                    exchange_audiences=audience,
                    exchange_from=frozenset({m2m}),
                ),
            ]
        )


def parse_scope(value: str | None) -> list[str] | None:
    """The requested scopes in order, without duplicates; None if one is unknown."""
    scopes: list[str] = []
    for scope in (value or "").split():
        if scope not in KNOWN_SCOPES:
            return None
        if scope not in scopes:
            scopes.append(scope)
    return scopes


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"
