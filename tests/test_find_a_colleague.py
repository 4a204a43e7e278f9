"""A doctor finds a colleague she never wrote to, by name, on the compose page, and writes to her.

Without JavaScript: the `find` field and the `pick` buttons posted to /box/compose, as a
browser posts them. The colleague is in the sandbox AddressBook only (no mail from or to
her); the message is delivered to her box in the sandbox eHealthBox.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from conftest import Browser
from test_mailbox import form_fields, post_compose, sandbox_of

from ehbox_webapp.sandbox.addressbook.directory import directory
from ehbox_webapp.sandbox.ehealthbox.store import box_key


@pytest.fixture
def alice(live_app) -> Browser:
    with Browser(live_app) as b:
        b.login("dr-alice")
        yield b


def namesakes():
    """A last name several doctors in the sandbox directory share, and one of them."""
    people = directory().people
    shared = Counter(p.last_name for p in people if p.professions[0][0] == "PHYSICIAN")
    last_name = next(n for n, count in shared.most_common() if count >= 2)
    colleague = next(
        p for p in people if p.last_name == last_name and p.professions[0][0] == "PHYSICIAN"
    )
    return last_name, colleague


def test_a_doctor_finds_a_colleague_she_never_wrote_to_and_sends_to_her(live_app, alice):
    last_name, colleague = namesakes()
    sandbox = sandbox_of(live_app)
    her_box = box_key({"id": colleague.ssin, "type": "INSS", "quality": "DOCTOR"})
    mail = sandbox.client("dr-alice")
    assert colleague.ssin not in {m.sender.id for m in mail.iter_messages("INBOX")}
    assert colleague.ssin not in {m.destination.id for m in mail.iter_messages("SENTBOX")}

    page = alice.get(alice.url("/box/compose"), timeout=10)
    choices = post_compose(alice, page, {"find": last_name.lower(), "add_found": "1"})
    assert choices.status_code == 200
    picks = dict(
        re.findall(r'<button type="submit" name="pick" value="([^"]+)"[^>]*>([^<]+)<', choices.text)
    )
    her_key = f"INSS:{colleague.ssin}:DOCTOR"
    assert picks[her_key].startswith(f"{colleague.name}, ")  # named, to tell namesakes apart
    assert sum(name.split(",")[0].endswith(last_name) for name in picks.values()) >= 2

    picked = post_compose(alice, choices, {"pick": her_key, "find": last_name.lower()})
    fields = form_fields(picked.text, "/box/compose")
    assert (fields["recipients-0-type"], fields["recipients-0-identifier"]) == (
        "INSS",
        colleague.ssin,
    )
    assert fields["recipients-0-quality"] == "DOCTOR"

    sent = post_compose(
        alice,
        picked,
        {"send": "Send", "title": "Verwijzing cardiologie", "text": "Graag uw advies."},
    )
    assert sent.status_code == 200 and "/box/SENTBOX/" in sent.url, sent.text[-2000:]
    with sandbox.store.read() as conn:
        total, unread = sandbox.store.counts(conn, her_box, "INBOX")
        title = conn.execute(
            "SELECT json_extract(c.document_json, '$.title') FROM messages m "
            "JOIN contents c ON c.content_id = m.content_id WHERE m.box = ? AND m.folder = 'INBOX'",
            (her_box,),
        ).fetchone()[0]
    assert (total, unread, title) == (1, 1, "Verwijzing cardiologie")
