"""A minimal chain check for the sender's certificate against given trust anchors.

Not a full RFC 5280 path validation (no revocation, policies or name constraints): it walks
issuer signatures through the certificates in the seal up to an anchor and checks validity at
the signing time. Revocation (OCSP/CRL, egelke's LT level) is left to the integration.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

__all__ = ["trust_problems"]

_MAX_CHAIN = 8


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _valid_at(cert: x509.Certificate, moment: datetime) -> bool:
    return cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc


def trust_problems(
    leaf: x509.Certificate,
    pool: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    moment: datetime,
) -> list[str]:
    """Why `leaf` does not chain to one of `anchors` at `moment`; empty when it does."""
    problems: list[str] = []
    current, path = leaf, [leaf]
    while current not in anchors:
        if len(path) > _MAX_CHAIN:
            return ["the sender's certificate chain is too long"]
        issuer = next(
            (c for c in (*anchors, *pool) if c not in path and _issued_by(current, c)), None
        )
        if issuer is None:
            return ["the sender's certificate does not chain to a trusted certificate authority"]
        if issuer not in anchors:
            try:
                constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints)
                is_ca = constraints.value.ca
            except x509.ExtensionNotFound:
                is_ca = False
            if not is_ca:
                return [f"{issuer.subject.rfc4514_string()} is not a certificate authority"]
        path.append(issuer)
        current = issuer
    for cert in path:
        if not _valid_at(cert, moment):
            problems.append(
                f"the certificate {cert.subject.rfc4514_string()} was not valid at the signing "
                f"time {moment:%Y-%m-%d %H:%M} UTC"
            )
    return problems


def broken_certificate(certificates: Sequence[x509.Certificate]) -> x509.Certificate | None:
    """A certificate of the seal whose issuer is also in it but did not sign it.

    Certificates are not covered by the CMS signature; checking them against each other makes
    a flipped byte in the sender's certificate or its chain visible without trust anchors.
    """
    for cert in certificates:
        named = [c for c in certificates if c.subject == cert.issuer]
        if named and not any(_issued_by(cert, issuer) for issuer in named):
            return cert
    return None
