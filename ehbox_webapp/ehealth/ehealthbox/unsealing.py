"""Open a received (or sent) encrypted eHealthBox message field by field; see sealing.py.

`unseal_message` never returns garbage: a field that cannot be opened has no value and a
`FieldProblem` saying why (not addressed to my keys, altered, signed by someone unexpected, or
clear and sealed fields mixed). A mixed message is refused whole: none of its values is given.
The signer is expected to be the message's sender as the platform names it (its eHealthBox id
is the identifier in the sender's certificate), unless `expected_sender` says otherwise.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509

from ..etee import NotForMe, TamperedSeal, UnexpectedSigner, UnsealResult, unseal
from ..etee.directory import NoEncryptionKey, etee_identifier
from ..etee.errors import MalformedSeal
from ..etee.signed import open_signed
from ..etee.unseal import DecryptionKey
from ..keystore import CertificateIdentity
from .client import EhealthboxClient
from .errors import DigestMismatch
from .models import FreeInformation, Message, TableRow

Fetch = Callable[[int | None], bytes]  # None: the document's bytes; n: annex n's bytes
Expected = x509.Certificate | CertificateIdentity

NOT_FOR_ME, TAMPERED, UNEXPECTED_SIGNER, MIXED = (
    "not-for-me",
    "tampered",
    "unexpected-signer",
    "mixed",
)
_SIGNED_DATA = bytes.fromhex("06092a864886f70d010702")  # OID 1.2.840.113549.1.7.2, DER
_ENVELOPED_DATA = bytes.fromhex("06092a864886f70d010703")


@dataclass(frozen=True)
class FieldProblem:
    """Why one field has no value: `kind` is one of the constants above, `reason` a sentence."""

    field: str  # "document", "annexes[1]", "annexes[1].title", "freeText", "patientInss", ...
    kind: str
    reason: str


@dataclass(frozen=True)
class OpenedAnnex:
    index: int
    title: str | None = field(repr=False)
    download_file_name: str
    mime_type: str
    content: bytes | None = field(repr=False)


@dataclass(frozen=True)
class OpenedMessage:
    """A message with its fields opened, and who sealed them; None where a field failed."""

    message: Message
    encrypted: bool
    document: bytes | None = field(repr=False)
    annexes: tuple[OpenedAnnex, ...]
    free_information: FreeInformation | None = field(repr=False)
    patient_inss: str | None = field(repr=False)
    signer: CertificateIdentity | None = None
    signer_certificate: x509.Certificate | None = None
    signing_time: datetime | None = None
    problems: tuple[FieldProblem, ...] = ()
    warnings: tuple[str, ...] = ()  # e.g. the sender's certificate chain is not trusted

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def verdict(self) -> str:
        """The verdict: "clear", "valid", or the kind of the first problem."""
        if self.problems:
            return self.problems[0].kind
        return "valid" if self.encrypted else "clear"

    def shown(self) -> Message:
        """The message with its opened values in place of the seals (None where one failed)."""
        titles = {a.index: a.title for a in self.annexes}
        annexes = tuple(
            dataclasses.replace(a, title=titles.get(a.index) or "(cannot be opened)")
            for a in self.message.annexes
        )
        return dataclasses.replace(
            self.message,
            patient_inss=self.patient_inss,
            free_information=self.free_information,
            annexes=annexes,
        )

    def describe(self) -> str:
        """One sentence for people: who sealed it and whether it holds."""
        if not self.encrypted and self.ok:
            return "This message is not encrypted."
        if not self.ok:
            return f"This message cannot be read: {self.problems[0].reason}"
        who = "an unidentified sender"
        if self.signer is not None:
            name = f" ({self.signer.name})" if self.signer.name else ""
            who = f"{self.signer.identifier_type}={self.signer.identifier}{name}"
        extra = f" Warning: {'; '.join(self.warnings)}." if self.warnings else ""
        return f"Sealed and signed by {who}; every signature is valid.{extra}"


def looks_signed(data: bytes) -> bool:
    """True when `data` starts like a CMS SignedData (so a failure to open it is damage)."""
    return len(data) > 16 and data[0] == 0x30 and _SIGNED_DATA in bytes(data[:16])


def is_seal(data: bytes) -> bool:
    """True when `data` is a SignedData wrapping an EnvelopedData: an ETEE seal (not a .p7m)."""
    if not looks_signed(data):
        return False
    try:
        content = open_signed(memoryview(data), "seal").content
    except MalformedSeal:
        return False
    return bool(content) and _ENVELOPED_DATA in bytes(content[0][:16])


def client_fetch(client: EhealthboxClient, message_id: str, folder: str = "INBOX") -> Fetch:
    """A Fetch reading the document and annexes of a message through an EhealthboxClient."""

    def fetch(index: int | None) -> bytes:
        if index is None:
            download = client.open_document(message_id, folder)
        else:
            download = client.open_annex(message_id, index, folder)
        with download:
            return download.read()  # checks the platform's digest of the sealed bytes

    return fetch


def unseal_field(
    sealed: bytes,
    keys: Mapping[str, DecryptionKey],
    expected_sender: Expected | None = None,
    *,
    trusted: Sequence[x509.Certificate] | None = None,
) -> UnsealResult:
    """One sealed part (e.g. a document being downloaded); raises an EteeError when it fails."""
    return unseal(sealed, keys=keys, expected_sender=expected_sender, trusted=trusted)


def sender_identity(message: Message) -> CertificateIdentity | None:
    """The identity the sender's certificate must carry, from the platform's sender field."""
    try:
        kind, identifier = etee_identifier(message.sender)
    except NoEncryptionKey:
        return None
    return CertificateIdentity(kind, identifier, None, None)


class _Opener:
    """Opens fields one by one, collecting problems and the first signer."""

    def __init__(
        self,
        keys: Mapping[str, DecryptionKey],
        expected: Expected | None,
        trusted: Sequence[x509.Certificate] | None,
        encrypted: bool,
    ) -> None:
        self.keys, self.expected, self.trusted, self.encrypted = keys, expected, trusted, encrypted
        self.problems: list[FieldProblem] = []
        self.first: UnsealResult | None = None
        self.warnings: list[str] = []

    def fail(self, name: str, kind: str, reason: str) -> None:
        """Record why a field has no value; returns None, the field's value."""
        self.problems.append(FieldProblem(name, kind, reason))

    def _clear_or_sealed(self, name: str, sealed: bool) -> bool:
        """False (and a MIXED problem) when the field's state disagrees with isEncrypted."""
        if sealed == self.encrypted:
            return True
        state = "sealed in a message marked clear" if sealed else "clear in an encrypted message"
        self.fail(
            name,
            MIXED,
            f"the field {name} is {state}: sealed and clear fields are "
            "mixed, so the message is refused",
        )
        return False

    def _open(self, name: str, data: bytes) -> bytes | None:
        try:
            result = unseal(
                data, keys=self.keys, expected_sender=self.expected, trusted=self.trusted
            )
        except NotForMe as exc:
            return self.fail(name, NOT_FOR_ME, str(exc))
        except UnexpectedSigner as exc:
            return self.fail(name, UNEXPECTED_SIGNER, str(exc))
        except TamperedSeal as exc:
            return self.fail(name, TAMPERED, str(exc))
        if self.first is None:
            self.first = result
            self.warnings += result.reasons
        elif result.signer_certificate != self.first.signer_certificate:
            return self.fail(
                name,
                UNEXPECTED_SIGNER,
                f"the field {name} is signed by another certificate than the rest of the message",
            )
        return result.content

    def text(self, name: str, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        sealed = looks_signed(raw) if self.encrypted else is_seal(raw)
        if not self._clear_or_sealed(name, sealed):
            return None
        if not self.encrypted:
            return value
        content = self._open(name, raw)
        try:
            return content.decode("utf-8") if content is not None else None
        except UnicodeDecodeError:
            return self.fail(name, TAMPERED, f"the field {name} does not hold UTF-8 text")

    def binary(self, name: str, fetch: Callable[[], bytes]) -> bytes | None:
        try:
            data = fetch()
        except DigestMismatch as exc:  # the bytes changed after they were sent
            return self.fail(name, TAMPERED, str(exc))
        sealed = looks_signed(data) if self.encrypted else is_seal(data)
        if not self._clear_or_sealed(name, sealed):
            return None
        return self._open(name, data) if self.encrypted else data


def unseal_message(
    message: Message,
    fetch: Fetch,
    keys: Mapping[str, DecryptionKey],
    expected_sender: Expected | None = None,
    *,
    contents: bool = True,
    trusted: Sequence[x509.Certificate] | None = None,
) -> OpenedMessage:
    """Every field of `message` opened with `keys` (decimal serial -> key of my box).

    `contents=False` leaves the document and annex bytes unfetched (a page that lists the
    parts opens each one when it is downloaded, with `unseal_field`). A clear message passes
    through, after a check that none of its fields is sealed.
    """
    spec = message.content_specification
    expected = expected_sender if expected_sender is not None else sender_identity(message)
    opener = _Opener(keys, expected, trusted, spec.is_encrypted)
    patient = opener.text("patientInss", message.patient_inss)
    info = message.free_information
    if info is not None and not info.is_table:
        text = opener.text("freeText", info.text)
        info = FreeInformation(text=text) if text is not None else None
    elif info is not None:
        rows = tuple(
            TableRow(
                opener.text(f"table.rows[{i}].left", r.left) or "",
                opener.text(f"table.rows[{i}].right", r.right) or "",
            )
            for i, r in enumerate(info.rows)
        )
        info = FreeInformation(table_title=info.table_title, rows=rows)
    document = None
    if contents and message.document is not None:
        document = opener.binary("document", lambda: fetch(None))
    annexes = []
    for annex in message.annexes:
        title = opener.text(f"annexes[{annex.index}].title", annex.title)
        content = None
        if contents:
            content = opener.binary(f"annexes[{annex.index}]", lambda i=annex.index: fetch(i))
        annexes.append(
            OpenedAnnex(annex.index, title, annex.download_file_name, annex.mime_type, content)
        )
    if any(p.kind == MIXED for p in opener.problems):  # refused whole: nothing is shown
        problems = sorted(opener.problems, key=lambda p: p.kind != MIXED)
        annexes = [
            OpenedAnnex(a.index, None, a.download_file_name, a.mime_type, None) for a in annexes
        ]
        document, patient, info = None, None, None
    else:
        problems = opener.problems
    first = opener.first
    return OpenedMessage(
        message=message,
        encrypted=spec.is_encrypted,
        document=document,
        annexes=tuple(annexes),
        free_information=info,
        patient_inss=patient,
        signer=first.signer_identity if first else None,
        signer_certificate=first.signer_certificate if first else None,
        signing_time=first.signing_time if first else None,
        problems=tuple(problems),
        warnings=tuple(opener.warnings),
    )
