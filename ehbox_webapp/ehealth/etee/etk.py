"""The ETK (encryption token): a CMS SignedData whose content is an encryption certificate.

CONFIRMED (see the package docstring): the ETK is a CMS SignedData; its encapsulated content is
the DER encryption certificate; its certificates include the authentication certificate that
issued the encryption certificate (a proxy certificate); readers check that issuance and the
CMS signature with the signer certificate found in the ETK. INFERRED: who signs the ETK. egelke
calls the signer the ETK's "issuer/sender" and leaves trusting it to the caller; here a locally
built ETK is signed by the keystore's authentication key unless another signer is given (the
sandbox ETK depot may sign with its own key).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..keystore import CertificateIdentity, EteeKeystore, SigningIdentity, certificate_identity
from . import _cms
from .errors import InvalidEtk, TamperedSeal
from .signed import open_signed, signed_data

__all__ = ["Etk", "build_etk", "parse_etk"]


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


@dataclass(frozen=True)
class Etk:
    """A parsed ETK; `encoded` is its DER, as the ETK depot returns it (base64 in XML)."""

    encryption_certificate: x509.Certificate
    authentication_certificate: x509.Certificate | None
    signer_certificate: x509.Certificate
    encoded: bytes

    @property
    def serial(self) -> str:
        """The decimal serial: the alias of the matching key in the owner's keystore."""
        return str(self.encryption_certificate.serial_number)

    def base64(self) -> str:
        return base64.b64encode(self.encoded).decode("ascii")

    def identity(self) -> CertificateIdentity:
        """The owner, from the authentication certificate (else the encryption one)."""
        return certificate_identity(self.authentication_certificate or self.encryption_certificate)

    def problems(self, now: datetime | None = None) -> list[str]:
        """Why this ETK must not be used to encrypt `now`; empty when it can be."""
        moment, enc, auth = _utc(now), self.encryption_certificate, self.authentication_certificate
        found = []
        if auth is None:
            found.append("it does not contain the authentication certificate that issued its key")
        for label, cert in (("encryption", enc), ("authentication", auth)):
            if cert and not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
                span = (
                    f"{cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}"
                )
                found.append(f"its {label} certificate is not valid now ({span})")
        if not isinstance(enc.public_key(), rsa.RSAPublicKey):
            found.append("its encryption key is not an RSA key")
        try:
            usage = enc.extensions.get_extension_for_class(x509.KeyUsage).value
            if not usage.key_encipherment:
                found.append("its certificate does not allow key encipherment")
        except x509.ExtensionNotFound:
            pass
        return found

    def verify(self, now: datetime | None = None) -> None:
        """Raise InvalidEtk naming the first problem, if any."""
        if found := self.problems(now):
            raise InvalidEtk(f"The ETK for serial {self.serial} cannot be used: {found[0]}.")


def parse_etk(data: bytes | str) -> Etk:
    """Read an ETK (DER, or base64 as in the ETK depot's answer) and check its signature.

    The encryption certificate must be issued by an authentication certificate in the ETK
    when one with its issuer name is present; validity dates are left to `Etk.verify`.
    """
    if isinstance(data, str):
        try:
            data = base64.b64decode("".join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidEtk("The ETK is not valid base64.") from None
    try:
        layer = open_signed(memoryview(data), "ETK signature")
        info = layer.single_signer("ETK signature")
        signer = _cms.find_certificate(info["sid"], layer.certificates)
        if signer is None:
            raise InvalidEtk("The ETK does not contain the certificate of its signer.")
        _cms.verify_signature(
            signer, info, layer.digest(_cms.digest_name(info)), layer.content_type, "ETK signature"
        )
        encryption = x509.load_der_x509_certificate(b"".join(layer.content))
    except TamperedSeal as exc:
        raise InvalidEtk(f"The ETK is damaged or forged: {exc.reason}.") from None
    except ValueError:
        raise InvalidEtk("The content of the ETK is not a certificate.") from None
    named = [c for c in layer.certificates if c.subject == encryption.issuer]
    authentication = next((c for c in named if _issued_by(encryption, c)), None)
    if named and authentication is None:
        raise InvalidEtk(
            f"The encryption certificate {encryption.serial_number} in the ETK is not signed by "
            "the authentication certificate that the ETK names as its issuer."
        )
    return Etk(encryption, authentication, signer, bytes(data))


def build_etk(
    keystore: EteeKeystore,
    serial: str | None = None,
    *,
    signer: SigningIdentity | None = None,
    now: datetime | None = None,
) -> Etk:
    """The ETK of one encryption entry (default: the one valid longest), as eHealth shapes it."""
    entries = keystore.encryption_entries()
    if not entries:
        raise InvalidEtk(
            f"{keystore.source} has no encryption key issued by its authentication key."
        )
    if serial is None:
        serial = max(entries, key=lambda s: entries[s].certificate.not_valid_after_utc)
    if serial not in entries:
        raise InvalidEtk(f"{keystore.source} has no encryption key with serial {serial}.")
    entry, authentication = entries[serial], keystore.entry("authentication")
    signer = signer or keystore.signing_identity(now=now)
    encrypted = entry.certificate.public_bytes(serialization.Encoding.DER)
    certificates = (authentication.certificate, signer.certificate, *authentication.chain)
    parts = signed_data(
        [encrypted],
        key=signer.key,
        certificate=signer.certificate,
        certificates=certificates,
        when=_utc(now),
    )
    return parse_etk(b"".join(parts))
