"""Recipients by name: the address book of whom one corresponded with, reply and reply-all."""

from __future__ import annotations

import re

import pytest
import requests
from conftest import Browser
from test_mailbox import BRAM, CHLOE, form_fields, post_compose, sandbox_of

from ehbox_webapp.mailbox.addressbook import build, find
from ehbox_webapp.web import directory_contacts


@pytest.fixture
def alice(live_app) -> Browser:
    with Browser(live_app) as b:
        b.login("dr-alice")
        yield b


def test_the_address_book_holds_correspondents_by_name(live_app):
    client = sandbox_of(live_app).client("dr-alice")
    book = build(client, me=client.box_info().box_id)
    names = {c.name for c in book}
    assert "Bram Janssens" in names
    assert all(c.box.id != "85071212390" for c in book)  # not oneself
    assert [c.box.id for c in find(book, "janss")] == [BRAM.ssin]
    assert [c.box.id for c in find(book, "BRAM janssens")] == [BRAM.ssin]


def test_a_recipient_is_found_by_name_without_javascript(alice):
    page = alice.get(alice.url("/box/compose"), timeout=10)
    # offered in the page's words as the field is typed in, never by the platform's codes
    assert re.search(r'<option value="Bram Janssens, Nurse · \w+ 79\.03\.15-456\.95">', page.text)
    filled = post_compose(alice, page, {"find": "bram", "add_found": "1", "title": "Hallo"})
    fields = form_fields(filled.text, "/box/compose")
    assert fields["recipients-0-identifier"] == BRAM.ssin
    assert fields["recipients-0-quality"] == "NURSE" and fields["recipients-0-type"] == "INSS"
    assert fields["title"] == "Hallo"  # nothing typed is lost
    nobody = post_compose(alice, filled, {"find": "niemand-zo", "add_found": "1"})
    assert "Nobody in your address book matches" in nobody.text


def test_reply_is_titled_so_quotes_the_original_and_reply_all_adds_the_others(live_app, alice):
    from ehbox_webapp.ehealth.ehealthbox import FreeInformation, NewMessage, Recipient

    sb = sandbox_of(live_app)
    alice_box = Recipient("85071212390", "INSS", "DOCTOR")
    chloe = Recipient(CHLOE.ssin, "INSS", "DOCTOR")
    sent = sb.client("nurse-bram").send(
        NewMessage(
            recipients=[alice_box, chloe],
            title="Wondzorg",
            text="Zie hieronder.",
            free_information=FreeInformation(text="Verband vervangen.\nKoorts gemeten."),
        )
    )
    message_id = next(
        m.message_id
        for m in sb.client("dr-alice").iter_messages("INBOX")
        if m.publication_id == sent.publication_id
    )
    reply = alice.get(alice.url(f"/box/INBOX/{message_id}/reply"), timeout=10)
    assert "<h1>Reply</h1>" in reply.text
    fields = form_fields(reply.text, "/box/compose")
    assert fields["title"] == "Re: Wondzorg"
    assert "Bram Janssens wrote:" in fields["text"]
    assert "> Verband vervangen.\n> Koorts gemeten." in fields["text"]
    assert fields["recipients-0-identifier"] == BRAM.ssin and not fields["recipients-1-identifier"]

    everyone = alice.get(alice.url(f"/box/INBOX/{message_id}/reply-all"), timeout=10)
    fields = form_fields(everyone.text, "/box/compose")
    rows = {fields[f"recipients-{i}-identifier"] for i in range(3)}
    assert rows == {BRAM.ssin, CHLOE.ssin, ""}  # the sender and Chloé, not Alice herself
    assert "<h1>Reply to all</h1>" in everyone.text
    page = alice.get(alice.url(f"/box/INBOX/{message_id}"), timeout=10)
    assert "/reply-all" in page.text


