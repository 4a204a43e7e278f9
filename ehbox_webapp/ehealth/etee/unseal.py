"""Unseal: verify the outer signature, decrypt with one of my keys, verify the inner signature.

The order is egelke's TripleUnwrapper's: outer signature, decryption, inner signature, and the
inner signer must be the outer signer (non-repudiation: e-Contract's Unsealer verifies the inner
signature with the outer signer's certificate, egelke compares the two). Any failure raises; a
result is only returned when every check passed, so its content is never garbage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from ..keystore import (
    CertificateIdentity,
    EteeKeystore,
    KeyEntry,
    KeystoreError,
    certificate_identity,
)
from . import _cms
from ._trust import broken_certificate, trust_problems
from .enveloped import EnvelopedLayer, open_enveloped
from .errors import MalformedSeal, NotForMe, TamperedSeal, UnexpectedSigner
from .signed import SignedLayer, open_signed

__all__ = ["DecryptionKey", "UnsealResult", "decryption_keys", "unseal"]

DecryptionKey = KeyEntry | rsa.RSAPrivateKey
_OUTER, _INNER = "outer signature", "inner signature"


@dataclass(frozen=True)
class UnsealResult:
    """What a seal contained and who sealed it; every signature has been verified."""

    content: bytes = field(repr=False)
    signer_certificate: x509.Certificate
    signer_identity: CertificateIdentity | None  # None when the subject has no eHealth id
    signing_time: datetime | None
    recipient_serial: str  # decimal serial of the key of mine that opened it
    signature_valid: bool = True  # both signatures: always True, a failure raises instead
    trusted: bool | None = None  # chain to a given trust anchor; None when none was given
    reasons: tuple[str, ...] = ()  # why trusted is not True, or other warnings


@dataclass(frozen=True)
class _Key:
    serial: str
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate | None


def decryption_keys(*keystores: EteeKeystore) -> dict[str, KeyEntry]:
    """Every encryption entry of several keystores (current first, then previous ones)."""
    keys: dict[str, KeyEntry] = {}
    for keystore in keystores:
        for serial, entry in keystore.encryption_entries().items():
            keys.setdefault(serial, entry)
    return keys


def _normalise(keys: Mapping[str, DecryptionKey] | Iterable[KeyEntry]) -> list[_Key]:
    items = keys.items() if isinstance(keys, Mapping) else ((None, e) for e in keys)
    found = []
    for serial, value in items:
        key, cert = (
            (value.private_key, value.certificate)
            if isinstance(value, KeyEntry)
            else (
                value,
                None,
            )
        )
        if isinstance(key, rsa.RSAPrivateKey):
            label = str(cert.serial_number) if serial is None and cert else str(serial).strip()
            found.append(_Key(label, key, cert))
    return found


def _matches(recipient: cms.KeyTransRecipientInfo, mine: _Key) -> bool:
    rid = recipient["rid"]
    if mine.certificate is not None:
        return _cms.identifies(rid, mine.certificate)
    if rid.name == "issuer_and_serial_number":  # a bare key: its alias is the decimal serial
        return str(rid.chosen["serial_number"].native) == mine.serial
    return (
        rid.chosen.native == x509.SubjectKeyIdentifier.from_public_key(mine.key.public_key()).digest
    )


def _expect(signer: x509.Certificate, expected: x509.Certificate | CertificateIdentity) -> None:
    if isinstance(expected, x509.Certificate):
        if expected != signer:
            raise UnexpectedSigner(
                f"The message is signed by {signer.subject.rfc4514_string()}, not by the "
                f"expected sender {expected.subject.rfc4514_string()}."
            )
        return
    try:
        actual = certificate_identity(signer)
    except KeystoreError:
        actual = None
    wanted = (expected.identifier_type, expected.identifier)
    if (
        actual is None
        or (actual.identifier_type, actual.identifier) != wanted
        or (expected.application_id and expected.application_id != actual.application_id)
    ):
        raise UnexpectedSigner(
            f"The message is signed by {signer.subject.rfc4514_string()}, not by "
            f"{expected.identifier_type}={expected.identifier}."
        )


def _outer(buf: memoryview) -> tuple[SignedLayer, x509.Certificate, cms.SignerInfo]:
    layer = open_signed(buf, _OUTER)
    info = layer.single_signer(_OUTER)
    signer = _cms.find_certificate(info["sid"], layer.certificates)
    if signer is None:
        raise MalformedSeal("the outer signature does not include its signer's certificate", _OUTER)
    if layer.content_type not in (_cms.DATA, _cms.ENVELOPED_DATA):
        raise MalformedSeal("the outer signature does not wrap encrypted content", _OUTER)
    digest = layer.digest(_cms.digest_name(info))
    _cms.verify_signature(signer, info, digest, layer.content_type, _OUTER)
    if (broken := broken_certificate(layer.certificates)) is not None:
        name = broken.subject.rfc4514_string()
        raise TamperedSeal(
            f"the certificate {name} in the seal is not signed by its issuer", _OUTER
        )
    return layer, signer, info


def _inner(plain: memoryview, signer: x509.Certificate) -> SignedLayer:
    try:
        layer = open_signed(plain, _INNER)
    except MalformedSeal:  # same reason as bad padding: a wrong key must not be told apart
        raise TamperedSeal(
            "the content does not decrypt to a signed message", "encryption"
        ) from None
    info = layer.single_signer(_INNER)
    own = _cms.find_certificate(info["sid"], layer.certificates)
    if (own is not None and own != signer) or not _cms.identifies(info["sid"], signer):
        raise UnexpectedSigner(
            f"The inner signature is by {_cms.describe(info['sid'])}, not by the outer signer "
            f"{signer.subject.rfc4514_string()} (serial {signer.serial_number}): the sender "
            "cannot be bound to the content."
        )
    digest = layer.digest(_cms.digest_name(info))
    _cms.verify_signature(signer, info, digest, layer.content_type, _INNER)
    return layer


def _open_for_me(
    envelope: EnvelopedLayer, mine: list[_Key], signer: x509.Certificate
) -> tuple[SignedLayer, str]:
    candidates = [(r, k) for r in envelope.recipients for k in mine if _matches(r, k)]
    if not candidates:
        addressed = [_cms.describe(r["rid"]) for r in envelope.recipients]
        raise NotForMe(addressed, [k.serial for k in mine])
    failure: TamperedSeal | None = None
    for recipient, key in candidates:  # a serial can repeat under other issuers: try each
        try:
            plain = envelope.decrypt(envelope.unwrap(recipient, key.key))
            return _inner(plain, signer), key.serial
        except TamperedSeal as exc:
            failure = failure or exc
    assert failure is not None
    raise failure


def unseal(
    sealed: bytes | bytearray | memoryview,
    *,
    keys: Mapping[str, DecryptionKey] | Iterable[KeyEntry],
    expected_sender: x509.Certificate | CertificateIdentity | None = None,
    trusted: Sequence[x509.Certificate] | None = None,
    now: datetime | None = None,
) -> UnsealResult:
    """Open a seal with any of `keys` (decimal serial -> key, e.g. `decryption_keys(...)`).

    `expected_sender` is checked before anything is decrypted. `trusted` CA certificates turn
    on a chain check of the sender's certificate (at its signing time), reported in the result.
    """
    mine = _normalise(keys)
    outer, signer, info = _outer(memoryview(sealed))
    if expected_sender is not None:
        _expect(signer, expected_sender)
    chunks = outer.content
    envelope = open_enveloped(chunks[0] if len(chunks) == 1 else memoryview(b"".join(chunks)))
    inner, serial = _open_for_me(envelope, mine, signer)
    del envelope, chunks  # drop the (BER) ciphertext copy before copying the content out
    content = bytes(inner.content[0]) if len(inner.content) == 1 else b"".join(inner.content)
    when = outer.signing_time(info)
    reasons: list[str] = []
    try:
        identity: CertificateIdentity | None = certificate_identity(signer)
    except KeystoreError:
        identity = None
        reasons.append("the sender's certificate carries no eHealth identifier")
    if when is not None and not (signer.not_valid_before_utc <= when <= signer.not_valid_after_utc):
        stamp = f"{when:%Y-%m-%d %H:%M} UTC"
        reasons.append(f"the sender's certificate was not valid at the signing time {stamp}")
    verdict = None
    if trusted is not None:
        moment = when or now or datetime.now(UTC)
        problems = trust_problems(signer, outer.certificates, trusted, moment)
        verdict = not problems
        reasons += problems
    return UnsealResult(content, signer, identity, when, serial, True, verdict, tuple(reasons))
