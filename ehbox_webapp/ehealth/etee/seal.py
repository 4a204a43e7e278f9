"""Seal: sign, encrypt for the recipients' ETKs, sign again (eHealth "triple wrapping").

`seal(content, sender=..., recipients=[...])` is the `seal(WITH_NON_REPUDIATION, ...)` of the
eHealth crypto library for a sender with an eHealth certificate: both signatures are made with
the sender's `authentication` key (freehealth-connector's CryptoImpl uses one credential for the
inner and the outer signature when it is not an eID), so the reader can bind them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ..keystore import KeyEntry, SigningIdentity
from ._cms import SigningKey
from .enveloped import enveloped_data
from .errors import EteeError
from .etk import Etk
from .signed import signed_data

__all__ = ["Recipient", "Sender", "seal"]

Recipient = Etk | x509.Certificate
Sender = SigningIdentity | KeyEntry


def _sender(sender: Sender) -> tuple[SigningKey, x509.Certificate, tuple[x509.Certificate, ...]]:
    if isinstance(sender, KeyEntry):
        return sender.private_key, sender.certificate, sender.chain
    return sender.key, sender.certificate, sender.chain


def encryption_certificates(recipients: Iterable[Recipient]) -> list[x509.Certificate]:
    """The recipients' encryption certificates, each once, in the order given."""
    unique: dict[bytes, x509.Certificate] = {}
    for recipient in recipients:
        cert = recipient.encryption_certificate if isinstance(recipient, Etk) else recipient
        if not isinstance(cert, x509.Certificate):
            raise EteeError("Recipients must be ETKs or encryption certificates.")
        unique.setdefault(cert.fingerprint(hashes.SHA256()), cert)
    return list(unique.values())


def seal(
    content: bytes | bytearray | memoryview,
    *,
    sender: Sender,
    recipients: Iterable[Recipient],
    signing_time: datetime | None = None,
    pss: bool = False,
) -> bytes:
    """The sealed CMS (DER) of `content` from `sender` for every recipient.

    Add the sender's own ETK to `recipients` to keep the sent copy readable (eHealthBox does).
    `pss=True` signs with RSASSA-PSS like egelke's .NET library; the default PKCS#1 v1.5 is
    accepted by every unsealer we read. Memory: the content, one ciphertext and the result.
    """
    key, certificate, chain = _sender(sender)
    targets = encryption_certificates(recipients)
    when = signing_time or datetime.now(UTC)
    inner = signed_data([memoryview(content)], key=key, certificate=certificate, when=when, pss=pss)
    envelope = enveloped_data(inner, targets)
    outer = signed_data(
        envelope,
        key=key,
        certificate=certificate,
        certificates=(certificate, *chain),
        when=when,
        pss=pss,
    )
    return b"".join(outer)
