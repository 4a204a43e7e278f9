"""The AddressBook client against the sandbox AddressBook, over real HTTP on loopback.

A doctor looks a colleague up by name (accents and case as she types them), by NIHII or
INSS, an organisation by its type; the contact information says where each receives; long
answers come a page at a time; every failure is one of the client's exceptions.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ehbox_fixtures import Sandbox, start_sandbox

from ehbox_webapp.ehealth.addressbook import (
    AddressBookClient,
    BadRequest,
    InvalidCriteria,
    NotFound,
    Unauthorized,
    Unavailable,
)
from ehbox_webapp.ehealth.ehealthbox.models import BoxId
from ehbox_webapp.sandbox.addressbook import API_PREFIX, init_addressbook
from ehbox_webapp.sandbox.loopback import free_port
from ehbox_webapp.sandbox.personas import persona

ALICE, BRAM, CHLOE = persona("dr-alice"), persona("nurse-bram"), persona("dr-chloe")
AZ_SINT_JAN = "71012314"  # the demo mail's hospital (sandbox/ehealthbox/seed.py)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[Sandbox]:
    """The sandbox eHealthBox with its AddressBook, as the sandbox app mounts them."""
    box = start_sandbox(tmp_path_factory.mktemp("addressbook") / "instance")
    init_addressbook(box.app, box.store)  # before its first request
    yield box
    box.stop()


def client_of(sandbox: Sandbox, who: str = "dr-alice", **kwargs) -> AddressBookClient:
    return AddressBookClient(
        sandbox.url + API_PREFIX,
        lambda: sandbox.token(who),
        session=sandbox.session(),
        timeout=5,
        **kwargs,
    )


@pytest.fixture(scope="module")
def book(sandbox) -> AddressBookClient:
    return client_of(sandbox)


def test_a_colleague_is_found_by_name_whatever_the_accents_and_case(book):
    for first, last in (("chloe", "dubois"), ("CHLOÉ", "Dubois"), ("Chlo", "DUB")):
        found = book.search_professionals(first_name=first, last_name=last).items
        assert [(p.name, p.ssin) for p in found] == [("Chloé Dubois", CHLOE.ssin)], (first, last)
    chloe = found[0]
    assert chloe.language == "fr"
    assert [(p.code, p.name("nl"), p.name("fr"), p.nihii) for p in chloe.professions] == [
        ("PHYSICIAN", "Arts", "Médecin", CHLOE.nihii11)
    ]
    # A last name in several words, typed as one, or its last word alone.
    compact = {p.name for p in book.iter_professionals(last_name="vandenbroeck")}
    spaced = {p.name for p in book.iter_professionals(last_name="Van den Broeck")}
    tail = {p.name for p in book.iter_professionals(last_name="broeck")}
    assert compact and compact == spaced == tail
    assert all(n.endswith("Van den Broeck") for n in compact)
    accented = list(book.iter_professionals(last_name="lefevre"))
    assert accented and {p.last_name for p in accented} == {"Lefèvre"}


def test_professionals_and_organisations_by_their_numbers(book):
    by_nihii = book.search_professionals(nihii=ALICE.nihii11).items
    assert [p.name for p in by_nihii] == ["Alice Peeters"]
    assert [p.name for p in book.search_professionals(nihii=ALICE.nihii11[:8]).items] == [
        "Alice Peeters"
    ]
    assert [p.name for p in book.search_professionals(ssin=BRAM.ssin).items] == ["Bram Janssens"]
    hospital = book.search_organizations(nihii=AZ_SINT_JAN).items
    assert [(o.name(), o.type_code, str(o.id)) for o in hospital] == [
        ("AZ Sint-Jan Brugge-Oostende", "HOSPITAL", f"NIHII {AZ_SINT_JAN}")
    ]
    sandbox_org = book.search_organizations(cbe="0899999949").items
    assert [o.name() for o in sandbox_org] == ["Sandbox Medical Software NV"]


def test_organisations_by_type_and_a_hospitals_departments(book):
    pharmacies = list(book.iter_organizations(type="PHARMACY"))
    assert len(pharmacies) >= 10
    assert {o.type_code for o in pharmacies} == {"PHARMACY"}
    assert {o.type_name("fr") for o in pharmacies} == {"Pharmacie"}
    assert all(b.sub_type == b.quality == "PHARMACY" for o in pharmacies for b in o.boxes)
    labs = book.search_organizations(type="LABO", name="labo").items
    assert labs and all(o.type_code == "LABO" for o in labs)
    wards = list(book.iter_organizations(name="cardio"))
    assert len(wards) >= 2 and all(o.part_of for o in wards)
    assert {o.name("nl") for o in wards} == {"Cardiologie"}
    assert {o.name("de") for o in wards} == {"Kardiologie"}
    hospital = wards[0].part_of
    in_that_hospital = book.search_organizations(name=f"{hospital} cardio").items
    assert [o.part_of for o in in_that_hospital] == [hospital]


def test_contact_information_says_where_one_receives(book):
    bram = book.professional_contact_info(ssin=BRAM.ssin)
    assert (bram.name, bram.language) == ("Bram Janssens", "fr")
    assert bram.boxes == (BoxId(BRAM.ssin, "INSS", "NURSE"),)
    (info,) = bram.informations
    assert info.profession.name("nl") == "Verpleegkundige" and info.profession.nihii == BRAM.nihii11
    assert info.addresses and info.addresses[0].zip_code.isdigit()
    assert book.professional_contact_info(nihii=ALICE.nihii11).ssin == ALICE.ssin
    hospital = book.organization_contact_info(nihii=AZ_SINT_JAN)
    assert hospital.boxes == (BoxId(AZ_SINT_JAN, "NIHII", "HOSPITAL", "HOSPITAL"),)
    assert hospital.addresses[0].city("fr")


def test_the_box_made_from_a_search_is_the_one_the_contact_information_states(book):
    """A search answers no eHealthBox: the client makes it (INFERRED) as the sandbox states it."""
    for person in book.search_professionals(last_name="ma", max_elements=40).items:
        assert person.boxes == book.professional_contact_info(ssin=person.ssin).boxes, person
    for place in book.search_organizations(name="az", max_elements=5).items + tuple(
        book.search_organizations(name="cardio").items
    ):
        contact = book.organization_contact_info(**{place.id.type.lower(): place.id.value})
        assert place.boxes == contact.boxes, place


def test_long_answers_come_a_page_at_a_time(book):
    first = book.search_professionals(profession="PHYSICIAN", max_elements=25)
    assert len(first.items) == 25 and first.total and first.total > 100
    assert first.next_offset == 25 and not first.is_last
    everyone = list(book.iter_professionals(profession="PHYSICIAN", page_size=40))
    assert len(everyone) == first.total
    assert len({p.ssin for p in everyone}) == first.total  # nobody twice, nobody left out
    assert everyone[:25] == list(first.items)
    last = book.search_professionals(profession="PHYSICIAN", offset=first.total - 3)
    assert len(last.items) == 3 and last.is_last and last.next_offset is None
    assert len(list(book.iter_professionals(profession="NURSE", limit=7))) == 7


def test_refusals_and_failures_are_the_clients_exceptions(sandbox, book):
    sandbox.recorded.clear()
    with pytest.raises(InvalidCriteria):
        book.search_professionals()
    with pytest.raises(InvalidCriteria):
        book.search_organizations(name="az", max_elements=101)
    with pytest.raises(InvalidCriteria):
        book.professional_contact_info()
    assert sandbox.recorded == []  # refused before anything was sent

    with pytest.raises(BadRequest) as bad:
        book.search_professionals(ssin="85071212391")  # a wrong check digit
    assert bad.value.status == 400
    assert [p["name"] for p in bad.value.invalid_params] == ["ssin"]
    assert bad.value.request_id
    with pytest.raises(BadRequest):
        book.search_professionals(last_name="x")  # one letter finds half the country
    with pytest.raises(NotFound):
        book.professional_contact_info(ssin="60010100172")  # valid, but nobody's
    with pytest.raises(Unauthorized):
        AddressBookClient(
            sandbox.url + API_PREFIX,
            lambda: sandbox.token("dr-alice", audience="someone-else"),
            session=sandbox.session(),
        ).search_professionals(last_name="peeters")
    closed = AddressBookClient(
        f"http://127.0.0.1:{free_port()}/addressbook/v1",
        lambda: "token",
        session=sandbox.session(),
        timeout=2,
        retries=0,
    )
    with pytest.raises(Unavailable):
        closed.search_organizations(name="az")
