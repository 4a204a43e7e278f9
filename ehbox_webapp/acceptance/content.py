"""What the run sends: a small PDF document, a text annex, and a too-large document.

None of it may reach the report (titles, texts and file contents are message
content), so everything here is built from the run id and kept in memory only.
`sensitive_texts()` lists the strings a test scans the report files for.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from ..ehealth.ehealthbox import (
    Attachment,
    ContentSpecification,
    CustomMeta,
    FreeInformation,
    NewMessage,
    Recipient,
)
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
        """The message of the run: PDF document, text annex, free text, every receipt."""
        # The message title is the document's title on the wire (SOAP Document/Title).
        document = Attachment(
            make_pdf(self.title, [self.free_text]), "acceptance-test.pdf", "application/pdf"
        )
        annex = Attachment(
            self.annex_text.encode("utf-8"), "acceptance-annex.txt", "text/plain", self.annex_title
        )
        return NewMessage(
            recipients=recipients,
            title=self.title,
            document=document,
            annexes=[annex],
            free_information=FreeInformation(text=self.free_text),
            content_specification=ContentSpecification(
                publication_receipt=True,
                received_receipt=True,
                read_receipt=True,
                application_name=APPLICATION_NAME,
            ),
            custom_metas=[CustomMeta(RUN_META, self.run_id)],
        )

    def too_large(self, recipients: list[Recipient], size: int) -> NewMessage:
        document = Attachment(
            GeneratedFile(size), "acceptance-too-large.bin", "application/octet-stream"
        )
        return NewMessage(recipients=recipients, title=self.title, document=document)

    def to_unknown(self, recipient: Recipient) -> NewMessage:
        return NewMessage(recipients=[recipient], title=self.title, text=self.free_text)


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
