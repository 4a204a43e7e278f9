"""The address book: the boxes a user has corresponded with, found by name.

The eHealthBox has no directory of names a client may search, but every listing names the
sender of each received message, and the sent folder lists each message's destination. The
address book is built from the newest `SCAN` messages of the INBOX (senders, with the names
the platform gives) and of the SENTBOX (recipients, named when they also wrote), plus any
`extra` contacts the deployment adds (the sandbox's personas). Framework-neutral: the pages
keep it briefly per user, `/api/v1` serves it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from ..ehealth.ehealthbox.models import BoxId
from .rules import MAX_IDS_PER_CALL

SCAN = MAX_IDS_PER_CALL  # one call per folder
MAX_MATCHES = 20


@dataclass(frozen=True)
class Contact:
    """A box and the name people know it by ("" when the platform gave none)."""

    box: BoxId
    name: str = ""

    @property
    def key(self) -> str:
        """`TYPE[-SUBTYPE]:ID:QUALITY`, the way recipients are written everywhere."""
        kind = f"{self.box.type}-{self.box.sub_type}" if self.box.sub_type else self.box.type
        return f"{kind}:{self.box.id}:{self.box.quality}"

    def to_dict(self) -> dict:
        return {"name": self.name, **asdict(self.box)}

    @classmethod
    def from_dict(cls, data: dict) -> Contact:
        box = BoxId(data["id"], data["type"], data["quality"], data.get("sub_type"))
        return cls(box, data.get("name", ""))


def build(box, me: BoxId | None = None, extra: Iterable[Contact] = ()) -> list[Contact]:
    """The contacts of a box (`Mailbox` or client), by name; the user's own box left out."""
    named: dict[tuple[str, str, str], Contact] = {}
    for contact in extra:
        named[_id(contact.box)] = contact
    for message in box.list_messages("INBOX", 1, SCAN).messages:
        sender = message.sender
        plain = BoxId(sender.id, sender.type, sender.quality, sender.sub_type)
        if sender.display_name != sender.id or _id(plain) not in named:
            named[_id(plain)] = Contact(plain, sender.display_name if sender.name else "")
    by_person = {(c.box.id, c.box.type): c.name for c in named.values() if c.name}
    for message in box.list_messages("SENTBOX", 1, SCAN).messages:
        to = message.destination
        if _id(to) not in named:
            named[_id(to)] = Contact(to, by_person.get((to.id, to.type), ""))
    if me is not None:
        named = {k: c for k, c in named.items() if (c.box.id, c.box.type) != (me.id, me.type)}
    return sorted(named.values(), key=lambda c: (_folded(c.name) or "\uffff", c.box.id))


def find(contacts: Iterable[Contact], text: str) -> list[Contact]:
    """The contacts whose name or identifier holds `text` (case and accents ignored)."""
    wanted = _folded(" ".join((text or "").split()))
    if not wanted:
        return []
    exact = [c for c in contacts if wanted in (_folded(c.key), _folded(label(c)))]
    if exact:
        return exact[:1]
    digits = "".join(ch for ch in wanted if ch.isdigit())
    return [
        c
        for c in contacts
        if wanted in _folded(c.name) or (len(digits) >= 4 and digits in c.box.id)
    ][:MAX_MATCHES]


def label(contact: Contact) -> str:
    """What the search field offers: "Bram Janssens, INSS 79031545695, NURSE"."""
    ident = f"{contact.box.type} {contact.box.id}"
    return ", ".join(p for p in (contact.name, ident, contact.box.quality) if p)


def name_of(contacts: Iterable[Contact], box: BoxId) -> str:
    """The name known for a box ("" when none)."""
    return next(
        (c.name for c in contacts if (c.box.id, c.box.type) == (box.id, box.type) and c.name), ""
    )


def _id(box: BoxId) -> tuple[str, str, str]:
    return (box.id, box.type, box.quality)


def _folded(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
