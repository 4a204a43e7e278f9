"""Sent mail by recipient, on the in-memory eHealthBox: who each message went to, how far it
got, what a Sent page costs the platform, and a search through the recipients."""

from __future__ import annotations

import pytest
from fake_ehealthbox import FakeEhealthbox

from ehbox_webapp.ehealth.ehealthbox.models import NewMessage, Recipient
from ehbox_webapp.mailbox.delivery import FINAL_TTL, Deliveries, Delivery, recipient_texts
from ehbox_webapp.mailbox.people import format_identifier, format_inss
from ehbox_webapp.mailbox.search import SENT_SEARCH_CAP, Query, search
from ehbox_webapp.stores import MemoryStore

ALICE = Recipient("85071212390", "INSS", "DOCTOR")
BRAM = Recipient("79031545695", "INSS", "NURSE")
CHLOE = Recipient("90010178911", "INSS", "DOCTOR")
NAMES = {BRAM.id: "Bram Janssens", CHLOE.id: "Chloé Dubois"}


@pytest.fixture
def platform():
    platform = FakeEhealthbox()
    for who in (ALICE, BRAM, CHLOE):
        platform.box(who.box())
    return platform


def send(platform, to, title):
    alice = platform.box(ALICE.box(), "Peeters")
    return alice.send(NewMessage(list(to), title, text="Beste collega")).message_id


def test_a_sent_message_names_its_recipients_and_how_far_it_got(platform):
    both = send(platform, [BRAM, CHLOE], "Verwijzing")
    chloe = platform.box(CHLOE.box())
    received = chloe.list_messages("INBOX").messages[0]
    chloe.get_message(received.message_id)  # Chloé opens it: read; Bram has not listed yet
    delivery = Deliveries(platform.box(ALICE.box())).of([both])[both]
    assert {b.id for b in delivery.recipients} == {BRAM.id, CHLOE.id}
    assert (delivery.state, delivery.count, delivery.total, delivery.by_all) == (
        "read",
        1,
        2,
        False,
    )
    platform.box(BRAM.box()).get_message(
        platform.box(BRAM.box()).list_messages("INBOX").messages[0].message_id
    )
    again = Deliveries(platform.box(ALICE.box())).of([both])[both]
    assert (again.state, again.by_all, again.final) == ("read", True, True)


def test_a_sent_page_costs_one_call_a_message_once_then_none(platform):
    ids = [send(platform, [BRAM], f"Bericht {n}") for n in range(25)]
    store = MemoryStore()
    first = Deliveries(platform.box(ALICE.box()), store, "alice-sub")
    shown = first.of(ids)
    assert first.calls == 25 and all(d is not None for d in shown.values())
    second = Deliveries(platform.box(ALICE.box()), store, "alice-sub")
    assert second.of(ids) == shown and second.calls == 0  # kept: nothing asked again


def test_a_message_read_by_everyone_is_kept_a_day(platform):
    mid = send(platform, [BRAM], "Gelezen")
    bram = platform.box(BRAM.box())
    bram.get_message(bram.list_messages("INBOX").messages[0].message_id)
    kept = {}

    class Store(MemoryStore):
        def set(self, key, value, ttl):
            kept[key] = ttl
            super().set(key, value, ttl)

    Deliveries(platform.box(ALICE.box()), Store(), "sub").of([mid])
    assert list(kept.values()) == [FINAL_TTL]


def test_receipts_that_cannot_be_had_spoil_only_their_row(platform):
    mid = send(platform, [BRAM], "Een")
    shown = Deliveries(platform.box(ALICE.box())).of([mid, "NoSuchMessage1"])
    assert shown[mid] is not None and shown["NoSuchMessage1"] is None


def test_the_sent_folder_is_searched_by_recipient_name(platform):
    send(platform, [BRAM], "Wondzorg")
    send(platform, [CHLOE], "Demande d'avis")
    alice = platform.box(ALICE.box())
    names = recipient_texts(Deliveries(alice), lambda box: NAMES.get(box.id, ""))
    found = search(alice, "SENTBOX", Query.of("dubois"), recipients=names)
    assert [m.title for m in found.messages] == ["Demande d'avis"]
    by_title = search(alice, "SENTBOX", Query.of("wondzorg"), recipients=names)
    assert [m.title for m in by_title.messages] == ["Wondzorg"]
    # Alice is the sender of every sent message: her own name finds none of them.
    assert search(alice, "SENTBOX", Query.of("peeters"), recipients=names).messages == ()


def test_a_search_through_the_recipients_looks_at_a_bounded_number_of_messages(platform):
    for n in range(SENT_SEARCH_CAP + 5):
        send(platform, [BRAM], f"Bericht {n}")
    alice = platform.box(ALICE.box())
    deliveries = Deliveries(alice)
    found = search(
        alice, "SENTBOX", Query.of("janssens"), recipients=recipient_texts(deliveries, NAMES.get)
    )
    assert found.searched == SENT_SEARCH_CAP and not found.complete
    assert deliveries.calls == SENT_SEARCH_CAP


def test_a_delivery_survives_the_store_and_refuses_what_it_cannot_read():
    delivery = Delivery((BRAM.box(), CHLOE.box()), 2, 1, 0)
    assert Delivery.from_dict(delivery.to_dict()) == delivery
    assert Delivery.from_dict({"recipients": "x"}) is None and Delivery.from_dict(None) is None


@pytest.mark.parametrize(
    ("kind", "value", "shown"),
    [
        ("INSS", "49110228483", "49.11.02-284.83"),
        ("SSIN", "85071212390", "85.07.12-123.90"),
        ("CBE", "0899999949", "0899.999.949"),
        ("NIHII", "12345625004", "1-23456-25-004"),
        ("NIHII", "71012314", "71012314"),  # an organisation's 8 digits: as they came
        ("INSS", "1234", "1234"),
        ("INSS", "abc", "abc"),
    ],
)
def test_identifiers_are_grouped_as_people_read_them(kind, value, shown):
    assert format_identifier(kind, value) == shown
    assert format_inss("49110228483") == "49.11.02-284.83"
