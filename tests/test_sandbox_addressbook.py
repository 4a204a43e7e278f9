"""The sandbox's directory: made up, the same every time, valid numbers, and everyone reachable.

What the sandbox AddressBook serves must hold as eHealth's would: identifiers with valid
check digits (checked here by the app's rules, written apart from the sandbox's), the
personas under their own numbers, and a box in the sandbox eHealthBox for everyone in it,
so a message to anyone found is delivered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from ehbox_fixtures import Sandbox, start_sandbox

from ehbox_webapp.ehealth.ehealthbox import NewMessage, Recipient
from ehbox_webapp.ehealth.ehealthbox.identifiers import (
    check_recipient,
    is_valid_cbe,
    is_valid_inss,
    is_valid_nihii,
)
from ehbox_webapp.sandbox.addressbook import init_addressbook
from ehbox_webapp.sandbox.addressbook.directory import SEED, directory
from ehbox_webapp.sandbox.ehealthbox.store import box_key
from ehbox_webapp.sandbox.personas import ORGANISATIONS, PERSONAS


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[Sandbox]:
    box = start_sandbox(tmp_path_factory.mktemp("addressbook") / "instance")
    init_addressbook(box.app, box.store)
    yield box
    box.stop()


def test_the_directory_is_made_the_same_every_time_and_a_seed_changes_it():
    once = directory()
    directory.cache_clear()
    again = directory()
    assert again is not once and again == once
    other = directory(SEED + 1)
    assert {p.ssin for p in other.people} != {p.ssin for p in once.people}


def test_a_few_hundred_belgians_in_three_languages_and_their_organisations():
    book = directory()
    assert len(book.people) >= 300 and len(book.institutions) >= 100
    assert Counter(p.language for p in book.people).keys() == {"nl", "fr", "de"}
    assert min(Counter(p.language for p in book.people).values()) >= 20
    professions = Counter(code for p in book.people for code, _ in p.professions)
    assert professions["PHYSICIAN"] > professions["NURSE"] > professions["PHARMACIST"] > 0
    types = Counter(i.type_code for i in book.institutions if i.part_of is None)
    assert {"HOSPITAL", "PHARMACY", "LABO", "MEDICAL_HOUSE", "GUARD_POST"} <= types.keys()
    departments = [i for i in book.institutions if i.part_of is not None]
    assert len(departments) >= 3 * types["HOSPITAL"]
    assert all(d.part_of.type_code == "HOSPITAL" for d in departments)
    assert {p.place.zip_code for p in book.people} >= {"1000", "4700", "9000", "4000"}


def test_every_number_has_valid_check_digits_and_belongs_to_one_entry():
    """Checked with the app's rules, not the sandbox's own (two statements of one rule)."""
    book = directory()
    ssins = [p.ssin for p in book.people]
    assert all(is_valid_inss(s) for s in ssins)
    assert len(set(ssins)) == len(ssins)
    nihiis = [n for p in book.people for _, n in p.professions]
    assert all(len(n) == 11 and is_valid_nihii(n) for n in nihiis)
    assert len({n[:8] for n in nihiis}) == len(nihiis)
    for place in book.institutions:
        if place.id_type == "NIHII":
            assert len(place.identifier) == 8 and is_valid_nihii(place.identifier), place
        else:
            assert is_valid_cbe(place.identifier), place
    ids = [i.identifier for i in book.institutions]
    assert len(set(ids)) == len(ids)
    for box, _, _ in book.boxes():
        assert check_recipient(box["type"], box["id"], box["quality"], box.get("subType")) == []


def test_the_personas_and_the_demo_mails_senders_are_in_it_under_their_numbers():
    book = directory()
    by_ssin = {p.ssin: p for p in book.people}
    for persona in PERSONAS:
        person = by_ssin[persona.ssin]
        assert (person.first_name, person.last_name, person.language) == (
            persona.first_name,
            persona.last_name,
            persona.locale,
        )
        assert person.boxes() == [persona.box]
        assert [n for _, n in person.professions] == [persona.nihii11]
    assert {
        p.first_name for p in book.people if p.ssin not in {x.ssin for x in PERSONAS}
    }.isdisjoint(
        {x.first_name for x in PERSONAS}
    )  # a search by a persona's first name finds the persona
    institutions = {i.identifier: i for i in book.institutions}
    for organisation in ORGANISATIONS:
        assert institutions[organisation.identifier].box() == organisation.box
    assert institutions["71012314"].name == "AZ Sint-Jan Brugge-Oostende"


def test_everyone_in_it_has_a_box_and_a_message_to_them_is_delivered(sandbox):
    book = directory()
    with sandbox.store.read() as conn:
        for box, _, _ in book.boxes():
            assert sandbox.store.box(conn, box_key(box)) is not None, box
    nurse = next(p for p in book.people if p.professions[0][0] == "NURSE" and p.language == "de")
    ward = next(i for i in book.institutions if i.part_of is not None)
    to = [Recipient(**nurse.boxes()[0]), Recipient(**_box_args(ward.box()))]
    sent = sandbox.client("dr-alice").send(NewMessage(to, "Overdracht", text="Zie bijlage."))
    assert {(r.box.id, r.stand_by) for r in sent.recipients} == {
        (nurse.ssin, False),
        (ward.identifier, False),
    }
    with sandbox.store.read() as conn:
        for box in (nurse.boxes()[0], ward.box()):
            total, _ = sandbox.store.counts(conn, box_key(box), "INBOX")
            assert total == 1, box


def test_the_boxes_are_added_to_a_store_made_before_the_directory(tmp_path):
    """A sandbox started by an older version (its boxes seeded) gets the directory's boxes."""
    old = start_sandbox(tmp_path / "instance")  # the eHealthBox alone, seeded
    try:
        person = directory().people[-1]
        with old.store.read() as conn:
            assert old.store.box(conn, box_key(person.boxes()[0])) is None
        init_addressbook(old.app, old.store)
        init_addressbook(old.app.__class__("again"), old.store)  # on every start: no harm
        with old.store.read() as conn:
            assert old.store.box(conn, box_key(person.boxes()[0]))["name"] == person.last_name
    finally:
        old.stop()


def _box_args(box: dict[str, str]) -> dict[str, str]:
    return {
        "id": box["id"],
        "type": box["type"],
        "quality": box["quality"],
        "sub_type": box.get("subType"),
    }
