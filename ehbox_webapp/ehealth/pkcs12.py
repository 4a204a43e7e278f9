"""Low-level PKCS#12 (PFX, RFC 7292) reading and writing with several private-key entries.

`cryptography`'s `pkcs12.load_pkcs12` returns one private key and its serializer writes one,
while an eHealth keystore holds several (`authentication` plus the encryption keys). This
module therefore walks the bags itself with asn1crypto: it verifies the MAC, decrypts
`encryptedData` contents and shrouded key bags (`pkcs12_pbe`), and returns every key and
certificate bag with its `friendlyName` and `localKeyId`. It knows nothing about eHealth.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from asn1crypto import cms, core
from asn1crypto import pkcs12 as asn1_pkcs12
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12 as crypto_pkcs12

from . import pkcs12_pbe as pbe

# Errors asn1crypto and cryptography raise on malformed input.
_PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError)


class Pkcs12Error(Exception):
    """The data is not a PKCS#12 file this module can read (the message says why)."""


class Pkcs12PasswordError(Pkcs12Error):
    """The MAC does not verify, or decryption fails: the password is wrong."""


@dataclass(frozen=True)
class KeyBag:
    """A private key as found in the file, with its bag attributes."""

    private_key: PrivateKeyTypes = field(repr=False)
    friendly_name: str | None = None
    local_key_id: bytes | None = None


@dataclass(frozen=True)
class CertBag:
    """An X.509 certificate as found in the file, with its bag attributes."""

    certificate: x509.Certificate
    friendly_name: str | None = None
    local_key_id: bytes | None = None


@dataclass(frozen=True)
class PfxContents:
    """Every key and certificate bag of a PFX, in file order."""

    keys: tuple[KeyBag, ...]
    certificates: tuple[CertBag, ...]


@dataclass(frozen=True)
class PfxEntry:
    """A private-key entry to write: alias, key, its certificate and the issuers to include."""

    alias: str
    private_key: PrivateKeyTypes = field(repr=False)
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()


# --------------------------------------------------------------------------- reading


def read_pfx(data: bytes, password: str) -> PfxContents:
    """Parse a PFX, check its MAC and decrypt every bag.

    Raises Pkcs12PasswordError for a wrong password and Pkcs12Error for anything unreadable.
    """
    try:
        pfx = asn1_pkcs12.Pfx.load(data)
        if pfx["version"].native != "v3" or pfx["auth_safe"]["content_type"].native != "data":
            # signedData (public-key integrity mode) is allowed by RFC 7292 but nobody uses it.
            raise Pkcs12Error("not a password-protected PKCS#12 (PFX v3) file")
        auth_safe = pfx["auth_safe"]["content"].native
        mac_data = pfx["mac_data"]
        has_mac = mac_data.native is not None
    except _PARSE_ERRORS as exc:
        raise Pkcs12Error("not a PKCS#12 file") from exc
    if has_mac:
        _verify_mac(mac_data, auth_safe, password)
    keys: list[KeyBag] = []
    certs: list[CertBag] = []
    try:
        for info in asn1_pkcs12.AuthenticatedSafe.load(auth_safe):
            kind = info["content_type"].native
            if kind == "data":
                _read_safe_contents(info["content"].native, password, keys, certs)
            elif kind == "encrypted_data":
                _read_encrypted(info["content"], data, password, keys, certs)
            else:  # enveloped_data: public-key privacy mode, unused by keystores
                raise Pkcs12Error(f"unsupported PKCS#12 content type {kind}")
    except pbe.DecryptionFailed as exc:
        raise Pkcs12PasswordError("decryption failed") from exc
    except pbe.UnsupportedAlgorithm as exc:
        raise Pkcs12Error(f"unsupported PKCS#12 algorithm: {exc}") from exc
    except _PARSE_ERRORS as exc:
        raise Pkcs12Error("damaged PKCS#12 content") from exc
    return PfxContents(tuple(keys), tuple(certs))


def _verify_mac(mac_data: asn1_pkcs12.MacData, auth_safe: bytes, password: str) -> None:
    digest = mac_data["mac"]["digest_algorithm"]["algorithm"].native
    expected = mac_data["mac"]["digest"].native
    salt, iterations = mac_data["mac_salt"].native, mac_data["iterations"].native
    # An empty password is encoded either as two NUL bytes or as nothing, depending on the
    # writer (OpenSSL tries both too).
    candidates = [pbe.bmp_password(password)] + ([b""] if password == "" else [])
    try:
        if any(
            pbe.mac_matches(digest, auth_safe, expected, pw, salt, iterations) for pw in candidates
        ):
            return
    except pbe.UnsupportedAlgorithm as exc:  # e.g. PBMAC1 (RFC 9579), written only on request
        raise Pkcs12Error(f"unsupported PKCS#12 MAC algorithm: {exc}") from exc
    raise Pkcs12PasswordError("MAC verification failed")


def _read_encrypted(
    content: cms.EncryptedData,
    pfx: bytes,
    password: str,
    keys: list[KeyBag],
    certs: list[CertBag],
) -> None:
    info = content["encrypted_content_info"]
    algorithm = info["content_encryption_algorithm"]
    if algorithm["algorithm"].native == "pkcs12_sha1_rc2_40":
        # `cryptography` has no 40-bit RC2 primitive, but its own PKCS#12 loader reads this
        # legacy cipher. Writers use it for certificates only, so take those from there; keys
        # are read from their own (3DES) bags and matched to certificates by public key.
        certs.extend(_certificates_via_cryptography(pfx, password))
        return
    plain = pbe.decrypt(algorithm, info["encrypted_content"].native, password)
    _read_safe_contents(plain, password, keys, certs)


