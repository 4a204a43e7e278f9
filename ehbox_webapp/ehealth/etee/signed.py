"""The SignedData layer: write one (attached content), read one without copying its content.

Both ETEE signatures are attached (encapsulated) SignedData with eContentType id-data, one
SignerInfo identified by issuerAndSerialNumber, SHA-256 and the signed attributes contentType,
signingTime and messageDigest. The inner one carries no certificates; the outer one carries the
sender's authentication certificate and its chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, core
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from . import _cms
from ._ber import Parts, children, octets, read_tlv, tlv
from .errors import MalformedSeal

__all__ = ["SignedLayer", "open_signed", "signed_data"]

_VERSION_1 = core.Integer(1).dump()
_SHA256 = cms.DigestAlgorithms([{"algorithm": "sha256"}]).dump()


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def signed_data(
    content: Parts,
    *,
    key: _cms.SigningKey,
    certificate: x509.Certificate,
    certificates: Sequence[x509.Certificate] = (),
    when: datetime,
    pss: bool = False,
) -> Parts:
    """A ContentInfo(SignedData) around `content`, as pieces (the content is not copied)."""
    digest = _cms.digest_parts("sha256", content)
    attributes = _cms.signed_attributes(_cms.DATA, digest, when)
    algorithm, signature = _cms.sign(key, attributes.dump(), pss=pss)
    info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": {"issuer_and_serial_number": _cms.issuer_and_serial(certificate)},
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": attributes,
            "signature_algorithm": algorithm,
            "signature": signature,
        }
    )
    encap = tlv(0x30, core.ObjectIdentifier(_cms.DATA).dump(), tlv(0xA0, tlv(0x04, content)))
    unique = {_der(c): None for c in certificates}  # dict keeps one of each, in order
    certs = tlv(0xA0, *sorted(unique)) if unique else []  # DER: a SET OF sorts its members
    body = tlv(0x30, _VERSION_1, _SHA256, encap, certs, cms.SignerInfos([info]).dump())
    return tlv(0x30, core.ObjectIdentifier(_cms.SIGNED_DATA).dump(), tlv(0xA0, body))


@dataclass
class SignedLayer:
    """A parsed SignedData; `content` are views into the buffer it was read from."""

    content_type: str
    content: list[memoryview]
    certificates: list[x509.Certificate]
    signer_infos: list[cms.SignerInfo]
    version: int = 1
    digest_algorithms: cms.DigestAlgorithms | None = None

    def digest(self, name: str) -> bytes:
        return _cms.digest_parts(name, self.content)

    def single_signer(self, layer: str) -> cms.SignerInfo:
        """eHealth seals carry exactly one signature per layer (egelke rejects more)."""
        if len(self.signer_infos) != 1:
            raise MalformedSeal(f"the {layer} has {len(self.signer_infos)} signers, not one", layer)
        info = self.signer_infos[0]
        # RFC 5652 5.1: version 1 exactly for id-data signed by issuerAndSerialNumber.
        plain = self.content_type == _cms.DATA and info["sid"].name == "issuer_and_serial_number"
        if self.version != (1 if plain else 3):
            raise MalformedSeal(f"the {layer} has an inconsistent version", layer)
        if self.digest_algorithms is not None:
            _cms.check_digest_algorithms(self.digest_algorithms, info, layer)
        return info

    def signing_time(self, info: cms.SignerInfo) -> datetime | None:
        for attribute in info["signed_attrs"] if info["signed_attrs"].native else ():
            if attribute["type"].native == "signing_time":
                return attribute["values"][0].native
        return None


def _certificate(der: bytes, layer: str) -> x509.Certificate:
    """Load and fully parse a certificate (cryptography parses fields lazily)."""
    try:
        cert = x509.load_der_x509_certificate(der)
        cert.subject, cert.issuer, cert.extensions, cert.public_key()  # noqa: B018
        cert.signature_hash_algorithm  # noqa: B018
        parsed = _cms.to_asn1(cert)  # asn1crypto must read the names too (sid matching)
        parsed.issuer.native, parsed.subject.native, parsed.serial_number  # noqa: B018
    except Exception:  # noqa: BLE001 - InvalidVersion, ValueError, UnsupportedAlgorithm...
        raise MalformedSeal(f"the {layer} carries a damaged certificate", layer) from None
    return cert


def _oid(buf: memoryview, element) -> str:
    if element.tag != 0x06:
        raise MalformedSeal("an object identifier was expected")
    return core.ObjectIdentifier.load(bytes(buf[element.start : element.end])).dotted


def open_signed(buf: memoryview, layer: str) -> SignedLayer:
    """Parse a ContentInfo(SignedData) that fills `buf` exactly; nothing is verified yet."""
    try:
        return _open(buf, layer)
    except MalformedSeal:
        raise
    except (ValueError, TypeError, KeyError, IndexError, StopIteration):
        raise MalformedSeal(f"the {layer} is not a CMS SignedData structure", layer) from None


def _open(buf: memoryview, layer: str) -> SignedLayer:
    top = read_tlv(buf, 0, len(buf))
    if top.tag != 0x30 or top.end != len(buf):
        raise MalformedSeal(f"the {layer} is not one CMS ContentInfo", layer)
    content_info = list(children(buf, top))
    if len(content_info) != 2 or _oid(buf, content_info[0]) != _cms.SIGNED_DATA:
        raise MalformedSeal(f"the {layer} is not a CMS SignedData", layer)
    explicit = list(children(buf, content_info[1]))
    if content_info[1].tag != 0xA0 or len(explicit) != 1 or explicit[0].tag != 0x30:
        raise MalformedSeal(f"the {layer} is not a CMS SignedData", layer)
    fields = list(children(buf, explicit[0]))
    if len(fields) < 4 or fields[0].tag != 0x02 or fields[1].tag != 0x31:
        raise MalformedSeal(f"the {layer} is not a CMS SignedData", layer)
    encap = list(children(buf, fields[2]))
    if fields[2].tag != 0x30 or len(encap) != 2 or encap[1].tag != 0xA0:
        raise MalformedSeal(f"the {layer} does not contain its content (detached)", layer)
    wrapped = list(children(buf, encap[1]))
    if len(wrapped) != 1 or wrapped[0].tag not in (0x04, 0x24):
        raise MalformedSeal(f"the {layer} content is not an OCTET STRING", layer)
    certificates: list[x509.Certificate] = []
    signer_infos = fields[-1]
    for extra in fields[3:-1]:
        if extra.tag == 0xA0:  # certificates: eHealth seals only carry X.509 ones
            for item in children(buf, extra):
                if item.tag != 0x30:
                    raise MalformedSeal(f"the {layer} carries a non-X.509 certificate", layer)
                certificates.append(_certificate(bytes(buf[item.start : item.end]), layer))
        elif extra.tag != 0xA1:  # [1] crls are allowed and ignored
            raise MalformedSeal(f"the {layer} has an unexpected field", layer)
    if signer_infos.tag != 0x31:
        raise MalformedSeal(f"the {layer} has no signer infos", layer)
    infos = [
        cms.SignerInfo.load(bytes(buf[item.start : item.end]), strict=True)
        for item in children(buf, signer_infos)
    ]
    for info in infos:
        info.native  # noqa: B018 - parse now, so that damage shows here and not later
    version = core.Integer.load(bytes(buf[fields[0].start : fields[0].end])).native
    digests = cms.DigestAlgorithms.load(bytes(buf[fields[1].start : fields[1].end]), strict=True)
    digests.native  # noqa: B018 - parse now
    content = octets(buf, wrapped[0])
    return SignedLayer(_oid(buf, encap[0]), content, certificates, infos, version, digests)
