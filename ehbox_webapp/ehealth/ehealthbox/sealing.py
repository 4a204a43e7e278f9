"""End-to-end encrypted eHealthBox messages (ETEE): seal and send, unseal. Framework-neutral.

    result = send_encrypted(client, directory, keys, message)   # look up keys, seal, send
    sealed = seal_message(message, sender=identity, sender_box_certs=[...],
                          recipient_certs={recipient: [cert, ...]})
    opened = unseal_message(full, client_fetch(client, full.message_id), keys_of_my_box)

The eHealthBox rules, CONFIRMED for SOAP v3 (ehealth-platform-notes §3.7):
- every "Encryptable" field is sealed on its own: the document and annex contents, the free
  text, both cells of each table row, the patient INSS and the annex titles;
- the document title, download file names, MIME types and the table title are never encrypted:
  keep patient data out of them (custom metas and copyMailTo are not encrypted either);
- all or nothing: with `isEncrypted` every Encryptable field is sealed;
- the sender adds its own encryption certificate, so that its SENTBOX copy stays readable;
- a recipient without an encryption key stops the send, before anything is sent;
- digests are over the bytes sent, i.e. the sealed bytes (`Attachment` computes them).
On the wire (modelled REST contract, openapi.yaml): binary parts carry the sealed bytes, text
fields the base64 of their seal; a sealed text document travels as a binary part.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from cryptography import x509

from ..etee import seal
from ..etee.directory import BoxLike, EteeDirectory, NoEncryptionKey, etee_identifier
from ..etee.keys import KeyProvider
from ..keystore import SigningIdentity
from .client import EhealthboxClient
from .models import Attachment, BoxId, FreeInformation, NewMessage, SendResult, TableRow
from .unsealing import (
    FieldProblem,
    OpenedAnnex,
    OpenedMessage,
    client_fetch,
    is_seal,
    sender_identity,
    unseal_field,
    unseal_message,
)

__all__ = [
    "EncryptedSend",
    "FieldProblem",
    "OpenedAnnex",
    "OpenedMessage",
    "client_fetch",
    "is_seal",
    "seal_message",
    "send_encrypted",
    "sender_identity",
    "unseal_field",
    "unseal_message",
]

CLEAR_FIELDS_WARNING = (
    "The title, the file names and the MIME types are not encrypted: keep patient data out of them."
)


def _box_key(box: BoxLike) -> tuple[str, str | None, str]:
    return box.type.upper(), (box.sub_type or None), box.id


def seal_message(
    message: NewMessage,
    *,
    sender: SigningIdentity,
    sender_box_certs: Sequence[x509.Certificate],
    recipient_certs: Mapping[BoxLike, Sequence[x509.Certificate]],
    signing_time: datetime | None = None,
) -> NewMessage:
    """A new NewMessage, every Encryptable field sealed for the recipients and the sender.

    `recipient_certs` maps each recipient (quality ignored) to its encryption certificates;
    one missing raises NoEncryptionKey naming it. The publication id is kept, so that sending
    the same message again after a lost answer is still delivered once.
    """
    if message.content_specification.is_encrypted and _already_sealed(message):
        raise ValueError("This message is already sealed.")
    given = {_box_key(box): list(certs) for box, certs in recipient_certs.items()}
    targets = list(sender_box_certs)
    if not targets:
        raise NoEncryptionKey("the sender's own box", "without it the sent copy is unreadable")
    for recipient in message.recipients:
        certs = given.get(_box_key(recipient))
        if not certs:
            raise NoEncryptionKey(recipient, "no encryption certificate was given for it")
        targets += certs
    when = signing_time or datetime.now(UTC)

    def sealed(data: bytes) -> bytes:
        return seal(data, sender=sender, recipients=targets, signing_time=when)

    def sealed_text(text: str) -> str:
        return base64.b64encode(sealed(text.encode("utf-8"))).decode("ascii")

    if message.document is not None:
        doc = message.document
        document = Attachment(sealed(doc.read_all()), doc.filename, doc.mime_type, doc.title)
    else:  # sealed bytes are not text: the inline text document becomes a binary part
        document = Attachment(sealed(message.text_bytes), message.text_filename, "text/plain")
    annexes = [
        Attachment(sealed(a.read_all()), a.filename, a.mime_type, title=sealed_text(a.title))
        for a in message.annexes
    ]
    info = message.free_information
    if info is not None and not info.is_table:
        info = FreeInformation(text=sealed_text(info.text or ""))
    elif info is not None:
        rows = tuple(TableRow(sealed_text(r.left), sealed_text(r.right)) for r in info.rows)
        info = FreeInformation(table_title=info.table_title, rows=rows)
    return NewMessage(
        recipients=list(message.recipients),
        title=message.title,
        document=document,
        free_information=info,
        patient_inss=sealed_text(message.patient_inss) if message.patient_inss else None,
        annexes=annexes,
        content_specification=replace(message.content_specification, is_encrypted=True),
        custom_metas=list(message.custom_metas),
        copy_mail_to=list(message.copy_mail_to),
        text_filename=message.text_filename,
        publication_id=message.publication_id,
    )


def _already_sealed(message: NewMessage) -> bool:
    texts = [message.patient_inss, *(a.title for a in message.annexes)]
    if message.free_information is not None:
        texts.append(message.free_information.text)
    for text in filter(None, texts):
        try:
            if is_seal(base64.b64decode(text, validate=True)):
                return True
        except ValueError:
            continue
    return False


class EncryptedSend:
    """Send encrypted from one box: look up every key first, then seal and send.

    The sender's box is asked from the platform (`box_info`) unless given. Nothing is sent
    when a recipient, or the sender itself, has no published encryption key: NoEncryptionKey
    names it. After SendOutcomeUnknown, call `send` again with the same (clear) message: it
    is sealed again under the same publication id, which the platform delivers once.
    """

    def __init__(
        self,
        client: EhealthboxClient,
        directory: EteeDirectory,
        keys: KeyProvider,
        *,
        sender_box: BoxLike | None = None,
    ) -> None:
        self.client, self.directory, self.keys = client, directory, keys
        self._sender_box = sender_box

    @property
    def sender_box(self) -> BoxLike:
        if self._sender_box is None:
            self._sender_box = self.client.box_info().box_id
        return self._sender_box

    def recipient_certificates(self, message: NewMessage) -> dict[BoxId, list[x509.Certificate]]:
        """Every recipient's encryption certificates; NoEncryptionKey for the first without."""
        found: dict[BoxId, list[x509.Certificate]] = {}
        for recipient in message.recipients:
            box = BoxId(recipient.id, recipient.type, recipient.quality, recipient.sub_type)
            etee_identifier(box)  # a broadcast or an unknown kind of box fails here, named
            found[box] = self.directory.for_box(box)
        return found

    def seal(self, message: NewMessage) -> NewMessage:
        """The sealed message, ready for `client.send` (keys looked up, nothing sent)."""
        recipients = self.recipient_certificates(message)
        own = self.directory.for_box(self.sender_box)
        # Asked last: in the sandbox a persona's keystore is issued on its first key look-up.
        identity = self.keys.signing_identity_for(self.sender_box)
        return seal_message(
            message, sender=identity, sender_box_certs=own, recipient_certs=recipients
        )

    def send(self, message: NewMessage) -> SendResult:
        return self.client.send(self.seal(message))


def send_encrypted(
    client: EhealthboxClient,
    directory: EteeDirectory,
    keys: KeyProvider,
    message: NewMessage,
    *,
    sender_box: BoxLike | None = None,
) -> SendResult:
    """Seal `message` for its recipients and for the sender, then send it (see EncryptedSend)."""
    return EncryptedSend(client, directory, keys, sender_box=sender_box).send(message)