def _certificates_via_cryptography(pfx: bytes, password: str) -> Iterable[CertBag]:
    try:
        loaded = crypto_pkcs12.load_pkcs12(pfx, password.encode("utf-8"))
    except ValueError as exc:
        raise Pkcs12Error("the RC2-encrypted certificates could not be read") from exc
    found = ([loaded.cert] if loaded.cert else []) + list(loaded.additional_certs)
    for item in found:
        name = item.friendly_name.decode("utf-8") if item.friendly_name else None
        yield CertBag(item.certificate, name)


def _read_safe_contents(
    data: bytes, password: str, keys: list[KeyBag], certs: list[CertBag]
) -> None:
    for bag in asn1_pkcs12.SafeContents.load(data):
        kind = bag["bag_id"].native
        value = bag["bag_value"]
        name, key_id = _attributes(bag)
        if kind == "pkcs8_shrouded_key_bag":
            der = pbe.decrypt(
                value["encryption_algorithm"], value["encrypted_data"].native, password
            )
            key = serialization.load_der_private_key(der, None)
            keys.append(KeyBag(key, name, key_id))
        elif kind == "key_bag":
            key = serialization.load_der_private_key(value.untag().dump(force=True), None)
            keys.append(KeyBag(key, name, key_id))
        elif kind == "cert_bag" and value["cert_id"].native == "x509":
            cert = x509.load_der_x509_certificate(bytes(value["cert_value"]))
            certs.append(CertBag(cert, name, key_id))
        elif kind == "safe_contents":  # nested SafeContents (allowed, rare)
            _read_safe_contents(value.untag().dump(force=True), password, keys, certs)
        # CRL and secret bags, and non-X.509 certificates, are not needed for a keystore.


def _attributes(bag: asn1_pkcs12.SafeBag) -> tuple[str | None, bytes | None]:
    name = key_id = None
    for attribute in bag["bag_attributes"].native or []:
        values = attribute["values"]
        if attribute["type"] == "friendly_name" and values:
            name = values[0]
        elif attribute["type"] == "local_key_id" and values:
            key_id = values[0]
    return name, key_id


# --------------------------------------------------------------------------- writing


def write_pfx(
    entries: Sequence[PfxEntry],
    password: str,
    *,
    legacy: bool = False,
    iterations: int = pbe.DEFAULT_ITERATIONS,
) -> bytes:
    """Serialize several key entries into one PFX, the way OpenSSL lays it out.

    Certificates go into an `encryptedData` SafeContents, keys into pkcs8ShroudedKeyBags, each
    entry's key and certificate carrying `friendlyName` = alias and `localKeyId` = SHA-1 of the
    certificate. Chain certificates are written once, without attributes. Modern: PBES2
    (PBKDF2-SHA256, AES-256-CBC) and an HMAC-SHA256 MAC; `legacy`: pbeWithSHAAnd3-KeyTripleDES-CBC
    and HMAC-SHA1, which older readers (Java 8, OpenSSL 1.0) understand.
    """
    cert_bags, key_bags, written = [], [], set()
    for entry in entries:
        der = entry.certificate.public_bytes(serialization.Encoding.DER)
        key_id = hashlib.sha1(der, usedforsecurity=False).digest()  # an id, as OpenSSL writes it
        attributes = _bag_attributes(entry.alias, key_id)
        written.add(der)
        cert_bags.append(_cert_bag(der, attributes))
        pkcs8 = entry.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        algorithm, encrypted = pbe.encrypt(pkcs8, password, legacy=legacy, iterations=iterations)
        shrouded = {"encryption_algorithm": algorithm, "encrypted_data": encrypted}
        key_bags.append(
            {
                "bag_id": "pkcs8_shrouded_key_bag",
                "bag_value": shrouded,
                "bag_attributes": attributes,
            }
        )
    for entry in entries:
        for cert in entry.chain:
            der = cert.public_bytes(serialization.Encoding.DER)
            if der not in written:
                written.add(der)
                cert_bags.append(_cert_bag(der, None))

    certs_plain = asn1_pkcs12.SafeContents(cert_bags).dump()
    algorithm, encrypted = pbe.encrypt(certs_plain, password, legacy=legacy, iterations=iterations)
    encrypted_data = cms.EncryptedData(
        {
            "version": "v0",
            "encrypted_content_info": {
                "content_type": "data",
                "content_encryption_algorithm": algorithm,
                "encrypted_content": encrypted,
            },
        }
    )
    auth_safe = asn1_pkcs12.AuthenticatedSafe(
        [
            {"content_type": "encrypted_data", "content": encrypted_data},
            {
                "content_type": "data",
                "content": core.OctetString(asn1_pkcs12.SafeContents(key_bags).dump()),
            },
        ]
    ).dump()
    digest = "sha1" if legacy else "sha256"
    salt = pbe.random_salt()
    mac = pbe.mac(digest, auth_safe, pbe.bmp_password(password), salt, iterations)
    pfx = asn1_pkcs12.Pfx(
        {
            "version": "v3",
            "auth_safe": {"content_type": "data", "content": core.OctetString(auth_safe)},
            "mac_data": {
                "mac": {"digest_algorithm": {"algorithm": digest}, "digest": mac},
                "mac_salt": salt,
                "iterations": iterations,
            },
        }
    )
    return pfx.dump()


def _bag_attributes(alias: str, key_id: bytes) -> list[dict]:
    return [
        {"type": "friendly_name", "values": [alias]},
        {"type": "local_key_id", "values": [key_id]},
    ]


def _cert_bag(der: bytes, attributes: list[dict] | None) -> dict:
    bag: dict = {
        "bag_id": "cert_bag",
        "bag_value": {"cert_id": "x509", "cert_value": asn1_x509.Certificate.load(der)},
    }
    if attributes:
        bag["bag_attributes"] = attributes
    return bag
