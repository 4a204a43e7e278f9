"""Reading encrypted messages through an eHealthBox client: the fields, then one part at a time.

    opened = open_fields(client, message, folder, keys)     # INSS, free text, annex titles
    part = open_part(client, message, folder, None, keys)   # the document, fetched and opened

`client` is anything that opens a message's document and annexes (`PartSource`): the
`EhealthboxClient`, or whatever stands for it behind the mailbox's port.

The JSON API and the mailbox pages read sealed messages the same way: the message's small
fields are opened when it is shown, and a document or annex only when it is downloaded (a
seal is verified whole, so the part is fetched whole first). Framework-neutral: the callers
turn the exceptions into problem documents or pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Protocol

from ..etee.unseal import DecryptionKey
from .models import Annex, Document, Message
from .unsealing import OpenedMessage, sender_identity, unseal_field, unseal_message

if TYPE_CHECKING:
    from .client import Download

__all__ = ["NoSuchPart", "OpenedPart", "PartSource", "find_part", "open_fields", "open_part"]


class PartSource(Protocol):
    """What opening needs of a client: a message's document and annexes, as stored."""

    def open_document(self, message_id: str, folder: str = "INBOX") -> Download: ...

    def open_annex(self, message_id: str, index: int, folder: str = "INBOX") -> Download: ...


class NoSuchPart(LookupError):
    """The message has no document, or no annex with that index."""


@dataclass(frozen=True)
class OpenedPart:
    """A document or annex opened: its clear bytes and the names it is downloaded under."""

    download_file_name: str
    mime_type: str
    content: bytes = field(repr=False)


def open_fields(
    client: PartSource, message: Message, folder: str, keys: Mapping[str, DecryptionKey]
) -> OpenedMessage:
    """The message's sealed fields opened; the document and annexes are left unfetched."""
    fetch = partial(_sealed_bytes, client, message.message_id, folder)
    return unseal_message(message, fetch, keys, contents=False)


def find_part(message: Message, index: int | None) -> Document | Annex:
    """The document (`index` None) or annex `index` of the message; NoSuchPart otherwise."""
    if index is None:
        if message.document is None:
            raise NoSuchPart("This message has no document.")
        return message.document
    annex = next((a for a in message.annexes if a.index == index), None)
    if annex is None:
        raise NoSuchPart("This message has no such annex.")
    return annex


def open_part(
    client: PartSource,
    message: Message,
    folder: str,
    index: int | None,
    keys: Mapping[str, DecryptionKey],
) -> OpenedPart:
    """Fetch a sealed part whole (its digest checked) and open it.

    Raises NoSuchPart, the client's errors (DigestMismatch when the sealed bytes changed
    after they were sent) and an EteeError when the seal does not open.
    """
    part = find_part(message, index)
    sealed = _sealed_bytes(client, message.message_id, folder, index)
    content = unseal_field(sealed, keys, sender_identity(message)).content
    return OpenedPart(part.download_file_name, part.mime_type, content)


def _sealed_bytes(client: PartSource, message_id: str, folder: str, index: int | None) -> bytes:
    """The document (`index` None) or an annex, read whole (the platform's digest checked)."""
    if index is None:
        download = client.open_document(message_id, folder)
    else:
        download = client.open_annex(message_id, index, folder)
    with download:
        return download.read()
