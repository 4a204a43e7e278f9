"""The folder page as a mail client has it: select and act on many, search, sort, page."""

from __future__ import annotations

import re

import pytest
from conftest import Browser
from test_mailbox import form_fields, message_ids, sandbox_of

from ehbox_webapp.mailbox.search import Query, chosen_ids, search, sort_messages


@pytest.fixture
def alice(live_app) -> Browser:
    with Browser(live_app) as b:
        b.login("dr-alice")
        yield b


def test_ten_ticked_messages_go_to_the_bin_in_one_action(live_app, alice):
    inbox = alice.get(alice.url("/box/INBOX"), timeout=10)
    ten = message_ids(inbox.text)[:10]
    fields = form_fields(inbox.text, "/box/INBOX/selected")
    moved = alice.post(
        alice.url("/box/INBOX/selected"),
        data={
            "csrf_token": fields["csrf_token"],
            "back": "/box/INBOX",
            "ids": ten,
            "action": "move",
        },
        timeout=10,
    )
    assert moved.url == alice.url("/box/INBOX")
    assert "10 messages moved to Bin (received)." in moved.text
    assert not set(ten) & set(message_ids(moved.text))
    bin_ids = {
        m.message_id for m in sandbox_of(live_app).client("dr-alice").iter_messages("BININBOX")
    }
    assert set(ten) <= bin_ids


def test_deleting_the_ticked_messages_asks_first(live_app, alice):
    inbox = alice.get(alice.url("/box/INBOX"), timeout=10)
    two = message_ids(inbox.text)[:2]
    assert len(two) == 2
    token = form_fields(inbox.text, "/box/INBOX/selected")["csrf_token"]
    data = {"csrf_token": token, "back": "/box/INBOX", "ids": two, "action": "delete"}
    asked = alice.post(alice.url("/box/INBOX/selected"), data=data, timeout=10)
    assert "Delete these 2 messages for good?" in asked.text
    assert set(message_ids(alice.get(alice.url("/box/INBOX")).text)) >= set(two)
    done = alice.post(alice.url("/box/INBOX/selected"), data={**data, "confirm": "1"}, timeout=10)
    assert "2 messages deleted for good." in done.text
    assert not set(two) & set(message_ids(done.text))


def test_select_all_without_javascript_ticks_every_row(alice):
    page = alice.get(alice.url("/box/INBOX?select=all"), timeout=10)
    assert page.text.count('name="ids"') == 25
    assert len(re.findall(r'name="ids" value="\w+" id="select-\w+" checked', page.text)) == 25


def test_a_bulk_action_refuses_what_is_not_a_message_id(alice):
    page = alice.get(alice.url("/box/INBOX"), timeout=10)
    token = form_fields(page.text, "/box/INBOX/selected")["csrf_token"]
    too_many = [f"A{n:012d}" for n in range(101)]
    answer = alice.post(
        alice.url("/box/INBOX/selected"),
        data={"csrf_token": token, "ids": too_many, "action": "move"},
        timeout=10,
    )
    assert answer.status_code == 400
    assert chosen_ids(["../etc", "A" * 13, "A" * 13]) == ["A" * 13]


def test_a_search_finds_a_message_on_page_3_and_says_how_far_it_looked(live_app, alice):
    client = sandbox_of(live_app).client("dr-alice")
    on_page_3 = client.list_messages("INBOX", 60, 60).messages[0]  # page 3 holds 51-75
    total = client.list_messages("INBOX", 1, 1).total
    found = alice.get(alice.url("/box/INBOX"), params={"q": on_page_3.title}, timeout=10)
    assert on_page_3.message_id in message_ids(found.text)
    assert f"The whole folder was searched ({total})" in found.text
    none = alice.get(alice.url("/box/INBOX"), params={"q": "geen-enkel-bericht-zo"}, timeout=10)
    assert "No message matches." in none.text and "0 messages found" in none.text


def test_a_search_stops_at_its_cap_and_says_so(live_app):
    client = sandbox_of(live_app).client("dr-alice")
    found = search(client, "INBOX", Query.of("geen-enkel-bericht-zo"), cap=50)
    assert found.searched == 50 and not found.complete and found.total > 50


def test_search_by_patient_inss_and_sort_by_sender(live_app, alice):
    client = sandbox_of(live_app).client("dr-alice")
    everything = list(client.iter_messages("INBOX"))
    patient = next(m.patient_inss for m in everything if m.patient_inss)
    page = alice.get(alice.url("/box/INBOX"), params={"inss": patient}, timeout=10)
    expected = {m.message_id for m in everything if m.patient_inss == patient}
    assert set(message_ids(page.text)) == expected
    by_sender = alice.get(alice.url("/box/INBOX?sort=sender"), timeout=10)
    first_page = client.list_messages("INBOX", 1, 25).messages
    names = [m.sender.display_name.casefold() for m in sort_messages(first_page, "sender")]
    assert names == sorted(names)
    assert message_ids(by_sender.text) == [
        m.message_id for m in sort_messages(first_page, "sender")
    ]


def test_every_cell_of_a_row_opens_the_message_and_the_pager_is_above_and_below(alice):
    page = alice.get(alice.url("/box/INBOX"), timeout=10)
    first = message_ids(page.text)[0]
    # sender, title, date; each link says where the message is, for its previous and next
    assert page.text.count(f'href="/box/INBOX/{first}?at=1"') == 3
    assert page.text.count('<nav class="pager') == 2


def test_an_empty_folder_says_so(live_app):
    with Browser(live_app) as chloe:
        chloe.login("dr-chloe")
        page = chloe.get(chloe.url("/box/BINSENTBOX"), timeout=10)
        assert "No messages in Bin (sent)." in page.text
