"""Shared CMS pieces: identifiers, signer identifiers, signed attributes, signatures.

Algorithms (sources in the package docstring): SHA-256 digests; RSA PKCS#1 v1.5 signatures
written as `rsaEncryption` in the SignerInfo (what BouncyCastle and openssl write), RSASSA-PSS
on request (egelke's "native" choice); on reading also SHA-384/512, PSS and ECDSA.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from .errors import MalformedSeal, TamperedSeal

DATA = "1.2.840.113549.1.7.1"
SIGNED_DATA = "1.2.840.113549.1.7.2"
ENVELOPED_DATA = "1.2.840.113549.1.7.3"
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@lru_cache(maxsize=256)  # certificates are parsed again for every signer and recipient match
def to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def issuer_and_serial(cert: x509.Certificate) -> cms.IssuerAndSerialNumber:
    parsed = to_asn1(cert)
    return cms.IssuerAndSerialNumber(
        {"issuer": parsed.issuer, "serial_number": parsed.serial_number}
    )


def subject_key_id(cert: x509.Certificate) -> bytes:
    """The SKI extension, or the RFC 5280 method-1 value computed from the key."""
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest


def identifies(sid: cms.SignerIdentifier | cms.RecipientIdentifier, cert: x509.Certificate) -> bool:
    """Whether an issuerAndSerialNumber or subjectKeyIdentifier choice names `cert`."""
    if sid.name == "issuer_and_serial_number":
        wanted = sid.chosen
        parsed = to_asn1(cert)
        if wanted["serial_number"].native != parsed.serial_number:
            return False
        # Same bytes is the usual case; else asn1crypto's canonical (RFC 5280 7.1) comparison.
        return wanted["issuer"].dump() == parsed.issuer.dump() or wanted["issuer"] == parsed.issuer
    return sid.chosen.native == subject_key_id(cert)


def describe(sid: cms.SignerIdentifier | cms.RecipientIdentifier) -> str:
    """A recipient or signer identifier for messages: decimal serial (and issuer) or SKI."""
    if sid.name == "issuer_and_serial_number":
        names = sid.chosen["issuer"].native
        issuer = names.get("common_name") or sid.chosen["issuer"].human_friendly
        return f"serial {sid.chosen['serial_number'].native} (issuer {issuer})"
    return f"key id {sid.chosen.native.hex()}"


def digest_parts(name: str, parts: Iterable[bytes | bytearray | memoryview]) -> bytes:
    h = hashlib.new(name)
    for part in parts:
        h.update(part)
    return h.digest()


def signed_attributes(content_type: str, digest: bytes, when: datetime) -> cms.CMSAttributes:
    """contentType, signingTime, messageDigest: what BouncyCastle's default generator writes."""
    moment = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    moment = moment.replace(microsecond=0)
    # RFC 5652 11.3: UTCTime for 1950-2049, which asn1crypto's Time choice does not decide.
    time = cms.Time({"utc_time" if moment.year < 2050 else "general_time": moment})
    return cms.CMSAttributes(
        [
            {"type": "content_type", "values": [content_type]},
            {"type": "signing_time", "values": [time]},
            {"type": "message_digest", "values": [digest]},
        ]
    )


