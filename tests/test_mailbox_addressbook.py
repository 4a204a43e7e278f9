"""Find-by-name: past correspondents first, then eHealth's AddressBook, each box once.

The use case (`mailbox.addressbook.find`) on real parts: Dr Alice's contacts built from her
sandbox eHealthBox, the sandbox AddressBook reached by the real client over loopback.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ehbox_fixtures import Sandbox, start_sandbox

from ehbox_webapp.ehealth.addressbook import AddressBookClient
from ehbox_webapp.ehealth.ehealthbox.models import BoxId
from ehbox_webapp.mailbox.addressbook import (
    FOUND_MAX,
    Book,
    Contact,
    FoundPeople,
    build,
    find,
    label,
    name_of,
    named,
)
from ehbox_webapp.sandbox.addressbook import API_PREFIX, init_addressbook
from ehbox_webapp.sandbox.addressbook.directory import directory
from ehbox_webapp.sandbox.loopback import free_port
from ehbox_webapp.sandbox.personas import persona
from ehbox_webapp.stores import MemoryStore

ALICE, BRAM = persona("dr-alice"), persona("nurse-bram")
ALICE_BOX = BoxId(ALICE.ssin, "INSS", "DOCTOR")
CLAES = "68042115787"  # Dr Marc Claes, who wrote to Alice in the demo mail


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[Sandbox]:
    box = start_sandbox(tmp_path_factory.mktemp("find") / "instance")
    init_addressbook(box.app, box.store)
    yield box
    box.stop()


@pytest.fixture(scope="module")
def addressbook(sandbox) -> AddressBookClient:
    return AddressBookClient(
        sandbox.url + API_PREFIX, lambda: sandbox.token("dr-alice"), session=sandbox.session()
    )


@pytest.fixture(scope="module")
def alices_contacts(sandbox) -> list[Contact]:
    client = sandbox.client("dr-alice")
    return build(client, me=client.box_info().box_id)


def book_of(contacts, addressbook, **kwargs) -> Book:
    return Book(contacts, directory=addressbook, me=ALICE_BOX, **kwargs)


def never_written_to(contacts: list[Contact]):
    """Someone in the sandbox directory Alice has no mail from or to, with a unique name."""
    known = {c.box.id for c in contacts}
    people = directory().people
    names = [p.name for p in people]
    return next(
        p for p in people if p.ssin not in known and names.count(p.name) == 1 and p.language == "fr"
    )


def test_a_colleague_she_never_wrote_to_is_found_by_name(alices_contacts, addressbook):
    colleague = never_written_to(alices_contacts)
    assert not find(alices_contacts, colleague.name)  # her mail alone does not know her
    found = find(book_of(alices_contacts, addressbook), colleague.name)
    assert len(found) == 1
    (contact,) = found
    assert (contact.name, contact.box.id, contact.box.type) == (
        colleague.name,
        colleague.ssin,
        "INSS",
    )
    assert contact.profession == colleague.professions[0][0]
    assert contact.language == "fr"
    # Last name first, or without its accents, finds her too.
    reversed_name = f"{colleague.last_name} {colleague.first_name}"
    assert [c.box for c in find(book_of(alices_contacts, addressbook), reversed_name)] == [
        contact.box
    ]


def test_past_correspondents_come_first_and_nobody_twice(alices_contacts, addressbook):
    book = book_of(alices_contacts, addressbook)
    found = find(book, "claes")
    assert found[0].box.id == CLAES and found[0].name == "Marc Claes"  # he wrote to her
    assert len(found) > 1  # then the AddressBook's other Claes
    keys = [c.key for c in found]
    assert len(keys) == len(set(keys))
    # The AddressBook completes what the mail did not say about him.
    assert (found[0].profession, found[0].language) == ("PHYSICIAN", "nl")
    everyone = find(book, "peeters")
    assert len({c.key for c in everyone}) == len(everyone)
    assert ALICE.ssin not in {c.box.id for c in everyone}  # never herself


def test_a_contacts_label_picks_that_one_without_asking_the_addressbook(alices_contacts):
    calls = []

    class Watching:
        def search_professionals(self, **criteria):
            calls.append(criteria)
            raise AssertionError("not asked")

        search_organizations = search_professionals

    bram = next(c for c in alices_contacts if c.box.id == BRAM.ssin)
    assert find(Book(alices_contacts, directory=Watching()), label(bram)) == [bram]
    assert calls == []


def test_numbers_and_organisations_and_the_readers_language(alices_contacts, addressbook):
    book = book_of(alices_contacts, addressbook)
    by_inss = find(book, BRAM.ssin)
    assert [c.box.id for c in by_inss] == [BRAM.ssin]
    organisation = find(book, "0899.999.949")  # a CBE as people write it
    assert [(c.name, c.box.type, c.box.quality) for c in organisation] == [
        ("Sandbox Medical Software NV", "CBE", "INSTITUTION")
    ]
    for language, name in (("fr", "Urgences"), ("nl", "Spoedgevallen"), ("de", "Notaufnahme")):
        wards = find(book_of(alices_contacts, addressbook, language=language), "urgences")
        assert wards and {c.name for c in wards} == {name}, language
        assert all(c.organisation and c.box.sub_type == "HOSPITAL" for c in wards)
        assert all(c.display_name == f"{name} ({c.organisation})" for c in wards)
    ward = wards[0]
    assert label(ward).startswith(f"Notaufnahme ({ward.organisation}), NIHII ")
    assert name_of(wards, ward.box) == ward.display_name


def closed_addressbook(sandbox) -> AddressBookClient:
    """An AddressBook client whose server does not answer (nothing listens on its port)."""
    return AddressBookClient(
        f"http://127.0.0.1:{free_port()}{API_PREFIX}",
        lambda: "token",
        session=sandbox.session(),
        timeout=2,
        retries=0,
    )


def test_an_unreachable_addressbook_leaves_the_past_correspondents(alices_contacts, sandbox):
    closed = closed_addressbook(sandbox)
    found = find(book_of(alices_contacts, closed), "bram")
    assert [c.box.id for c in found] == [BRAM.ssin]


def test_whom_the_addressbook_gave_is_remembered_the_latest_first(alices_contacts, addressbook):
    store = MemoryStore()
    kept = FoundPeople(store, "mailbox:alice:found")
    remembered: list[list[Contact]] = []

    def remember(new):
        remembered.append(new)
        kept.add(new)

    book = book_of(alices_contacts, addressbook, remember=remember)
    found = find(book, "claes")
    (new,) = remembered
    assert CLAES not in {c.box.id for c in new}  # already a contact
    assert {c.key for c in new} == {c.key for c in found[1:]}
    assert {c.key for c in kept.contacts()} == {c.key for c in new}
    colleague = never_written_to(alices_contacts)
    find(book, colleague.name)
    assert kept.contacts()[0].box.id == colleague.ssin  # the latest first
    kept.add(Contact(BoxId(f"{i:011d}", "INSS", "NURSE"), f"N{i}") for i in range(FOUND_MAX))
    assert len(kept.contacts()) == FOUND_MAX


def test_contacts_kept_by_an_older_version_are_still_read():
    old = {"name": "Bram Janssens", "id": BRAM.ssin, "type": "INSS", "quality": "NURSE"}
    contact = Contact.from_dict(old)
    assert (contact.name, contact.profession, contact.organisation) == ("Bram Janssens", "", "")
    assert Contact.from_dict(contact.to_dict()) == contact


def test_boxes_shown_unasked_are_named_by_the_contacts_else_by_the_addressbook(
    alices_contacts, addressbook, sandbox
):
    colleague = never_written_to(alices_contacts)
    hers = BoxId(colleague.ssin, "INSS", "DOCTOR")
    nobody = BoxId("70020200264", "INSS", "DOCTOR")  # valid check digits, in no directory
    remembered: list[Contact] = []
    book = book_of(alices_contacts, addressbook, remember=remembered.extend)
    answer = named(book, [BoxId(BRAM.ssin, "INSS", "NURSE"), hers, nobody, hers])
    assert [c.box for c in answer] == [BoxId(BRAM.ssin, "INSS", "NURSE"), hers, nobody]
    assert [c.name for c in answer] == ["Bram Janssens", colleague.name, ""]
    assert [c.box.id for c in remembered] == [colleague.ssin]  # only whom it looked up
    closed = closed_addressbook(sandbox)
    assert [c.name for c in named(book_of(alices_contacts, closed), [hers])] == [""]
