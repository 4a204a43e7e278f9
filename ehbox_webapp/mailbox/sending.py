"""Sending a draft, and the original a forward carries: one way for the pages and the API.

`send_draft` is what the compose page's Send and `POST /api/v1/drafts/{id}/send` both do: the
draft's values and files, with the forwarded original's parts, go through `outgoing_message`
(the one input model, so the same input meets the same problems whatever the entry point)
and `Mailbox.send`, under the draft's PublicationId; the draft is deleted once eHealthBox
confirmed the send. A forwarded original is fetched on the server (never through the
browser); a sealed one is opened first, and a forward never carries a seal addressed to
someone else nor half a message.
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from typing import Any, BinaryIO

from ..ehealth.ehealthbox.client import Download
from ..ehealth.ehealthbox.errors import EhealthboxError, Unauthorized
from ..ehealth.ehealthbox.models import Attachment, SendResult
from ..ehealth.ehealthbox.opening import OpenedPart
from ..ehealth.etee.errors import EteeError
from .actions import Mailbox
from .drafts import Draft
from .outgoing import Outgoing, Upload, outgoing_message
from .outgoing import folder as checked_folder
from .problems import Invalid, Problem
from .rules import MESSAGE_ID_PATTERN, is_message_id

SPOOL_IN_MEMORY = 1024 * 1024  # a forwarded file above this goes to a temporary file


class OriginalUnavailable(Exception):
    """The message being forwarded could not be fetched or opened.

    `cause`: the eHealthBox or encryption error, or None when a sealed field did not open;
    then `kind` says why (an `unsealing` problem kind).
    """

    def __init__(self, cause: Exception | None, kind: str | None = None):
        super().__init__(str(cause) if cause is not None else kind or "unavailable")
        self.cause = cause
        self.kind = kind

    @property
    def sealed(self) -> bool:
        """The original is encrypted and did not open (as opposed to: not fetched)."""
        return self.cause is None or isinstance(self.cause, EteeError)


def draft_message(box: Mailbox, draft: Draft, files: ExitStack) -> Outgoing:
    """The draft as a checked message (`Invalid` with every problem), its files opened in
    `files`; OriginalUnavailable when the original it forwards cannot be fetched or opened."""
    values: dict[str, Any] = {k: v for k, v in draft.values.items() if k != "forward"}
    values["publicationId"] = draft.publication_id
    document = _upload(draft, draft.document, files) if draft.document else None
    annexes = [_upload(draft, kept, files) for kept in draft.annexes]
    forward = draft.values.get("forward")
    forwarded: list[Attachment] = []
    if isinstance(forward, dict) and forward.get("includeOriginal"):
        source = checked_folder(forward.get("folder"), "forward.folder")
        message_id = forward.get("messageId")
        if not is_message_id(message_id):
            raise Invalid(
                [Problem("pattern", "forward.messageId", {"pattern": MESSAGE_ID_PATTERN})]
            )
        forwarded = forwarded_parts(box, source, message_id, files)
    return outgoing_message(values, document=document, annexes=annexes, forwarded=forwarded)


def draft_problems(draft: Draft) -> list[Problem]:
    """What a send would refuse in the draft's own values and files, without sending or
    fetching anything (a forwarded original counts as content)."""
    values = {k: v for k, v in draft.values.items() if k != "forward"}
    forward = draft.values.get("forward")
    original = [Attachment(b"", "original", "application/octet-stream")]
    forwarded = original if isinstance(forward, dict) and forward.get("includeOriginal") else []
    with ExitStack() as files:
        document = _upload(draft, draft.document, files) if draft.document else None
        annexes = [_upload(draft, kept, files) for kept in draft.annexes]
        try:
            outgoing_message(values, document=document, annexes=annexes, forwarded=forwarded)
        except Invalid as exc:
            return list(exc.problems)
    return []


def send_draft(box: Mailbox, draft: Draft) -> SendResult:
    """Send the draft under its PublicationId; it is deleted once the send is confirmed."""
    with ExitStack() as files:
        result = box.send(draft_message(box, draft, files))
    draft.delete()
    return result


def forwarded_parts(
    box: Mailbox, folder: str, message_id: str, files: ExitStack
) -> list[Attachment]:
    """The original's document (first) and annexes, fetched whole (digests checked) and opened
    when sealed. Unauthorized passes through (the caller logs in again); any other failure is
    OriginalUnavailable."""
    try:
        opened = box.open(message_id, folder)
        if opened.sealed is not None and opened.sealed.problems:
            raise OriginalUnavailable(None, opened.sealed.problems[0].kind)
        message = opened.message
        parts: list[Attachment] = []
        if message.document is not None:
            part = box.part(message, folder, None)
            parts.append(_attachment(part, files, message.document.title))
        for annex in message.annexes:
            part = box.part(message, folder, annex.index)
            parts.append(_attachment(part, files, annex.title))
    except Unauthorized:
        raise
    except (EhealthboxError, EteeError) as exc:
        raise OriginalUnavailable(exc) from exc
    return parts


def _attachment(part: Download | OpenedPart, files: ExitStack, title: str | None) -> Attachment:
    if isinstance(part, OpenedPart):
        return Attachment(part.content, part.download_file_name, part.mime_type, title=title)
    stream = _spool(part, files)
    return Attachment(stream, part.filename, part.mime_type, title=title or part.filename)


def _spool(download: Download, files: ExitStack) -> BinaryIO:
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    files.enter_context(spool)  # closed (and deleted) with the other files after the send
    with download:
        for chunk in download.iter_bytes():
            spool.write(chunk)
    spool.seek(0)
    return spool  # type: ignore[return-value]


def _upload(draft: Draft, kept, files: ExitStack) -> Upload:
    return Upload(files.enter_context(draft.open(kept)), kept.filename, kept.mime_type)
