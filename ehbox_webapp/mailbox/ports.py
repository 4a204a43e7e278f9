"""What the mailbox needs of an eHealthBox client: the one port the use cases call through.

`EhealthboxClient` (`ehealth/ehealthbox/client.py`) is the adapter that speaks the REST
contract; the unit tests' in-memory eHealthBox (`tests/fake_ehealthbox.py`) is another.
Both satisfy `EhealthboxPort` structurally (`tests/test_mailbox_use_cases.py` checks the
signatures). Nothing here reaches the network or a web framework.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import TYPE_CHECKING, Protocol

from ..ehealth.ehealthbox.models import (
    MAX_IDS_PER_CALL,
    AcknowledgmentStatus,
    BoxId,
    BoxInfo,
    Message,
    MessagePage,
    MessageSummary,
    NewMessage,
    OutOfOffice,
    SendResult,
)

if TYPE_CHECKING:
    from ..ehealth.ehealthbox.client import Download


class EhealthboxPort(Protocol):
    """One box's eHealthBox, as the mailbox's use cases call it.

    Failures are the client's exceptions (`ehealth/ehealthbox/errors.py`): an unknown
    MessageId is `InvalidMessageId`, a lost send answer `SendOutcomeUnknown`, and so on.
    """

    # --- reading ---------------------------------------------------------------------------
    def box_info(self) -> BoxInfo:
        """The box's address, quota in use and messages waiting in stand-by."""
        ...

    def list_messages(self, folder: str = "INBOX", start: int = 1, end: int = 100) -> MessagePage:
        """One page of a folder, newest first; index 1 is the newest message."""
        ...

    def iter_messages(
        self, folder: str = "INBOX", page_size: int = MAX_IDS_PER_CALL
    ) -> Iterator[MessageSummary]:
        """Every message of a folder, page by page, each message once."""
        ...

    def get_message(self, message_id: str, folder: str = "INBOX") -> Message:
        """The full message; reading it from the INBOX marks it read."""
        ...

    def open_document(self, message_id: str, folder: str = "INBOX") -> Download:
        """The message's document, as stored (sealed when the message is)."""
        ...

    def open_annex(self, message_id: str, index: int, folder: str = "INBOX") -> Download:
        """Annex `index` of the message, as stored."""
        ...

    def acknowledgments(self, message_id: str) -> list[AcknowledgmentStatus]:
        """Per recipient of a sent message: when it was published, received, read."""
        ...

    # --- sending ---------------------------------------------------------------------------
    def send(self, message: NewMessage) -> SendResult:
        """Publish a message, once per PublicationId."""
        ...

    # --- organising ------------------------------------------------------------------------
    def move(self, message_ids: Iterable[str], source: str, destination: str) -> list[str]:
        """Move messages to the bin or back; returns those not moved."""
        ...

    def delete(self, message_ids: Iterable[str], source: str) -> list[str]:
        """Delete messages for good; returns those not deleted."""
        ...

    # --- out of office ---------------------------------------------------------------------
    def out_of_offices(self) -> list[OutOfOffice]:
        """The box's out-of-office periods."""
        ...

    def add_out_of_office(
        self, start: date, end: date, substitutes: Iterable[BoxId] = ()
    ) -> OutOfOffice:
        """A new out-of-office period, with the boxes that stand in."""
        ...

    def delete_out_of_office(self, ooo_id: str) -> None:
        """End (remove) an out-of-office period."""
        ...
