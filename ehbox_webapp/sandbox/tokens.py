"""The sandbox realms' token signing key: sign, publish as JWKS, verify.

One RSA key for both sandbox realms, kept in the instance folder so that tokens
issued before a restart stay valid after it (as Keycloak's realm keys do). Refresh
tokens are signed with a separate HS512 secret, as Keycloak signs them: they are
JWTs a browser library may decode, but no client can verify or mistake them for
an access token.
"""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey, RSAKey

from .first_start import create_once
from .json_input import JsonRefused, check_jwt


class InvalidToken(Exception):
    """The token is malformed, wrongly signed, expired or not meant for the caller."""


class RealmSigner:
    """Signs the sandbox realms' tokens with a persistent RS256 key."""

    alg = "RS256"

    def __init__(self, key_file: Path):
        self._lock = threading.Lock()
        self.key = self._load_or_create(key_file)
        self.kid = self.key.thumbprint()
        secret = create_once(key_file.with_name("sandbox-realm-refresh.key"), _new_secret())
        self.refresh_key = OctKey.import_key(secret)

    @staticmethod
    def _load_or_create(key_file: Path) -> RSAKey:
        """The realm key in `key_file`, generated on first start.

        Every gunicorn worker gets here at once on a fresh instance: the file is
        created exclusively (first_start.create_once), so one key wins and every
        worker signs and verifies with it.
        """
        if key_file.exists():
            return RSAKey.import_key(key_file.read_bytes())
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return RSAKey.import_key(create_once(key_file, pem))

    def sign(self, claims: dict, typ: str = "JWT") -> str:
        header = {"alg": self.alg, "kid": self.kid, "typ": typ}
        return jwt.encode(header, claims, self.key)

    def sign_refresh(self, claims: dict) -> str:
        """A refresh token: HS512 with the realm's secret, never published."""
        header = {"alg": "HS512", "kid": self.refresh_key.thumbprint(), "typ": "JWT"}
        return jwt.encode(header, claims, self.refresh_key, algorithms=["HS512"])

    def jwks(self) -> dict:
        public = self.key.as_dict(private=False)
        public.update({"kid": self.kid, "use": "sig", "alg": self.alg})
        return {"keys": [public]}

    def verify(
        self,
        token: str,
        *,
        issuer: str | tuple[str, ...],
        audience: str | None = None,
        leeway: int = 0,
    ) -> dict:
        """Verify signature, `iss`, `exp` and (when given) `aud`; return the claims.

        The reasons are fixed phrases: a caller's challenge header carries them, and
        nothing of the token itself (an `alg` of "☃" is no Latin-1 header) goes there.
        """
        try:
            check_jwt(token)
            decoded = jwt.decode(token, KeySet([self.key]), algorithms=[self.alg])
        except JsonRefused:
            raise InvalidToken("bad token: not a JWT within bounds") from None
        except (JoseError, ValueError):
            raise InvalidToken("bad token: unreadable, or not signed by this realm") from None
        claims = decoded.claims
        issuers = (issuer,) if isinstance(issuer, str) else issuer
        if claims.get("iss") not in issuers:
            raise InvalidToken("token from another issuer")
        if not isinstance(claims.get("exp"), int) or claims["exp"] + leeway < time.time():
            raise InvalidToken("token expired")
        if audience is not None:
            aud = claims.get("aud")
            auds = aud if isinstance(aud, list) else [aud]
            if audience not in auds:
                raise InvalidToken("token not meant for this audience")
        return claims


def _new_secret() -> bytes:
    return secrets.token_hex(64).encode()
