"""The address book: whom a user corresponded with, then eHealth's AddressBook, by name.

The eHealthBox has no directory of names, but every listing names the sender of each
received message, and the sent folder lists each message's destination. The user's contacts
are built from the newest `SCAN` messages of the INBOX (senders, with the names the platform
gives) and of the SENTBOX (recipients, named when they also wrote), plus any `extra`
contacts the deployment adds (the sandbox's personas). `find` searches them first, then,
when it is given one, eHealth's AddressBook (professionals and organisations by name, INSS,
NIHII or CBE): a colleague never written to is found too, each box listed once.
Framework-neutral: the pages keep the contacts briefly per user, `/api/v1` serves them.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol

from ..ehealth.addressbook.codes import box_of_profession
from ..ehealth.addressbook.errors import AddressBookError, BadRequest
from ..ehealth.addressbook.models import Organization, Page, Professional
from ..ehealth.ehealthbox.identifiers import is_valid_cbe, is_valid_inss, is_valid_nihii
from ..ehealth.ehealthbox.models import BoxId
from ..stores import SessionStore
from .rules import MAX_IDS_PER_CALL

log = logging.getLogger(__name__)

SCAN = MAX_IDS_PER_CALL  # one call per folder
MAX_MATCHES = 20
FOUND_TTL = 12 * 3600  # seconds: a person found in the AddressBook stays known a working day
FOUND_MAX = 100  # people kept per user, the latest found


@dataclass(frozen=True)
class Contact:
    """A box and the name people know it by ("" when the platform gave none).

    From the AddressBook also: `profession` (its code, `PHYSICIAN`, or an organisation's
    type, `HOSPITAL`), `organisation` (the hospital a department belongs to) and `language`
    (nl, fr, de, en). The pages word the codes in the reader's language.
    """

    box: BoxId
    name: str = ""
    profession: str = ""
    organisation: str = ""
    language: str = ""

    @property
    def key(self) -> str:
        """`TYPE[-SUBTYPE]:ID:QUALITY`, the way recipients are written everywhere."""
        kind = f"{self.box.type}-{self.box.sub_type}" if self.box.sub_type else self.box.type
        return f"{kind}:{self.box.id}:{self.box.quality}"

    @property
    def display_name(self) -> str:
        """The name, with the organisation a department belongs to: "Cardiologie (AZ Groeninge)"."""
        if self.name and self.organisation:
            return f"{self.name} ({self.organisation})"
        return self.name

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            **asdict(self.box),
            "profession": self.profession,
            "organisation": self.organisation,
            "language": self.language,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Contact:
        box = BoxId(data["id"], data["type"], data["quality"], data.get("sub_type"))
        details = {k: str(data.get(k) or "") for k in ("profession", "organisation", "language")}
        return cls(box, data.get("name", ""), **details)


class Directory(Protocol):
    """What `find` needs of an address book: `ehealth.addressbook.AddressBookClient`."""

    def search_professionals(self, **criteria: Any) -> Page[Professional]: ...

    def search_organizations(self, **criteria: Any) -> Page[Organization]: ...


class Book(list):
    """The user's contacts (a list of `Contact`), and where `find` looks beyond them.

    `directory` is the AddressBook to search after the contacts; `remember` is given the
    people it found that were not contacts yet (the pages keep them a while, so that a
    choice among them is known on the next request); `language` is the reader's, for the
    names of organisations that have one per language; `me`, the user's own box, is never
    offered (as `build` leaves it out).
    """

    def __init__(
        self,
        contacts: Iterable[Contact] = (),
        *,
        directory: Directory | None = None,
        remember: Callable[[list[Contact]], None] | None = None,
        language: str | None = None,
        me: BoxId | None = None,
    ):
        super().__init__(contacts)
        self.directory = directory
        self.remember = remember
        self.language = language
        self.me = me


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


def find(
    contacts: Iterable[Contact], text: str, directory: Directory | None = None
) -> list[Contact]:
    """Whom `text` names: the contacts first, then the AddressBook's people; each box once.

    A contact matches when its name or identifier holds `text` (case and accents ignored);
    `text` that is a contact's key or label picks that one alone. The AddressBook is
    `directory`, else the one a `Book` carries; it is asked by name, or by INSS, NIHII or
    CBE when `text` is one. When it cannot answer, the contacts found are the answer.
    """
    wanted = _folded(" ".join((text or "").split()))
    if not wanted:
        return []
    contacts = list(contacts) if not isinstance(contacts, list) else contacts
    exact = [c for c in contacts if wanted in (_folded(c.key), _folded(label(c)))]
    if exact:
        return exact[:1]
    digits = "".join(ch for ch in wanted if ch.isdigit())
    known = [
        c
        for c in contacts
        if wanted in _folded(c.name) or (len(digits) >= 4 and digits in c.box.id)
    ]
    directory = directory if directory is not None else getattr(contacts, "directory", None)
    if directory is None or len(known) >= MAX_MATCHES:
        return known[:MAX_MATCHES]
    language, me = getattr(contacts, "language", None), getattr(contacts, "me", None)
    others = [
        c
        for c in lookup(directory, text, language=language)
        if me is None or (c.box.id, c.box.type) != (me.id, me.type)
    ]
    found = merge(known, others)[:MAX_MATCHES]
    remember = getattr(contacts, "remember", None)
    already = {_id(c.box) for c in contacts}
    new = [c for c in found if _id(c.box) not in already]
    if remember is not None and new:
        remember(new)
    return found


def named(
    contacts: Iterable[Contact], boxes: Iterable[BoxId], directory: Directory | None = None
) -> list[Contact]:
    """`boxes` as contacts, by name: the name the contacts know, else the AddressBook's.

    For boxes a user is shown without having chosen them (a colleague's substitutes): each
    box the contacts do not name is looked up in the AddressBook (`directory`, else the one
    a `Book` carries) by its identifier, once; whom it finds is given to the `Book`'s
    `remember`, as `find` does. A box nobody names comes back without a name.
    """
    contacts = list(contacts) if not isinstance(contacts, list) else contacts
    directory = directory if directory is not None else getattr(contacts, "directory", None)
    language = getattr(contacts, "language", None)
    answer: list[Contact] = []
    new: list[Contact] = []
    for box in dict.fromkeys(boxes):
        same = [c for c in contacts if (c.box.id, c.box.type) == (box.id, box.type) and c.name]
        if not same and directory is not None:
            same = [
                c
                for c in lookup(directory, box.id, language=language)
                if (c.box.id, c.box.type) == (box.id, box.type)
            ]
            new += same
        best = next((c for c in same if c.box.quality == box.quality), same[0] if same else None)
        answer.append(replace(best, box=box) if best is not None else Contact(box))
    remember = getattr(contacts, "remember", None)
    if remember is not None and new:
        remember(merge([], new))
    return answer


class FoundPeople:
    """The people a user found in the AddressBook lately, kept in `store` under `key`.

    So that a choice among them is known on the next request, and their boxes are called by
    their names (a draft's recipients, a sent message), without asking the AddressBook
    again: the latest `FOUND_MAX`, kept `FOUND_TTL` seconds after the last one was found.
    Not forgotten when the box changes: they are not read from it.
    """

    def __init__(self, store: SessionStore, key: str):
        self.store = store
        self.key = key

    def contacts(self) -> list[Contact]:
        kept = self.store.get(self.key)
        if not isinstance(kept, dict) or not isinstance(kept.get("contacts"), list):
            return []
        try:
            return [Contact.from_dict(c) for c in kept["contacts"]]
        except (KeyError, TypeError, AttributeError):  # written by another version
            return []

    def add(self, found: Iterable[Contact]) -> None:
        latest = merge(found, self.contacts())[:FOUND_MAX]
        self.store.set(self.key, {"contacts": [c.to_dict() for c in latest]}, FOUND_TTL)


def merge(first: Iterable[Contact], then: Iterable[Contact]) -> list[Contact]:
    """`first`, then those of `then` whose box is not listed yet; each box once.

    A box in both keeps its place in `first`, completed by what `then` knows of it (its
    name when `first` had none, profession, organisation, language).
    """
    merged: dict[tuple[str, str, str], Contact] = {}
    for contact in first:
        merged.setdefault(_id(contact.box), contact)
    for contact in then:
        kept = merged.get(_id(contact.box))
        if kept is None:
            merged[_id(contact.box)] = contact
            continue
        merged[_id(contact.box)] = replace(
            kept,
            name=kept.name or contact.name,
            profession=kept.profession or contact.profession,
            organisation=kept.organisation or contact.organisation,
            language=kept.language or contact.language,
        )
    return list(merged.values())


def lookup(
    directory: Directory, text: str, *, language: str | None = None, limit: int = MAX_MATCHES
) -> list[Contact]:
    """The AddressBook's professionals and organisations that `text` names, as contacts.

    An INSS, NIHII or CBE (separators allowed) is looked up as such; words as a name: one
    word as a last name or an organisation's name; several also as first name and last
    name either way round ("Sophie Van den Berghe", "Van den Berghe Sophie"). A search the
    AddressBook refuses finds nobody; one it cannot answer ends the look-up (logged).
    """
    found: list[Contact] = []
    for search, criteria in _searches(text):
        try:
            if search == "professionals":
                people = directory.search_professionals(**criteria, max_elements=limit)
                found += [c for p in people.items for c in _of_professional(p)]
            else:
                places = directory.search_organizations(**criteria, max_elements=limit)
                found += [c for o in places.items for c in _of_organization(o, language)]
        except BadRequest as exc:
            log.info("AddressBook refused a search (%s): %s", exc.status, exc.detail)
            continue
        except AddressBookError as exc:
            log.warning("AddressBook unavailable for find-by-name: %r", exc)
            break
        if len(merge([], found)) >= limit:
            break
    return merge([], found)[:limit]


def _searches(text: str) -> Iterator[tuple[str, dict[str, str]]]:
    """(operation, criteria) to ask the AddressBook for `text`, most precise first."""
    compact = "".join(ch for ch in text if ch not in " ./-")
    if compact.isascii() and compact.isdigit():
        if len(compact) == 11 and is_valid_inss(compact):
            yield "professionals", {"ssin": compact}
        if is_valid_nihii(compact):
            yield "professionals", {"nihii": compact}
            if len(compact) == 8:
                yield "organizations", {"nihii": compact}
        if is_valid_cbe(compact):
            yield "organizations", {"cbe": compact}
        return
    words = [w for w in text.split() if sum(ch.isalnum() for ch in w) >= 1]
    name = " ".join(words)
    if sum(ch.isalnum() for ch in name) < 2:
        return
    if len(words) > 1:
        yield "professionals", {"first_name": words[0], "last_name": " ".join(words[1:])}
        yield "professionals", {"first_name": words[-1], "last_name": " ".join(words[:-1])}
    yield "professionals", {"last_name": name}
    yield "organizations", {"name": name}


def _of_professional(person: Professional) -> list[Contact]:
    """A contact per profession the professional has an eHealthBox for."""
    contacts = []
    for profession in person.professions:
        box = box_of_profession(person.ssin, profession.code)
        if box is not None:
            contacts.append(
                Contact(box, person.name, profession.code, language=person.language or "")
            )
    return contacts


def _of_organization(organization: Organization, language: str | None) -> list[Contact]:
    return [
        Contact(
            box,
            name=organization.name(language),
            profession=organization.type_code,
            organisation=organization.part_of or "",
            language=language if language in organization.names else "",
        )
        for box in organization.boxes
    ]


def label(contact: Contact) -> str:
    """What the search field offers: "Bram Janssens, INSS 79031545695, NURSE"."""
    ident = f"{contact.box.type} {contact.box.id}"
    return ", ".join(p for p in (contact.display_name, ident, contact.box.quality) if p)


def name_of(contacts: Iterable[Contact], box: BoxId) -> str:
    """The name known for a box ("" when none); a department's with its organisation."""
    return next(
        (
            c.display_name
            for c in contacts
            if (c.box.id, c.box.type) == (box.id, box.type) and c.name
        ),
        "",
    )


def _id(box: BoxId) -> tuple[str, str, str]:
    return (box.id, box.type, box.quality)


def _folded(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