def test_identifier_types_and_qualities_are_in_the_pages_language(live_app):
    with Browser(live_app) as alice:
        alice.login("dr-alice", lang="nl")
        page = alice.get(alice.url("/box/compose"), timeout=10).text
        assert re.search(r'value="INSS"[^>]*>INSZ<', page)
        assert re.search(r'value="NIHII"[^>]*>RIZIV<', page)
        assert re.search(r'value="NURSE"[^>]*>Verpleegkundige<', page)
        offered = "Bram Janssens, Verpleegkundige · INSZ 79.03.15-456.95"
        assert f'<option value="{offered}">' in page  # the suggestion in her words
        taken = post_compose(
            alice, alice.get(alice.url("/box/compose")), {"find": offered, "add_found": "1"}
        )
        fields = form_fields(taken.text, "/box/compose")  # that suggestion is that person
        assert fields["recipients-0-identifier"] == BRAM.ssin and 'name="pick"' not in taken.text


# --- the sandbox's personas (EHBOX_ENV=sandbox), fetched from the sandbox over HTTP ---------
def contacts_of(live_app, persona: str, text: str) -> list[dict]:
    from test_api import public_client_token

    token = public_client_token(live_app, persona)
    answer = requests.get(
        f"{live_app.url}/api/v1/contacts",
        params={"q": text},
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["contacts"]


def test_the_sandbox_serves_its_personas_by_name(live_app):
    boxes = requests.get(f"{live_app.url}/sandbox/ehealthbox/_directory", timeout=5).json()
    assert {"id": BRAM.ssin, "type": "INSS", "quality": "NURSE", "name": "Bram Janssens"} in (
        boxes["boxes"]
    )
    assert {b["name"] for b in boxes["boxes"]} >= {
        "Alice Peeters",
        "Chloé Dubois",
        "Sandbox Medical Software NV",
    }


def test_in_the_sandbox_the_personas_are_in_the_address_book_before_any_mail(live_app, monkeypatch):
    """Chloé never corresponded with Bram nor with the sandbox's organisation."""
    calls = []
    real = directory_contacts.fetch
    monkeypatch.setattr(directory_contacts, "fetch", lambda *a: calls.append(a) or real(*a))
    bram = contacts_of(live_app, "dr-chloe", "bram")
    assert [(c["name"], c["box"]["id"], c["box"]["quality"]) for c in bram] == [
        ("Bram Janssens", BRAM.ssin, "NURSE")
    ]
    assert [c["box"]["id"] for c in contacts_of(live_app, "dr-chloe", "sandbox medical")] == [
        "0899999949"
    ]
    assert contacts_of(live_app, "dr-chloe", "chloé") == []  # never oneself
    with Browser(live_app) as chloe:  # the compose page offers them too
        chloe.login("dr-chloe")
        page = chloe.get(chloe.url("/box/compose"), timeout=10)
        assert re.search(
            r'<option value="Bram Janssens, Nurse · \w+ 79\.03\.15-456\.95">', page.text
        )
    assert contacts_of(live_app, "nurse-bram", "sandbox medical")
    assert len(calls) == 1  # asked once, then kept for every user


def test_an_unreachable_sandbox_directory_leaves_the_address_book_from_the_mail(
    live_app, monkeypatch
):
    from ehbox_webapp.sandbox.loopback import free_port

    closed = f"http://127.0.0.1:{free_port()}/_directory"
    monkeypatch.setattr(directory_contacts, "directory_url", lambda _: closed)
    assert contacts_of(live_app, "dr-chloe", "bram") == []  # not corresponded, not fatal
    assert [c["name"] for c in contacts_of(live_app, "dr-chloe", "alice")] == ["Alice Peeters"]


def test_outside_the_sandbox_no_directory_is_asked(app, monkeypatch):
    calls = []
    monkeypatch.setattr(directory_contacts, "fetch", lambda *a: calls.append(a) or [])
    acceptance = app.extensions["services"].settings.with_(env="acceptance")
    monkeypatch.setattr(directory_contacts, "settings", lambda: acceptance)
    with app.app_context():
        assert directory_contacts.sandbox_contacts() == []
    assert calls == []
