"""One message: its page, its document (downloaded or shown inline) and its annexes.

A plain-text document is shown on the page in a <pre> (escaped like everything
else from a message); a PDF or an image in an <iframe> of the inline route, which
serves only PDF, plain text and raster images inline, inside a sandboxing CSP (see
`web/downloads.py`). The same frame previews the annexes of those types.
Every file can always be downloaded as an attachment.

An encrypted message is opened on the way (`encrypted_read`): the page shows its opened
fields and who sealed it, and its files are opened when downloaded. A download therefore
asks for the message first, to know whether its parts are sealed and by whom.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...ehealth.ehealthbox import (
    AcknowledgmentStatus,
    EhealthboxClient,
    EhealthboxError,
    Message,
    Unauthorized,
)
from ...mailbox.marks import UnreadMarks
from ...mailbox.reading import document_text, has_text_preview
from ...mailbox.rules import MAX_PAGE, is_ascii_number
from ..caller import mailbox
from ..downloads import INLINE_TYPES, essence, stream_download
from ..login_checks import login_required
from . import boxcache
from .blueprint import bp
from .common import (
    FOLDER_LABELS,
    MESSAGE,
    SENT_FOLDERS,
    check_message_id,
    ehealthbox_sentence,
)
from .encrypted_read import open_for_page, sealed_download


@bp.get(f"/{MESSAGE}")
@login_required
def message(folder: str, message_id: str):
    """The message page. Opening an INBOX message marks it read (and sends the receipts).

    `at` (its position in the folder, from the folder page's link) gives the previous and
    next messages: one listing of three around it.
    """
    view = message_view(folder, message_id)
    receipts, receipts_error = _receipts(view["client"], view["raw"], folder)
    return render_template(
        "mailbox/message.html",
        **view,
        receipts=receipts,
        receipts_error=receipts_error,
        neighbours=neighbours(view["client"], folder, message_id, request.args.get("at")),
    )


def message_view(folder: str, message_id: str) -> dict:
    """What the message page and its print view show: the message opened, its text."""
    check_message_id(message_id)
    client = mailbox()
    msg = client.get_message(message_id, folder)
    if folder not in SENT_FOLDERS:
        boxcache.opened(folder, message_id)  # it is read now: its folder may have one unread fewer
        unread_marks().clear(folder, message_id)
    show = document_display(msg)
    boxcache.shown(folder, message_id, msg.content_specification.is_encrypted)
    sealed = None
    if msg.content_specification.is_encrypted:
        sealed = open_for_page(client, msg, folder, text_document=show == "text")
        text = sealed.document_text
    else:
        text = document_text(client, msg, folder)
    return {
        "client": client,
        "raw": msg,
        "folder": folder,
        "message": sealed.message if sealed else msg,
        "sealed": sealed,
        "show": show,
        "text": text,
    }


@dataclass(frozen=True)
class Neighbours:
    """The messages before and after one in its folder (newest first): (id, position)."""

    newer: tuple[str, int] | None = None
    older: tuple[str, int] | None = None


def neighbours(client, folder: str, message_id: str, at: str | None) -> Neighbours:
    """The previous (newer) and next (older) messages around position `at`, if it still holds.

    From the folder's last listing when it showed them (the page the link came from), else
    from a listing of three around it.
    """
    if not is_ascii_number(at or "", 1, MAX_PAGE * 100):
        return Neighbours()
    position = int(at)
    start = max(1, position - 1)
    ids = boxcache.around(folder, message_id, position)  # as the folder page showed them
    if ids is None:
        try:
            ids = [m.message_id for m in client.list_messages(folder, start, position + 1).messages]
        except EhealthboxError:
            return Neighbours()
    if message_id not in ids:  # mail came or went meanwhile: no guess
        return Neighbours()
    index = ids.index(message_id)
    here = start + index
    newer = (ids[index - 1], here - 1) if index > 0 else None
    older = (ids[index + 1], here + 1) if index + 1 < len(ids) else None
    return Neighbours(newer, older)


def unread_marks() -> UnreadMarks:
    """The messages the logged-in user marked unread (`mailbox.marks`)."""
    memory = boxcache.memory()
    return UnreadMarks(memory.store, memory.sub)


@bp.post(f"/{MESSAGE}/unread")
@login_required
def mark_unread(folder: str, message_id: str):
    """Mark as unread: kept by the application (the platform has no such operation)."""
    check_message_id(message_id)
    unread_marks().mark(folder, message_id)
    flash(
        _(
            "Marked as unread: it shows unread in %(folder)s until you open it again.",
            folder=FOLDER_LABELS[folder],
        )
    )
    return redirect(url_for("mailbox.folder", folder=folder))


@bp.get(f"/{MESSAGE}/document")
@login_required
def document(folder: str, message_id: str):
    return _download(folder, message_id, None)


@bp.get(f"/{MESSAGE}/document/inline")
@login_required
def document_inline(folder: str, message_id: str):
    """For the message page's <iframe>: PDF or text inline, anything else as a download."""
    return _download(folder, message_id, None, inline=True)


@bp.get(f"/{MESSAGE}/annexes/<int:index>")
@login_required
def annex(folder: str, message_id: str, index: int):
    return _download(folder, message_id, index)


@bp.get(f"/{MESSAGE}/annexes/<int:index>/inline")
@login_required
def annex_inline(folder: str, message_id: str, index: int):
    """For the preview frame: an annex that is a PDF, a text or an image, inline."""
    return _download(folder, message_id, index, inline=True)


@bp.app_template_test("previewable")
def previewable(mime_type: str | None) -> bool:
    """Whether the preview frame can show a file of this type (the inline route serves it)."""
    return essence(mime_type or "") in INLINE_TYPES


def _download(folder: str, message_id: str, index: int | None, *, inline: bool = False):
    """Stream a part as it is stored; a sealed part is fetched whole and opened first.

    Whether it is sealed comes from the message, asked first, unless a page just showed it
    (the preview frame of the message page): then the part is asked at once.
    """
    check_message_id(message_id)
    client = mailbox()
    if boxcache.shown_unsealed(folder, message_id):
        return _stream(client, message_id, folder, index, inline)
    msg = client.get_message(message_id, folder)
    if msg.content_specification.is_encrypted:
        return sealed_download(client, msg, folder, index, inline=inline)
    return _stream(client, message_id, folder, index, inline)


def _stream(client, message_id: str, folder: str, index: int | None, inline: bool):
    if index is None:
        return stream_download(client.open_document(message_id, folder), inline=inline)
    return stream_download(client.open_annex(message_id, index, folder), inline=inline)


def document_display(msg: Message) -> str | None:
    """How the page shows the document: "text" (in a <pre>), "pdf" or "image" (in the
    preview <iframe>) or None."""
    if msg.document is None:
        return None
    kind = essence(msg.document.mime_type)
    if has_text_preview(msg):
        return "text"
    if kind == "application/pdf":
        return "pdf"
    if kind in INLINE_TYPES:
        return "image"
    return None


def _receipts(
    client: EhealthboxClient, msg: Message, folder: str
) -> tuple[list[AcknowledgmentStatus], str | None]:
    """For a sent message: when each recipient got it. A failure here spoils only this part."""
    if folder not in SENT_FOLDERS:
        return [], None
    try:
        return client.acknowledgments(msg.message_id), None
    except Unauthorized:
        raise
    except EhealthboxError as exc:
        return [], ehealthbox_sentence(exc)
