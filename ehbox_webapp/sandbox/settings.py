"""What the sandbox needs to know about the app it serves, and where its page templates are.

A module of its own, not the package's `__init__`: every part of the sandbox imports its
settings from here, so none of them imports the `sandbox` package back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@dataclass(frozen=True)
class SandboxSettings:
    """What the sandbox needs to know about the app it serves."""

    base_url: str  # where the sandbox is mounted, e.g. http://localhost:5000/sandbox
    instance_path: Path  # SQLite files and the realm key live here
    client_jwks_url: str  # the app's JWKS URL, registered for its private_key_jwt clients
    web_client_id: str  # confidential client (use case 2.2.2), healthcare realm
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    public_client_id: str  # public PKCE client (use case 2.2.1), healthcare realm
    public_redirect_uris: tuple[str, ...]
    m2m_client_id: str  # organisation client (use case 2.2.3), M2M realm
    ehbox_audience: str  # the eHealthBox API's client id: token-exchange target
    backchannel_logout_uri: str = ""
    # How the web client is registered: private_key_jwt (its JWKS URL), or with a secret.
    web_client_auth: str = "private_key_jwt"
    web_client_secret: str = field(default="", repr=False)
    max_message_bytes: int = 10 * 1024 * 1024  # eHealth's limit, attachments included
    access_token_seconds: int = 300
    refresh_token_seconds: int = 1800
    # Keycloak's refreshTokenMaxReuse, with "Revoke Refresh Token" on: how often a used
    # refresh token is accepted again (0: once only; a use beyond ends the client's session).
    refresh_token_max_reuse: int = 0
    # The fault-injection endpoints (eHealthBox and realms): anyone may call them, so they
    # exist only when the tests or the bench start the sandbox.
    fault_injection: bool = False
    # ETEE key directory (sandbox/etee): the app's keystore (path, password), whose certificates
    # the organisation publishes, and the folder the persona keystores are exported to.
    organisation_keystore: tuple[Path, str] | None = None
    persona_keystores_export: Path | None = None
    persona_keystore_password: str = "sandbox"  # noqa: S105 - public sandbox material
    # Realms of a real I.AM Connect (the app's IAM_ISSUER and IAM_M2M_ISSUER when they are
    # not the sandbox's, e.g. `make keycloak`): the sandbox eHealthBox accepts their tokens too.
    trusted_issuers: tuple[str, ...] = ()

    def issuer(self, realm: str) -> str:
        return f"{self.base_url}/auth/realms/{realm}"
