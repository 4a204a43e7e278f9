"""Everything a realm endpoint needs, built once by `init_iam`."""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import SandboxSettings
from ..tokens import RealmSigner
from .assertions import ClientAuthenticator
from .clients import ClientRegistry
from .store import IamStore

CODE_SECONDS = 60
LOGIN_SECONDS = 15 * 60  # how long the login page may stay open
SESSION_SECONDS = 10 * 3600  # Keycloak's "SSO session max": no refresh beyond it


@dataclass(frozen=True)
class IamContext:
    """The realms' settings, signing key, state and clients."""

    settings: SandboxSettings
    signer: RealmSigner
    store: IamStore
    clients: ClientRegistry
    authenticator: ClientAuthenticator

    def issuer(self, realm: str) -> str:
        return self.settings.issuer(realm)

    def endpoint(self, realm: str, name: str) -> str:
        """The absolute URL of an OpenID Connect endpoint, e.g. `token`, `certs`."""
        return f"{self.issuer(realm)}/protocol/openid-connect/{name}"
