"""From a valid compose form (and its kept files) to the `NewMessage` eHealthBox receives.

Files are opened from the draft and, for a forward, fetched from eHealthBox on
the server (never through the browser); all of them are closed by the caller's
`ExitStack` once the send is over.
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from typing import BinaryIO

from flask_babel import gettext as _

from ...ehealth.ehealthbox import (
    Attachment,
    ContentSpecification,
    Download,
    EhealthboxClient,
    EhealthboxError,
    FreeInformation,
    Message,
    NewMessage,
    Unauthorized,
)
from ...ehealth.ehealthbox.identifiers import clean
from .common import ehealthbox_sentence
from .drafts import Draft, KeptFile
from .encrypted_read import UnreadableOriginal, forwarded_parts
from .forms import ComposeForm

SPOOL_IN_MEMORY = 1024 * 1024  # a forwarded file above this goes to a temporary file


class OriginalUnavailable(Exception):
    """The message being forwarded could not be fetched or opened; `cause` says why."""

    def __init__(self, cause: EhealthboxError | UnreadableOriginal):
        super().__init__(str(cause))
        self.cause = cause

    def __str__(self) -> str:
        """The sentence for the compose page, in the page's language (needs a request)."""
        if isinstance(self.cause, UnreadableOriginal):
            return _(
                "The forwarded message is encrypted and cannot be opened: %(reason)s",
                reason=self.cause.reason,
            )
        return _(
            "The files of the forwarded message could not be fetched: %(reason)s",
            reason=ehealthbox_sentence(self.cause),
        )


def build_message(
    form: ComposeForm, draft: Draft, files: ExitStack, client: EhealthboxClient
) -> NewMessage:
    """The message to send. Forwarded files come first; the user's own follow."""
    document = _kept(draft, draft.document, files) if draft.document else None
    text = (form.text.data or "").strip() or None
    annexes = [_kept(draft, kept, files) for kept in draft.annexes]
    if form.forwarding and form.include_original.data:
        original_document, original_annexes = forwarded_files(
            client, form.forward_folder.data, form.forward_message_id.data, files
        )
        if original_document is not None and document is None and text is None:
            document = original_document  # forwarded as it came
        elif original_document is not None:
            original_annexes.insert(0, original_document)  # the user wrote a new document
        annexes = original_annexes + annexes
    free_text = (form.free_text.data or "").strip()
    return NewMessage(
        recipients=[row.recipient() for row in form.filled_rows()],
        title=form.title.data,
        document=document,
        text=text if document is None else None,
        free_information=FreeInformation(text=free_text) if free_text else None,
        patient_inss=clean(form.patient_inss.data) or None,
        annexes=annexes,
        content_specification=ContentSpecification(
            is_important=form.is_important.data,
            publication_receipt=form.publication_receipt.data,
            received_receipt=form.received_receipt.data,
            read_receipt=form.read_receipt.data,
        ),
        publication_id=form.publication_id.data,
    )


def _kept(draft: Draft, kept: KeptFile, files: ExitStack) -> Attachment:
    stream = files.enter_context(draft.open(kept))
    return Attachment(stream, kept.filename, kept.mime_type)


def forwarded_files(
    client: EhealthboxClient, folder: str, message_id: str, files: ExitStack
) -> tuple[Attachment | None, list[Attachment]]:
    """The original's document and annexes, downloaded (digest-checked) to spooled files.

    An encrypted original is opened first: what is forwarded is its content, sealed again
    for the new recipients when the new message is encrypted.
    """
    try:
        original: Message = client.get_message(message_id, folder)
        if original.content_specification.is_encrypted:
            return forwarded_parts(client, original, folder)
        document = None
        if original.document is not None:
            doc = original.document
            document = Attachment(
                _spool(client.open_document(message_id, folder), files),
                doc.download_file_name,
                doc.mime_type,
                title=doc.title,
            )
        annexes = [
            Attachment(
                _spool(client.open_annex(message_id, annex.index, folder), files),
                annex.download_file_name,
                annex.mime_type,
                title=annex.title,
            )
            for annex in original.annexes
        ]
    except Unauthorized:
        raise  # the page asks to log in again, as for any other call
    except (EhealthboxError, UnreadableOriginal) as exc:
        raise OriginalUnavailable(exc) from exc
    return document, annexes


def _spool(download: Download, files: ExitStack) -> BinaryIO:
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    files.enter_context(spool)  # closed (and deleted) with the other files after the send
    with download:
        for chunk in download.iter_bytes():
            spool.write(chunk)
    spool.seek(0)
    return spool  # type: ignore[return-value]
