"""The eHealth ETEE keystore: load the PKCS#12 file eHealth issues, sign JWTs, publish a JWKS.

An eHealth keystore (`.p12`, or `.acc-p12` in acceptance) holds the `authentication` entry
(RSA-2048; it signs the I.AM Connect client assertion) and one or more encryption entries whose
alias is the decimal serial number of their certificate, that certificate being issued by the
authentication certificate. See docs: ehealth-platform-notes §2.3. Framework-neutral: no Flask.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import NameOID
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from . import pkcs12
from .keystore_generate import generate_keystore

__all__ = [
    "AliasNotFound",
    "CertificateIdentity",
    "CertificateNotValid",
    "EteeKeystore",
    "KeyEntry",
    "KeystoreError",
    "KeystoreFormatError",
    "SigningIdentity",
    "WrongPassword",
    "build_jwks",
    "certificate_identity",
    "generate_keystore",
    "jwk_thumbprint",
]

AUTHENTICATION = "authentication"
_EC_ALGORITHMS = {
    "secp256r1": ("P-256", "ES256"),
    "secp384r1": ("P-384", "ES384"),
    "secp521r1": ("P-521", "ES512"),
}


class KeystoreError(Exception):
    """Base class; the message is one sentence a user can act on, never key material."""


class WrongPassword(KeystoreError):
    """The password does not open the keystore."""


class KeystoreFormatError(KeystoreError):
    """The file is not a PKCS#12 keystore, or is damaged, or uses an unsupported algorithm."""


class AliasNotFound(KeystoreError):
    """No private-key entry has the requested alias."""

    def __init__(self, alias: str, available: Iterable[str], source: str) -> None:
        self.alias, self.available = alias, tuple(available)
        listed = ", ".join(f"'{a}'" for a in self.available) or "none"
        super().__init__(f"There is no key entry '{alias}' in {source}; the aliases are: {listed}.")


class CertificateNotValid(KeystoreError):
    """The certificate is expired or not yet valid at the time of use."""

    def __init__(self, alias: str, cert: x509.Certificate, now: datetime, source: str) -> None:
        self.alias, self.now = alias, now
        self.not_before, self.not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        self.expired = now > self.not_after
        span = f"valid from {self.not_before:%Y-%m-%d %H:%M} to {self.not_after:%Y-%m-%d %H:%M} UTC"
        if self.expired:
            what = f"expired on {self.not_after:%Y-%m-%d %H:%M} UTC"
        else:
            what = f"is not valid yet (not before {self.not_before:%Y-%m-%d %H:%M} UTC)"
        super().__init__(f"The certificate '{alias}' in {source} {what}; it is {span}.")


@dataclass(frozen=True)
class KeyEntry:
    """A private key with its certificate and the issuers found in the same file."""

    alias: str
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = field(repr=False)
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()  # issuers, leaf excluded, nearest first


@dataclass(frozen=True)
class CertificateIdentity:
    """Who an eHealth certificate belongs to, parsed from its subject."""

    identifier_type: str  # "CBE", "SSIN", "NIHII-HOSPITAL", "EHP", ...
    identifier: str
    application_id: str | None
    name: str | None  # organisation / person name when present


# eHealth subjects carry the identifier as "TYPE=digits" in an OU and in the CN, the CN adding
# ", APPID" for an application certificate. Confirmed forms:
# - taktik/freehealth-connector `technical/utils/CertificateParser.java`: the identifier is the
#   OU matching `[A-Z(-|_)]+=[0-9]+`; an OU the CN ends with is the application id, another OU
#   (other than "eHealth-platform Belgium") the owner name; a SERIALNUMBER attribute means SSIN.
# - egelke's .NET client tests (Egelke.EHealth.Client.Pki.Test `CertTest`), a real certificate:
#   `CN="EHP=1990001916, VITALINKGATEWAY", OU=eHealth-platform Belgium, OU=VLAAMS AGENTSCHAP
#   ZORG EN GEZONDHEID, OU="EHP=1990001916", OU=VITALINKGATEWAY, O=Federal Government, C=BE`.
# - a person (public SAML test fixture): `CN="SSIN=<ssin>", OU=eHealth-platform Belgium,
#   OU=<name>, OU="SSIN=<ssin>", O=Federal Government, C=BE`.
# We try OU, then CN, then SERIALNUMBER, because a public benchmark PKI puts other numbers
# (`SERIALNUMBER=12345678, CN="NIHII-PHARMACY=12345678"`) in SERIALNUMBER.
_IDENTIFIER = re.compile(r"([A-Z][A-Z0-9_]*(?:-[A-Z0-9_]+)*)=(\d+)")
_CN_FORM = re.compile(_IDENTIFIER.pattern + r"\s*(?:,\s*(.+?))?\s*")
_NOT_A_NAME = {"ehealth-platform belgium", "etk"}
_SHA256 = hashes.SHA256()


