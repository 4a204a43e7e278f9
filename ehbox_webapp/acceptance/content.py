"""What the run sends: a small PDF document, a text annex, and a too-large document.

None of it may reach the report (titles, texts and file contents are message
content), so everything here is built from the run id and kept in memory only.
`sensitive_texts()` lists the strings a test scans the report files for.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace

from ..ehealth.ehealthbox import Attachment, CustomMeta, NewMessage, Recipient
from ..mailbox.outgoing import Upload, outgoing_message
from ..mailbox.rules import RECEIPTS
from ..pdf import make_pdf

APPLICATION_NAME = "ehbox-acceptance"  # ContentSpecification.ApplicationName: 1-25 characters
RUN_META = "ehbox-acceptance-run"  # CustomMeta key: finds the message when lists lack PublicationId
MIB = 1024 * 1024


@dataclass(frozen=True)
class TestContent:
    """The titles and texts of the run's message, derived from the run id."""

    run_id: str

    @property
    def title(self) -> str:
        return f"Acceptance test message {self.run_id} (document and annex)"

    @property
    def annex_title(self) -> str:
        return f"Acceptance test annex {self.run_id}"

    @property
    def free_text(self) -> str:
        return f"Free text of acceptance run {self.run_id}: no patient data."

    @property
    def annex_text(self) -> str:
        return f"Annex of acceptance run {self.run_id}.\nPlain text, UTF-8: é à ü.\n"

    def sensitive_texts(self) -> list[str]:
        return [self.title, self.annex_title, self.free_text, self.annex_text]

    def message(self, recipients: list[Recipient]) -> NewMessage:
        """The message of the run: PDF document, text annex, free text, every receipt.

        Built by the mailbox's input model, as the pages, the API and the CLI build theirs;
        only the run's own markers (application name, custom meta) are added after.
        """
        # The message title is the document's title on the wire (SOAP Document/Title).
        pdf = make_pdf(self.title, [self.free_text])
        annex = self.annex_text.encode("utf-8")
        message = outgoing_message(
            {
                "recipients": [_values(r) for r in recipients],
                "title": self.title,
                "freeText": self.free_text,
                "receipts": list(RECEIPTS),
            },
            document=Upload(pdf, "acceptance-test.pdf", "application/pdf"),
            annexes=[Upload(annex, "acceptance-annex.txt", "text/plain", self.annex_title)],
        ).message
        spec = replace(message.content_specification, application_name=APPLICATION_NAME)
        return replace(
            message, content_specification=spec, custom_metas=[CustomMeta(RUN_META, self.run_id)]
        )

    def too_large(self, recipients: list[Recipient], size: int) -> NewMessage:
        document = Attachment(
            GeneratedFile(size), "acceptance-too-large.bin", "application/octet-stream"
        )
        return NewMessage(recipients=recipients, title=self.title, document=document)

    def to_unknown(self, recipient: Recipient) -> NewMessage:
        """A valid message to a box that does not exist (the platform's 802, not our rules)."""
        values = {"recipients": [_values(recipient)], "title": self.title, "text": self.free_text}
        return outgoing_message(values).message


def _values(recipient: Recipient) -> dict[str, object]:
    return {
        "type": recipient.type,
        "id": recipient.id,
        "quality": recipient.quality,
        "subType": recipient.sub_type,
    }


class GeneratedFile(io.RawIOBase):
    """`size` bytes made on demand from a repeating block: a large upload without the memory.

    Seekable, so that `Attachment` reads it twice (digest, then send) instead of
    spooling a copy to a temporary file.
    """

    BLOCK = bytes(range(256)) * 256  # 64 KiB

    def __init__(self, size: int):
        super().__init__()
        self.size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        count = max(0, min(len(view), self.size - self._pos))
        done = 0
        while done < count:
            offset = (self._pos + done) % len(self.BLOCK)
            piece = min(count - done, len(self.BLOCK) - offset)
            view[done : done + piece] = self.BLOCK[offset : offset + piece]
            done += piece
        self._pos += count
        return count
