"""Search a folder, sort messages, and pick the messages of a bulk action.

The eHealthBox has no search operation: a search pages through the folder, newest first,
`rules.MAX_IDS_PER_CALL` messages per call, up to `SEARCH_CAP` messages, and says how far
it got (`Found.searched` of `Found.total`), so a user knows whether older mail was left out.
Matching is on what a listing carries: the sender's name and identifier, the title and the
patient's INSS. In the sent folders the sender is the user herself: there the text is looked
for in the recipients instead, which a listing does not carry (`recipients`, one receipts
call per message, `delivery.Deliveries`): such a search looks at `SENT_SEARCH_CAP` messages
at most. Nothing here knows the web: the pages, `/api/v1` and the CLI word the result.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..ehealth.ehealthbox.models import MessageSummary
from .rules import MAX_IDS_PER_CALL, is_message_id

# This application's choice: 1,000 messages is ten calls, a few seconds at worst, and covers
# months of a GP's inbox. Older mail is still reachable by paging.
SEARCH_CAP = 1_000
# A search through the recipients costs one call per message (kept afterwards): 200 is two
# listings and 200 receipts calls, four at a time, a few seconds the first time.
SENT_SEARCH_CAP = 200
SENT_FOLDERS = ("SENTBOX", "BINSENTBOX")
SORTS = ("date", "sender")
MAX_QUERY = 200


@dataclass(frozen=True)
class Query:
    """What to look for; empty parts match everything."""

    text: str = ""  # in the sender's name or identifier, or in the title
    sender: str = ""  # in the sender's name or identifier only
    patient_inss: str = ""  # digits, compared whole

    @classmethod
    def of(cls, text: str = "", sender: str = "", patient_inss: str = "") -> Query:
        def clean(value: str) -> str:
            return " ".join((value or "").split())[:MAX_QUERY]

        inss = "".join(c for c in (patient_inss or "") if c.isascii() and c.isdigit())
        return cls(clean(text), clean(sender), inss)

    @property
    def empty(self) -> bool:
        return not (self.text or self.sender or self.patient_inss)

    def matches(self, message: MessageSummary, recipients: str | None = None) -> bool:
        """Whether `message` matches; `recipients` (the text of its recipients, in a sent
        folder) replaces the sender for the text."""
        sender = _folded(f"{message.sender.display_name} {message.sender.id}")
        if self.sender and _folded(self.sender) not in sender:
            return False
        who = sender if recipients is None else _folded(recipients)
        if self.text and _folded(self.text) not in f"{who} {_folded(message.title)}":
            return False
        return not self.patient_inss or message.patient_inss == self.patient_inss


@dataclass(frozen=True)
class Found:
    """The matches, and how far the folder was searched."""

    messages: tuple[MessageSummary, ...]
    searched: int  # how many messages were looked at, newest first
    total: int | None  # the folder's size, when the platform says
    complete: bool  # True when the whole folder was searched


def search(
    box,
    folder: str,
    query: Query,
    cap: int = SEARCH_CAP,
    recipients: Callable[[list[str]], dict[str, str]] | None = None,
) -> Found:
    """The messages of `folder` matching `query`, paging through at most `cap` messages.

    `box` is a `Mailbox` or an `EhealthboxClient` (anything with `list_messages`).
    `recipients` (message ids -> the text of their recipients) makes a text search of a sent
    folder look at the recipients, through `SENT_SEARCH_CAP` messages at most.
    """
    by_recipient = recipients is not None and folder in SENT_FOLDERS and bool(query.text)
    if by_recipient:
        cap = min(cap, SENT_SEARCH_CAP)
    seen: set[str] = set()
    found: list[MessageSummary] = []
    start, total, looked = 1, None, 0
    while looked < cap:
        size = min(MAX_IDS_PER_CALL, cap - looked)
        page = box.list_messages(folder, start, start + size - 1)
        total = page.total if page.total is not None else total
        texts = recipients([m.message_id for m in page.messages]) if by_recipient else {}
        for message in page.messages:
            if message.message_id in seen:  # new mail shifted the positions while we paged
                continue
            seen.add(message.message_id)
            if query.matches(message, texts.get(message.message_id) if by_recipient else None):
                found.append(message)
        looked += len(page.messages)
        if len(page.messages) < size:
            return Found(tuple(found), looked, total if total is not None else looked, True)
        start += size
    complete = total is not None and looked >= total
    return Found(tuple(found), looked, total, complete)


def sort_messages(messages: Iterable[MessageSummary], sort: str) -> list[MessageSummary]:
    """Newest first ("date"), or by the sender's name then newest first ("sender")."""
    ordered = sorted(messages, key=lambda m: m.publication_date, reverse=True)
    if sort == "sender":
        ordered.sort(key=lambda m: _folded(m.sender.display_name))
    return ordered


def chosen_ids(values: Iterable[str]) -> list[str]:
    """The MessageIds ticked for a bulk action: well-formed, each once, in order.

    Raises ValueError beyond `MAX_IDS_PER_CALL` (one page of the platform's own limit).
    """
    ids = list(dict.fromkeys(v for v in values if is_message_id(v)))
    if len(ids) > MAX_IDS_PER_CALL:
        raise ValueError(f"at most {MAX_IDS_PER_CALL} messages per action")
    return ids


def _folded(value: str) -> str:
    """Case and accents ignored: "chloe" finds "Chloé"."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
