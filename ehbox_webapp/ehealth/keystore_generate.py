"""Generate sandbox and test keystores with the structure of a real eHealth keystore.

Re-exported as `keystore.generate_keystore`. The file holds an `authentication` entry issued by
a local sandbox CA, with the identifier in the subject the way eHealth certificates carry it,
plus encryption entries issued by the authentication certificate, alias = decimal serial.
Nothing here is trusted by eHealth: it is for the sandbox and for tests only.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .pkcs12 import PfxEntry, write_pfx

SANDBOX_CA_NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ehbox-webapp sandbox"),
        x509.NameAttribute(NameOID.COMMON_NAME, "ehbox-webapp sandbox eHealth CA - NOT TRUSTED"),
    ]
)
_TYPE = re.compile(r"[A-Z][A-Z0-9_]*(?:-[A-Z0-9_]+)*")
_APPLICATION = re.compile(r"[A-Za-z0-9_.-]+")
_DEFAULT_LIFETIME = timedelta(days=3 * 365)  # eHealth certificates live about three years


def ehealth_subject(
    identifier_type: str, identifier: str, name: str, application_id: str | None = None
) -> x509.Name:
    """The subject eHealth writes (C, O, [OU=app], OU=TYPE=id, OU=name, OU=eHealth..., CN).

    Order and content follow a real certificate quoted in egelke/eHI's PKI tests; see
    `keystore.certificate_identity` for the sources.
    """
    if not _TYPE.fullmatch(identifier_type) or not identifier.isdigit():
        raise ValueError("identifier_type must look like CBE or NIHII-HOSPITAL, identifier digits")
    if application_id is not None and not _APPLICATION.fullmatch(application_id):
        raise ValueError("application_id may only hold letters, digits, '_', '.' and '-'")
    typed = f"{identifier_type}={identifier}"
    ou = NameOID.ORGANIZATIONAL_UNIT_NAME
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Federal Government"),
    ]
    if application_id:
        attributes.append(x509.NameAttribute(ou, application_id))
    attributes += [
        x509.NameAttribute(ou, typed),
        x509.NameAttribute(ou, name),
        x509.NameAttribute(ou, "eHealth-platform Belgium"),
        x509.NameAttribute(
            NameOID.COMMON_NAME, f"{typed}, {application_id}" if application_id else typed
        ),
    ]
    return x509.Name(attributes)


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: rsa.RSAPublicKey,
    signer: rsa.RSAPrivateKey,
    validity: tuple[datetime, datetime],
    *,
    ca: bool = False,
    encryption: bool = False,
) -> x509.Certificate:
    usage = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    if ca:
        usage.update(key_cert_sign=True, crl_sign=True)
    elif encryption:
        usage.update(key_encipherment=True, data_encipherment=True)
    else:
        usage.update(digital_signature=True, key_encipherment=True)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(**usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if not ca and not encryption:  # the authentication certificate is also a TLS client cert
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder.sign(signer, hashes.SHA256())


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def generate_keystore(
    path: str | os.PathLike,
    password: str,
    *,
    identifier: str,
    identifier_type: str,
    name: str,
    application_id: str | None = None,
    encryption_keys: int = 1,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    legacy: bool = False,
    key_size: int = 2048,
) -> Path:
    """Write a keystore shaped like eHealth's to `path` (mode 0600) and return the path.

    `legacy=True` writes 3DES-encrypted keys and certificates with an HMAC-SHA1 MAC, like older
    Java keystores; the default is PBES2/AES-256 with HMAC-SHA256. `key_size` below 2048 is
    for fast tests only. Naive datetimes are taken as UTC.
    """
    if encryption_keys < 0:
        raise ValueError("encryption_keys must be 0 or more")
    start = _as_utc(not_before) if not_before else datetime.now(UTC) - timedelta(minutes=5)
    end = _as_utc(not_after) if not_after else start + _DEFAULT_LIFETIME
    if end <= start:
        raise ValueError("not_after must be later than not_before")
    subject = ehealth_subject(identifier_type, identifier, name, application_id)

    def new_key() -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=key_size)

    ca_key = new_key()
    ca_validity = (start - timedelta(days=1), end + timedelta(days=1))  # encloses the leaves
    ca_cert = _certificate(
        SANDBOX_CA_NAME, SANDBOX_CA_NAME, ca_key.public_key(), ca_key, ca_validity, ca=True
    )
    auth_key = new_key()
    auth_cert = _certificate(subject, SANDBOX_CA_NAME, auth_key.public_key(), ca_key, (start, end))
    entries = [PfxEntry("authentication", auth_key, auth_cert, (ca_cert,))]
    for _ in range(encryption_keys):
        # As in real keystores the authentication key issues the encryption certificate, which
        # carries the same identity (the ETK published in the KeyDepot for that identifier).
        key = new_key()
        cert = _certificate(
            subject, subject, key.public_key(), auth_key, (start, end), encryption=True
        )
        entries.append(PfxEntry(str(cert.serial_number), key, cert, (auth_cert, ca_cert)))

    data = write_pfx(entries, password, legacy=legacy)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Private keys: create the file readable by its owner only.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # also when the file already existed with wider permissions
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return target
