"""Reading encrypted messages through an EhealthboxClient: the fields, then one part at a time.

    opened = open_fields(client, message, folder, keys)     # INSS, free text, annex titles
    part = open_part(client, message, folder, None, keys)   # the document, fetched and opened

The JSON API and the mailbox pages read sealed messages the same way: the message's small
fields are opened when it is shown, and a document or annex only when it is downloaded (a
seal is verified whole, so the part is fetched whole first). Framework-neutral: the callers
turn the exceptions into problem documents or pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..etee.unseal import DecryptionKey
from .client import EhealthboxClient
from .models import Annex, Document, Message
from .unsealing import OpenedMessage, client_fetch, sender_identity, unseal_field, unseal_message

__all__ = ["NoSuchPart", "OpenedPart", "find_part", "open_fields", "open_part"]


class NoSuchPart(LookupError):
    """The message has no document, or no annex with that index."""


@dataclass(frozen=True)
class OpenedPart:
    """A document or annex opened: its clear bytes and the names it is downloaded under."""

    download_file_name: str
    mime_type: str
    content: bytes = field(repr=False)


def open_fields(
    client: EhealthboxClient, message: Message, folder: str, keys: Mapping[str, DecryptionKey]
) -> OpenedMessage:
    """The message's sealed fields opened; the document and annexes are left unfetched."""
    fetch = client_fetch(client, message.message_id, folder)
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
    client: EhealthboxClient,
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
    if index is None:
        download = client.open_document(message.message_id, folder)
    else:
        download = client.open_annex(message.message_id, index, folder)
    with download:
        sealed = download.read()
    content = unseal_field(sealed, keys, sender_identity(message)).content
    return OpenedPart(part.download_file_name, part.mime_type, content)
