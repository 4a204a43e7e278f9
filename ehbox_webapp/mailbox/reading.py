"""Reading a message's document as text: the preview a page shows instead of a download.

A short plain-text document (at most `TEXT_PREVIEW_LIMIT` bytes) is shown as text, sealed or
not: it comes through `Mailbox.part` like any download (streamed, or fetched whole and opened
when sealed), so there is one way to read a part. Reading stops at the limit even when the
stated size is wrong; bytes that are not valid in the document's charset are replaced.
"""

from __future__ import annotations

import codecs

from ..ehealth.ehealthbox.models import Message
from ..ehealth.ehealthbox.opening import OpenedPart
from .actions import Mailbox
from .names import essence

TEXT_PREVIEW_LIMIT = 256 * 1024  # bigger text documents are downloaded, not shown


def has_text_preview(message: Message) -> bool:
    """The message's document is a plain text small enough to show as text."""
    document = message.document
    return (
        document is not None
        and essence(document.mime_type) == "text/plain"
        and document.size <= TEXT_PREVIEW_LIMIT
    )


def document_text(box: Mailbox, message: Message, folder: str) -> str | None:
    """The document as text when `has_text_preview`, else None.

    Sealed: raises what `Mailbox.part` raises (EteeError, DigestMismatch, NoKeystore).
    """
    if not has_text_preview(message):
        return None
    part = box.part(message, folder, None)
    if isinstance(part, OpenedPart):
        raw = part.content[:TEXT_PREVIEW_LIMIT]
    else:
        chunks, size = [], 0
        with part as download:
            for chunk in download.iter_bytes():  # bounded even if the stated size is wrong
                chunks.append(chunk)
                size += len(chunk)
                if size > TEXT_PREVIEW_LIMIT:
                    break
        raw = b"".join(chunks)[:TEXT_PREVIEW_LIMIT]
    return raw.decode(charset(message.document.mime_type), errors="replace")  # type: ignore[union-attr]


def charset(mime_type: str) -> str:
    """The charset parameter if Python knows it; UTF-8 otherwise (eHealth's usual)."""
    for param in mime_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            try:
                return codecs.lookup(value.strip().strip('"')).name
            except LookupError:
                break
    return "utf-8"
