"""The EnvelopedData layer: AES-CBC content, one RSA key-transport recipient per certificate.

Written as eHealth's libraries write it: AES-128-CBC, KeyTransRecipientInfo v0 identified by
issuerAndSerialNumber, RSA PKCS#1 v1.5 (`rsaEncryption`) key transport. Read: AES-128/192/256-CBC
(egelke's accepted list), PKCS#1 v1.5 or OAEP, issuerAndSerialNumber or subjectKeyIdentifier.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import algos, cms, core
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers.algorithms import AES
from cryptography.hazmat.primitives.ciphers.modes import CBC

from . import _cms
from ._ber import Parts, children, octets, read_tlv, tlv, total_length
from .errors import EteeError, MalformedSeal, TamperedSeal

__all__ = ["EnvelopedLayer", "enveloped_data", "open_enveloped"]

_CHUNK = 1 << 20  # encrypt and decrypt a MiB at a time: memory stays at one copy plus this
_OAEP_HASHES = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384}
_LAYER = "encryption"


def _recipient(cert: x509.Certificate, cek: bytes) -> cms.RecipientInfo:
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise EteeError(f"The encryption certificate {cert.serial_number} has no RSA key.")
    ktri = cms.KeyTransRecipientInfo(
        {
            "version": "v0",
            "rid": {"issuer_and_serial_number": _cms.issuer_and_serial(cert)},
            "key_encryption_algorithm": {"algorithm": "rsaes_pkcs1v15", "parameters": core.Null()},
            "encrypted_key": public.encrypt(cek, padding.PKCS1v15()),
        }
    )
    return cms.RecipientInfo(name="ktri", value=ktri)


def enveloped_data(plain: Parts, recipients: Sequence[x509.Certificate]) -> Parts:
    """A ContentInfo(EnvelopedData) of `plain` for `recipients`; one ciphertext buffer."""
    if not recipients:
        raise EteeError("A sealed message needs at least one recipient.")
    cek, iv = os.urandom(16), os.urandom(16)
    infos = cms.RecipientInfos([_recipient(c, cek) for c in recipients]).dump()
    size = total_length(plain)
    ciphertext = bytearray(size + 16 - size % 16)  # PKCS#7 always adds 1..16 bytes
    encryptor = Cipher(AES(cek), CBC(iv)).encryptor()
    pos = 0
    for part in plain:
        view = memoryview(part)
        for start in range(0, len(view), _CHUNK):
            out = encryptor.update(view[start : start + _CHUNK])
            ciphertext[pos : pos + len(out)] = out
            pos += len(out)
    pad = 16 - size % 16
    tail = encryptor.update(bytes((pad,)) * pad) + encryptor.finalize()
    ciphertext[pos : pos + len(tail)] = tail
    algorithm = algos.EncryptionAlgorithm({"algorithm": "aes128_cbc", "parameters": iv}).dump()
    content = tlv(0x30, core.ObjectIdentifier(_cms.DATA).dump(), algorithm, tlv(0x80, ciphertext))
    body = tlv(0x30, core.Integer(0).dump(), infos, content)
    return tlv(0x30, core.ObjectIdentifier(_cms.ENVELOPED_DATA).dump(), tlv(0xA0, body))


@dataclass
class EnvelopedLayer:
    """A parsed EnvelopedData; `encrypted` are views into the buffer it was read from."""

    recipients: list[cms.KeyTransRecipientInfo]
    algorithm: algos.EncryptionAlgorithm
    encrypted: list[memoryview]

    def unwrap(self, recipient: cms.KeyTransRecipientInfo, key: rsa.RSAPrivateKey) -> bytes:
        """The content-encryption key; a wrong key gives TamperedSeal, never a random key."""
        scheme = recipient["key_encryption_algorithm"]
        name = scheme["algorithm"].native
        if name == "rsaes_pkcs1v15":
            pad: padding.AsymmetricPadding = padding.PKCS1v15()
        elif name == "rsaes_oaep":
            params = scheme["parameters"]
            digest = params["hash_algorithm"]["algorithm"].native
            mgf = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
            if digest not in _OAEP_HASHES or mgf not in _OAEP_HASHES:
                raise MalformedSeal(f"RSA-OAEP with {digest}/{mgf} is not accepted", _LAYER)
            pad = padding.OAEP(padding.MGF1(_OAEP_HASHES[mgf]()), _OAEP_HASHES[digest](), None)
        else:
            raise MalformedSeal(f"the key transport {name} is not accepted", _LAYER)
        try:
            cek = key.decrypt(recipient["encrypted_key"].native, pad)
        except ValueError:
            cek = b""
        # OpenSSL's implicit rejection answers a wrong PKCS#1 v1.5 key with random bytes of a
        # random length instead of an error: the length check and the inner signature catch it.
        if len(cek) != self.algorithm.key_length:
            raise TamperedSeal("the content key does not decrypt with your key", _LAYER)
        return cek

    def decrypt(self, cek: bytes) -> memoryview:
        """The plaintext (PKCS#7 padding removed) as a view of one new buffer."""
        size = sum(len(c) for c in self.encrypted)
        if size == 0 or size % 16:
            raise MalformedSeal("the encrypted content is not whole AES blocks", _LAYER)
        plain = bytearray(size)
        decryptor = Cipher(AES(cek), CBC(self.algorithm.encryption_iv)).decryptor()
        pos = 0
        for chunk in self.encrypted:
            for start in range(0, len(chunk), _CHUNK):
                out = decryptor.update(chunk[start : start + _CHUNK])
                plain[pos : pos + len(out)] = out
                pos += len(out)
        out = decryptor.finalize()
        plain[pos : pos + len(out)] = out
        pad = plain[-1]
        if not 1 <= pad <= 16 or plain[-pad:] != bytes((pad,)) * pad:
            # The same reason as a failed parse of the plaintext: no padding oracle.
            raise TamperedSeal("the content does not decrypt to a signed message", _LAYER)
        return memoryview(plain)[: size - pad]


def open_enveloped(buf: memoryview) -> EnvelopedLayer:
    """Parse a ContentInfo(EnvelopedData) that fills `buf` exactly."""
    try:
        return _open(buf)
    except MalformedSeal:
        raise
    except (ValueError, TypeError, KeyError, IndexError):
        raise MalformedSeal("the encrypted layer is not a CMS EnvelopedData", _LAYER) from None


def _open(buf: memoryview) -> EnvelopedLayer:
    wrong = MalformedSeal("the signed content is not a CMS EnvelopedData", _LAYER)
    top = read_tlv(buf, 0, len(buf))
    outer = list(children(buf, top)) if top.tag == 0x30 and top.end == len(buf) else []
    if len(outer) != 2 or outer[0].tag != 0x06 or outer[1].tag != 0xA0:
        raise wrong
    if core.ObjectIdentifier.load(bytes(buf[outer[0].start : outer[0].end])).dotted != (
        _cms.ENVELOPED_DATA
    ):
        raise wrong
    body = list(children(buf, outer[1]))
    fields = list(children(buf, body[0])) if len(body) == 1 and body[0].tag == 0x30 else []
    extras = [f.tag for f in fields if f.tag in (0xA0, 0xA1)]  # originator, unprotected attrs
    fields = [f for f in fields if f.tag not in (0xA0, 0xA1)]
    if len(fields) != 3 or fields[0].tag != 0x02 or fields[1].tag != 0x31 or fields[2].tag != 0x30:
        raise wrong
    recipients, versions = [], []
    for item in children(buf, fields[1]):
        info = cms.RecipientInfo.load(bytes(buf[item.start : item.end]), strict=True)
        info.native  # noqa: B018 - parse now, so that damage shows here and not later
        versions.append(info.chosen["version"].native)
        if info.name == "ktri":  # KEK recipients (KGSS, unknown recipients) are not ours
            rid = info.chosen["rid"].name
            if info.chosen["version"].native != (
                "v0" if rid == "issuer_and_serial_number" else "v2"
            ):
                raise wrong
            recipients.append(info.chosen)
    # RFC 5652 6.1: version 0 exactly when every recipient is v0 and nothing optional is there.
    version = core.Integer.load(bytes(buf[fields[0].start : fields[0].end])).native
    plain = not extras and all(v == "v0" for v in versions)
    if (version == 0) != plain or version not in (0, 2, 3, 4):
        raise wrong
    content = list(children(buf, fields[2]))
    if len(content) != 3 or content[2].tag not in (0x80, 0xA0):
        raise MalformedSeal("the encrypted layer has no encrypted content", _LAYER)
    if core.ObjectIdentifier.load(bytes(buf[content[0].start : content[0].end])).dotted != (
        _cms.DATA
    ):
        raise MalformedSeal("the encrypted content is not of type data", _LAYER)
    algorithm = algos.EncryptionAlgorithm.load(bytes(buf[content[1].start : content[1].end]))
    algorithm.native  # noqa: B018
    if algorithm["algorithm"].native not in ("aes128_cbc", "aes192_cbc", "aes256_cbc"):
        name = algorithm["algorithm"].native
        raise MalformedSeal(f"the content encryption {name} is not accepted", _LAYER)
    if len(algorithm.encryption_iv) != 16:
        raise wrong
    return EnvelopedLayer(recipients, algorithm, octets(buf, content[2]))
