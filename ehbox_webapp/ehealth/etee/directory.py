"""Encryption public keys from eHealth's ETEE JWKS service (the REST face of the ETK depot).

    directory = EteeDirectory(settings.etee_jwks_base, session)
    certs = directory.for_box(recipient)                      # an eHealthBox address
    certs = directory.encryption_certificates("SSIN", "85071212390")

CONFIRMED (ehealth-platform-notes §2.1): eHealth hosts
`<base>?identifier=<id>&type=<TYPE>[&applicationIdentifier=<APP>]&use=enc|sig` and publishes the
keys of the certificate registered for that identifier; `use=enc` selects the encryption key.
INFERRED (§2.2): each JWK carries its certificate in `x5c`, leaf first. UNKNOWN: what the service
answers for an identifier without a certificate; a 404 and an empty key set both mean "no key".
Framework-neutral: a `requests` session in, certificates out.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

import requests
from cachetools import TTLCache
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from ..keystore import KeystoreError, certificate_identity
from .errors import EteeError

__all__ = [
    "ETEE_TYPES",
    "BoxLike",
    "DirectoryUnavailable",
    "EteeDirectory",
    "NoEncryptionKey",
    "describe_box",
    "etee_identifier",
]

DEFAULT_TTL = 3600.0  # certificates change when renewed, about every three years
CACHE_SIZE = 4096  # identifiers kept at once; the oldest go first beyond that

# eHealth's NIHII organisation types (IdentifierType.java, notes §2.3): the eHealthBox Type is
# NIHII with this SubType, the ETEE type is "NIHII-<SubType>".
_NIHII_NAMES = (
    "HOSPITAL PHARMACY LABO RETIREMENT OTD_PHARMACY GROUP PALLIATIVE_CARE OFFICE_DENTISTS "
    "MEDICAL_HOUSE OFFICE_DOCTORS GROUP_DOCTORS OF_BAND PSYCH_HOUSE PROT_ACC HOME_SERVICES "
    "OF_PHYSIOS GUARD_POST BELRAI BELRAI_SCREEN GROUP_MIDWIVES SORTING_CENTER REEDUCATION"
)
_NIHII_ORGANISATIONS = tuple(_NIHII_NAMES.split())
# eHealthBox (Type, SubType) -> ETEE identifier type. The ETEE type is the eHealthBox pair joined
# with "-", except SSIN (eHealthBox INSS) and CBE-TREAT_CENTER (SubType TREATMENT_CENTER).
# A NIHII without SubType is a person: NIHII11 (11 digits) or NIHII (8), see etee_identifier.
ETEE_TYPES: dict[tuple[str, str | None], str] = {
    ("INSS", None): "SSIN",
    ("CBE", None): "CBE",
    ("CBE", "TREATMENT_CENTER"): "CBE-TREAT_CENTER",
    ("CBE", "CONSORTIUM"): "CBE-CONSORTIUM",
    ("EHP", None): "EHP",
    ("EHP", "CTRL_ORGANISM"): "EHP-CTRL_ORGANISM",
    **{("NIHII", sub): f"NIHII-{sub}" for sub in _NIHII_ORGANISATIONS},
}


class BoxLike(Protocol):
    """An eHealthBox address (`BoxId`, `Recipient`, `Sender`): only these fields are read."""

    id: str
    type: str
    sub_type: str | None


class NoEncryptionKey(EteeError):
    """The directory publishes no usable encryption key for a recipient; names the recipient."""

    def __init__(self, recipient: object, reason: str) -> None:
        self.recipient, self.reason = recipient, reason
        label = describe_box(recipient) if hasattr(recipient, "type") else str(recipient)
        self.label = label
        super().__init__(
            f"No encryption key is published for {label}: {reason}. Encrypted messages cannot "
            "be sent to this recipient."
        )


class DirectoryUnavailable(EteeError):
    """The ETEE key directory could not be asked (network, server error, unreadable answer)."""


def describe_box(box: object) -> str:
    """`INSS 85071212390`, `NIHII-HOSPITAL 71000436`: how people name a box, without quality."""
    kind = getattr(box, "type", "?")
    sub = getattr(box, "sub_type", None)
    return f"{kind}-{sub} {getattr(box, 'id', '?')}" if sub else f"{kind} {getattr(box, 'id', '?')}"


def etee_identifier(box: BoxLike) -> tuple[str, str]:
    """(ETEE identifier type, identifier) of an eHealthBox address, from the ETEE_TYPES table."""
    sub = box.sub_type.upper() if box.sub_type else None
    key = (box.type.upper(), sub)
    if key == ("NIHII", None):
        return ("NIHII11" if len(box.id) == 11 else "NIHII"), box.id
    if box.id.upper() == "ALL":
        raise NoEncryptionKey(box, "a broadcast to every box of a quality cannot be encrypted")
    kind = ETEE_TYPES.get(key)
    if kind is None:
        raise NoEncryptionKey(box, "no ETEE identifier type is known for this kind of box")
    return kind, box.id


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _b64url_int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


class EteeDirectory:
    """The `use=enc` certificates of eHealth identifiers, cached for `ttl` seconds.

    Only successful look-ups are cached: a recipient who registers a certificate is found on
    the next attempt. `forget()` empties the cache (tests, a key renewal announced by a peer).
    """

    def __init__(
        self,
        base_url: str,
        session: requests.Session,
        *,
        timeout: float = 15.0,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._session, self.timeout, self.ttl, self._clock = session, timeout, ttl, clock
        self._cache: TTLCache[tuple[str, str, str | None], list[x509.Certificate]] = TTLCache(
            maxsize=CACHE_SIZE, ttl=ttl, timer=clock
        )
        self._lock = threading.Lock()  # cachetools' caches are not thread-safe

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()

    def for_box(self, box: BoxLike, application_id: str | None = None) -> list[x509.Certificate]:
        """The encryption certificates of an eHealthBox address; NoEncryptionKey names `box`."""
        kind, identifier = etee_identifier(box)
        return self.encryption_certificates(kind, identifier, application_id, recipient=box)

    def encryption_certificates(
        self,
        identifier_type: str,
        identifier: str,
        application_id: str | None = None,
        *,
        recipient: object | None = None,
    ) -> list[x509.Certificate]:
        """The valid encryption certificates published for an identifier, newest first."""
        key = (identifier_type, identifier, application_id)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return list(cached)
        who = recipient if recipient is not None else f"{identifier_type} {identifier}"
        certificates = self._fetch(key, who)
        with self._lock:
            self._cache[key] = certificates
        return list(certificates)

    def _fetch(self, key: tuple[str, str, str | None], who: object) -> list[x509.Certificate]:
        identifier_type, identifier, application_id = key
        params = {"identifier": identifier, "type": identifier_type}
        if application_id:
            params["applicationIdentifier"] = application_id
        params["use"] = "enc"
        label = f"{identifier_type} {identifier}"
        try:
            response = self._session.get(
                self.base_url,
                params=params,
                timeout=self.timeout,
                headers={"Accept": "application/json"},
            )
        except requests.RequestException as exc:
            raise DirectoryUnavailable(
                f"The encryption keys of {label} could not be fetched ({type(exc).__name__}); "
                "try again later."
            ) from exc
        with response:
            if response.status_code == 404:
                raise NoEncryptionKey(who, "the ETEE key directory knows no certificate for it")
            if response.status_code != 200:
                raise DirectoryUnavailable(
                    f"The ETEE key directory answered HTTP {response.status_code} for {label}; "
                    "try again later."
                )
            try:
                keys = response.json().get("keys")
            except (ValueError, AttributeError):
                keys = None
        if not isinstance(keys, list):
            raise DirectoryUnavailable(
                f"The ETEE key directory sent an unreadable answer for {label}."
            )
        found, problems = _usable(keys, identifier_type, identifier, application_id)
        if not found:
            reason = problems[0] if problems else "the ETEE key directory publishes no key for it"
            raise NoEncryptionKey(who, reason)
        return found


def _usable(
    keys: list, identifier_type: str, identifier: str, application_id: str | None
) -> tuple[list[x509.Certificate], list[str]]:
    """The certificates of `keys` fit to encrypt for the identifier now, and why others are not."""
    now = datetime.now(UTC)
    found: dict[int, x509.Certificate] = {}
    problems: list[str] = []
    for jwk in keys:
        if not isinstance(jwk, dict) or jwk.get("use", "enc") != "enc":
            continue
        try:
            cert = x509.load_der_x509_certificate(_b64(jwk["x5c"][0]))
        except (KeyError, IndexError, TypeError, ValueError, binascii.Error):
            problems.append("a published key carries no readable certificate (x5c)")
            continue
        public = cert.public_key()
        if not isinstance(public, rsa.RSAPublicKey):
            problems.append("its published certificate has no RSA key")
            continue
        numbers = public.public_numbers()
        try:
            if "n" in jwk and (_b64url_int(jwk["n"]), _b64url_int(jwk["e"])) != (
                numbers.n,
                numbers.e,
            ):
                problems.append("a published key does not match its own certificate")
                continue
        except (KeyError, TypeError, ValueError, binascii.Error):
            problems.append("a published key has unreadable members")
            continue
        try:
            owner = certificate_identity(cert)
        except KeystoreError:
            owner = None  # nothing to compare: the subject carries no eHealth identifier
        if owner is not None and (
            (owner.identifier_type, owner.identifier) != (identifier_type, identifier)
            or (application_id and owner.application_id != application_id)
        ):
            problems.append(
                f"the published certificate belongs to {owner.identifier_type}="
                f"{owner.identifier}, not to {identifier_type}={identifier}"
            )
            continue
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            problems.append(
                f"its certificate is valid from {cert.not_valid_before_utc:%Y-%m-%d} to "
                f"{cert.not_valid_after_utc:%Y-%m-%d}, not now"
            )
            continue
        found.setdefault(cert.serial_number, cert)
    newest_first = sorted(found.values(), key=lambda c: c.not_valid_before_utc, reverse=True)
    return newest_first, problems