def sign(
    key: SigningKey, data: bytes, *, pss: bool = False
) -> tuple[algos.SignedDigestAlgorithm, bytes]:
    """Sign `data` with SHA-256; returns the SignerInfo signatureAlgorithm and the value."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        value = key.sign(data, ec.ECDSA(hashes.SHA256()))
        return algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}), value
    if pss:
        params = algos.RSASSAPSSParams(
            {
                "hash_algorithm": {"algorithm": "sha256"},
                "mask_gen_algorithm": {
                    "algorithm": "mgf1",
                    "parameters": {"algorithm": "sha256"},
                },
                "salt_length": 32,
            }
        )
        pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        value = key.sign(data, pad, hashes.SHA256())
        return algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss", "parameters": params}), value
    value = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    algorithm = {"algorithm": "rsassa_pkcs1v15", "parameters": core.Null()}
    return algos.SignedDigestAlgorithm(algorithm), value


def digest_name(info: cms.SignerInfo) -> str:
    name = info["digest_algorithm"]["algorithm"].native
    if name not in _HASHES:
        raise MalformedSeal(f"it uses the digest algorithm {name}, which is not accepted")
    return name


def _plain(algorithm) -> bool:
    """Parameters absent or NULL: a flipped byte there would otherwise go unnoticed."""
    return algorithm["parameters"].dump() in (b"", b"\x05\x00")


def check_signer_info(info: cms.SignerInfo, layer: str) -> None:
    """Reject the unsigned fields of a SignerInfo that are not what a signer writes."""
    expected = "v1" if info["sid"].name == "issuer_and_serial_number" else "v3"
    if info["version"].native != expected or not _plain(info["digest_algorithm"]):
        raise MalformedSeal(f"the {layer} has an inconsistent signer info", layer)
    algorithm = info["signature_algorithm"]
    try:
        kind = algorithm.signature_algo
    except ValueError:  # an OID asn1crypto does not know
        raise MalformedSeal(f"the {layer} uses an unknown signature algorithm", layer) from None
    if kind == "rsassa_pss":
        if algorithm["parameters"]["trailer_field"].native != "trailer_field_bc":
            raise MalformedSeal(f"the {layer} has invalid PSS parameters", layer)
    elif not _plain(algorithm):
        raise MalformedSeal(f"the {layer} has unexpected signature parameters", layer)


def check_digest_algorithms(
    algorithms: cms.DigestAlgorithms, info: cms.SignerInfo, layer: str
) -> None:
    """The SignedData's digestAlgorithms must list the signer's, with no odd parameters."""
    names = [a["algorithm"].native for a in algorithms]
    if info["digest_algorithm"]["algorithm"].native not in names or not all(
        _plain(a) for a in algorithms
    ):
        raise MalformedSeal(f"the {layer} lists other digest algorithms than it uses", layer)


def verify_signature(
    cert: x509.Certificate,
    info: cms.SignerInfo,
    content_digest: bytes,
    content_type: str,
    layer: str,
) -> None:
    """Check a SignerInfo against `cert` for content whose digest is `content_digest`.

    With signed attributes the content-type and message-digest attributes must match and the
    signature covers their DER SET; without them it covers the content itself.
    """
    name = digest_name(info)
    check_signer_info(info, layer)
    attrs = info["signed_attrs"]
    if attrs.native is None or len(attrs) == 0:  # allowed by RFC 5652; ETKs may lack them
        signed: bytes | None = None
    else:
        found = {a["type"].native: a["values"] for a in attrs}
        if "message_digest" not in found or "content_type" not in found:
            raise MalformedSeal("the signed attributes lack the digest or content type", layer)
        if found["content_type"][0].dotted != content_type:
            raise TamperedSeal(f"the {layer} declares another content type", layer)
        if found["message_digest"][0].native != content_digest:
            raise TamperedSeal(f"the content does not match the {layer}", layer)
        signed = b"\x31" + attrs.dump()[1:]  # [0] IMPLICIT on the wire, SET OF when signed
    try:
        _verify(cert, info, name, signed, content_digest)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        raise TamperedSeal(f"the {layer} does not verify", layer) from None


def _verify(
    cert: x509.Certificate, info: cms.SignerInfo, name: str, signed: bytes | None, digest: bytes
) -> None:
    algorithm = info["signature_algorithm"]
    kind, value = algorithm.signature_algo, info["signature"].native
    chosen = _HASHES[name]()
    hash_arg: hashes.HashAlgorithm | Prehashed = chosen
    if signed is None:  # the signature is over the content, whose digest we already have
        data, hash_arg = digest, Prehashed(chosen)
    else:
        data = signed
    if kind in ("rsassa_pkcs1v15", "rsassa_pss", "ecdsa"):
        try:
            combined = algorithm.hash_algo  # e.g. sha256_rsa names its hash
        except ValueError:
            combined = name
        if combined != name:
            raise MalformedSeal("the signature and digest algorithms disagree")
    key = cert.public_key()
    if kind == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
        key.verify(value, data, padding.PKCS1v15(), hash_arg)
    elif kind == "rsassa_pss" and isinstance(key, rsa.RSAPublicKey):
        params = algorithm["parameters"]
        if params["mask_gen_algorithm"]["algorithm"].native != "mgf1":
            raise MalformedSeal("a PSS signature uses another mask generation than MGF1")
        mgf_hash = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
        if mgf_hash not in _HASHES:
            raise MalformedSeal(f"a PSS signature uses MGF1 with {mgf_hash}")
        pad = padding.PSS(
            mgf=padding.MGF1(_HASHES[mgf_hash]()), salt_length=params["salt_length"].native
        )
        key.verify(value, data, pad, hash_arg)
    elif kind == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(value, data, ec.ECDSA(hash_arg))
    else:
        raise MalformedSeal(f"the signature algorithm {kind} does not fit the signer's key")


def find_certificate(
    sid: cms.SignerIdentifier, certs: Sequence[x509.Certificate]
) -> x509.Certificate | None:
    return next((c for c in certs if identifies(sid, c)), None)