def certificate_identity(cert: x509.Certificate) -> CertificateIdentity:
    """Parse the eHealth identifier, application id and name from a certificate subject."""
    subject = cert.subject

    def values(oid: x509.ObjectIdentifier) -> list[str]:
        return [str(a.value).strip() for a in subject.get_attributes_for_oid(oid)]

    ous, cns = values(NameOID.ORGANIZATIONAL_UNIT_NAME), values(NameOID.COMMON_NAME)
    found: tuple[str, str] | None = None
    for ou in ous:
        if match := _IDENTIFIER.fullmatch(ou):
            found = found or (match[1], match[2])
    application = None
    for cn in cns:
        if match := _CN_FORM.fullmatch(cn):
            found = found or (match[1], match[2])
            application = application or match[3]
    if found is None:
        serials = subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
        if serials and str(serials[0].value).isdigit():
            found = ("SSIN", str(serials[0].value))
        else:
            raise KeystoreError(
                f"The certificate '{subject.rfc4514_string()}' carries no eHealth identifier."
            )
    names = [ou for ou in ous if not _IDENTIFIER.fullmatch(ou) and ou.lower() not in _NOT_A_NAME]
    if application is None:  # freehealth-connector's rule: an OU the CN ends with
        application = next((ou for ou in names if any(cn.endswith(ou) for cn in cns)), None)
    names = [ou for ou in names if ou != application]
    return CertificateIdentity(found[0], found[1], application, names[0] if names else None)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_uint(value: int) -> str:
    return _b64url(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def jwk_thumbprint(jwk: Mapping[str, object]) -> str:
    """RFC 7638 thumbprint (SHA-256, base64url) over the required public members only."""
    required = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}[str(jwk["kty"])]
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def _public_members(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> dict[str, str]:
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        return {"kty": "RSA", "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}
    size = (public.curve.key_size + 7) // 8
    point = public.public_numbers()
    return {
        "kty": "EC",
        "crv": _EC_ALGORITHMS[public.curve.name][0],
        "x": _b64url(point.x.to_bytes(size, "big")),
        "y": _b64url(point.y.to_bytes(size, "big")),
    }


class SigningIdentity:
    """A private key and its certificate, ready to sign JWTs and to be published as a JWK."""

    def __init__(
        self,
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
        certificate: x509.Certificate,
        chain: tuple[x509.Certificate, ...] = (),
        kid: str | None = None,
    ) -> None:
        """`kid` defaults to the RFC 7638 thumbprint; pass the one eHealth's JWKS publishes."""
        self.key, self.certificate, self.chain = key, certificate, tuple(chain)
        if isinstance(key, rsa.RSAPrivateKey):
            self.alg = "RS256"
        elif isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _EC_ALGORITHMS:
            self.alg = _EC_ALGORITHMS[key.curve.name][1]
        else:
            raise KeystoreError("Only RSA and P-256/384/521 EC keys can sign JWTs.")
        self.kid = kid or jwk_thumbprint(_public_members(key))

    def __repr__(self) -> str:  # never the key
        return (
            f"<SigningIdentity kid={self.kid} subject={self.certificate.subject.rfc4514_string()}>"
        )

    def sign_jwt(self, claims: dict, headers: dict | None = None) -> str:
        """A compact JWS over `claims` with `kid` and `typ: JWT` headers, plus any `headers`."""
        header = {"typ": "JWT", "kid": self.kid, **(headers or {}), "alg": self.alg}
        jose_key = (RSAKey if self.alg == "RS256" else ECKey).import_key(self.key)
        return jwt.encode(header, claims, jose_key, algorithms=[self.alg])

    def public_jwk(self) -> dict:
        """The public JWK: key members, kid, use, alg, x5c (leaf then chain) and x5t#S256."""
        ders = [c.public_bytes(serialization.Encoding.DER) for c in (self.certificate, *self.chain)]
        return {
            **_public_members(self.key),
            "kid": self.kid,
            "use": "sig",
            "alg": self.alg,
            "x5c": [base64.b64encode(der).decode("ascii") for der in ders],
            "x5t#S256": _b64url(hashlib.sha256(ders[0]).digest()),
        }

    def days_left(self, now: datetime | None = None) -> int:
        """Whole days until the certificate expires (negative once expired)."""
        remaining = self.certificate.not_valid_after_utc - _utc(now)
        return int(remaining.total_seconds() // 86400)

    def identity(self) -> CertificateIdentity:
        """The eHealth identity in the certificate subject."""
        return certificate_identity(self.certificate)


def build_jwks(identities: Iterable[SigningIdentity]) -> dict:
    """A JWKS document `{"keys": [...]}`, one key per distinct kid, in the order given."""
    keys: dict[str, dict] = {}
    for identity in identities:
        keys.setdefault(identity.kid, identity.public_jwk())
    return {"keys": list(keys.values())}


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False  # another issuer name, another key, or a signature we cannot check
    return True


def _public_der(holder: x509.Certificate | PrivateKeyTypes) -> bytes:
    return holder.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class EteeKeystore:
    """The key entries of an eHealth PKCS#12 keystore, by alias, in file order."""

    def __init__(self, entries: Mapping[str, KeyEntry], source: str) -> None:
        self.entries: Mapping[str, KeyEntry] = MappingProxyType(dict(entries))
        self.source = source

    def __repr__(self) -> str:
        return f"<EteeKeystore {self.source} aliases={list(self.entries)}>"

    @classmethod
    def load(cls, path: str | os.PathLike, password: str) -> EteeKeystore:
        """Read a keystore file; every failure is a KeystoreError naming the file."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise KeystoreError(f"The keystore file {path} does not exist.") from None
        except OSError as exc:
            raise KeystoreError(
                f"The keystore file {path} cannot be read ({exc.strerror})."
            ) from None
        return cls.from_bytes(data, password, source=path.name)

    @classmethod
    def from_bytes(
        cls, data: bytes, password: str, *, source: str = "the keystore data"
    ) -> EteeKeystore:
        """Read a keystore from memory; `source` names it in error messages."""
        try:
            contents = pkcs12.read_pfx(data, password)
        except pkcs12.Pkcs12PasswordError:
            raise WrongPassword(f"The keystore password is wrong for {source}.") from None
        except pkcs12.Pkcs12Error as exc:
            raise KeystoreFormatError(
                f"Cannot read {source}: it is not a PKCS#12 keystore, or it is damaged ({exc})."
            ) from None
        pool = list(
            {
                c.certificate.fingerprint(_SHA256): c.certificate for c in contents.certificates
            }.values()
        )
        entries: dict[str, KeyEntry] = {}
        for bag in contents.keys:
            cert_bag = _matching_certificate(bag, contents.certificates)
            if cert_bag is None:
                continue  # a key without its certificate cannot be used or published
            cert = cert_bag.certificate
            alias = bag.friendly_name or cert_bag.friendly_name or str(cert.serial_number)
            entries[alias] = KeyEntry(alias, bag.private_key, cert, _chain(cert, pool))
        if not entries:
            raise KeystoreFormatError(f"No private key with its certificate was found in {source}.")
        return cls(entries, source)

    def entry(self, alias: str) -> KeyEntry:
        """The entry for `alias` (case-insensitive fallback, as Java keystores lower-case)."""
        found = self.entries.get(alias) or next(
            (e for a, e in self.entries.items() if a.lower() == alias.lower()), None
        )
        if found is None:
            raise AliasNotFound(alias, self.entries, self.source)
        return found

    def signing_identity(
        self, alias: str = AUTHENTICATION, *, now: datetime | None = None, kid: str | None = None
    ) -> SigningIdentity:
        """The signing key under `alias`, after checking its certificate is valid `now`.

        `kid` overrides the RFC 7638 thumbprint (eHealth's JWKS may publish its own).
        """
        entry = self.entry(alias)
        moment = _utc(now)
        cert = entry.certificate
        if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
            raise CertificateNotValid(entry.alias, cert, moment, self.source)
        return SigningIdentity(entry.private_key, cert, entry.chain, kid=kid)

    def encryption_entries(self) -> dict[str, KeyEntry]:
        """Decimal serial -> entry, for every entry issued by the authentication certificate."""
        auth = self.entry(AUTHENTICATION)
        return {
            str(e.certificate.serial_number): e
            for e in self.entries.values()
            if e is not auth and _signed_by(e.certificate, auth.certificate)
        }


def _matching_certificate(
    key: pkcs12.KeyBag, certs: Iterable[pkcs12.CertBag]
) -> pkcs12.CertBag | None:
    """The certificate of a key: same localKeyId and public key, else same public key."""
    key_der = _public_der(key.private_key)
    candidates = [c for c in certs if _public_der(c.certificate) == key_der]
    by_id = [c for c in candidates if key.local_key_id and c.local_key_id == key.local_key_id]
    return (by_id or candidates or [None])[0]


def _chain(leaf: x509.Certificate, pool: list[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """Issuers of `leaf` found in the file, nearest first, each checked by signature."""
    chain: list[x509.Certificate] = []
    seen = {leaf.fingerprint(_SHA256)}
    current = leaf
    while issuer := next(
        (c for c in pool if c.fingerprint(_SHA256) not in seen and _signed_by(current, c)), None
    ):
        chain.append(issuer)
        seen.add(issuer.fingerprint(_SHA256))
        current = issuer
    return tuple(chain)
