"""The mailbox pages, used as a doctor and a nurse would, over real HTTP against the sandbox.

The helpers at the top (a form reader that also sees <select> and <textarea>,
`compose_and_send`, `sandbox_of`) are shared with the other test_mailbox_* files.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import quote, unquote, urlsplit

import pytest
import requests
from conftest import Browser
from ehbox_fixtures import Sandbox, recipient, sandbox_of

from ehbox_webapp.ehealth.ehealthbox import (
    Attachment,
    NewMessage,
)
from ehbox_webapp.mailbox.people import format_inss
from ehbox_webapp.pdf import make_pdf
from ehbox_webapp.sandbox.personas import persona

ALICE, BRAM, CHLOE = (persona(p) for p in ("dr-alice", "nurse-bram", "dr-chloe"))
NOBODY_INSS = "70020200269"  # valid check digits, no eHealthBox


# --- helpers ------------------------------------------------------------------------------------
class _FormReader(HTMLParser):
    """The fields of every form as a browser would submit them (inputs, selects, textareas)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": []})
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("submit", "file", "button") or (
                kind in ("checkbox", "radio") and "checked" not in a
            ):
                return
            self.forms[-1]["fields"].append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select, self._first_option = a.get("name"), None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self.forms[-1]["fields"].append((self._select, a.get("value", "")))
                self._select = None
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.forms[-1]["fields"].append((self._textarea, ""))

    def handle_data(self, data):
        if self._textarea:
            name, value = self.forms[-1]["fields"][-1]
            self.forms[-1]["fields"][-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "select" and self._select:  # nothing selected: the first option is sent
            self.forms[-1]["fields"].append((self._select, self._first_option or ""))
            self._select = None
        elif tag == "textarea" and self._textarea:
            name, value = self.forms[-1]["fields"][-1]
            # As browsers do: newlines normalised, the one after <textarea> dropped.
            value = value.replace("\r\n", "\n").removeprefix("\n")
            self.forms[-1]["fields"][-1] = (name, value)
            self._textarea = None


def form_fields(html: str, action: str) -> dict[str, str]:
    """The fields of the form posting to `action`, as the browser would send them."""
    reader = _FormReader()
    reader.feed(html)
    form = next(f for f in reader.forms if f["action"].split("?")[0] == action)
    return dict(form["fields"])


def to(who, row: int = 0, quality: str | None = None, identifier: str | None = None) -> dict:
    """The fields of recipient row `row` for a persona."""
    return {
        f"recipients-{row}-type": "INSS",
        f"recipients-{row}-identifier": identifier or who.ssin,
        f"recipients-{row}-quality": quality or who.quality,
    }


def post_compose(
    browser: Browser, page: requests.Response, data: dict, files: list | None = None, **kwargs
) -> requests.Response:
    """Submit the compose form shown on `page` with `data` changed and `files` chosen."""
    fields = {**form_fields(page.text, "/box/compose"), **data}
    fields = {k: v for k, v in fields.items() if v is not None}
    return browser.post(
        browser.url("/box/compose"), data=fields, files=files or None, timeout=30, **kwargs
    )


def compose_and_send(
    browser: Browser, data: dict, files: list | None = None, **kwargs
) -> requests.Response:
    page = browser.get(browser.url("/box/compose"))
    assert page.status_code == 200
    return post_compose(browser, page, {"send": "Send", **data}, files, **kwargs)


def inbox_titles(sb: Sandbox, who: str) -> list[str]:
    return [m.title for m in sb.client(who).iter_messages("INBOX")]


def message_ids(html: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*" data-message-id="([A-Za-z0-9]{13})"', html)


def counts(html: str, folder: str) -> tuple[int, int]:
    """(unread, total) as the folder list shows them."""
    match = re.search(
        rf'<span class="counts" data-folder="{folder}">(.*?)</span>\s*(?:</a>\s*)?</li>', html, re.S
    )
    assert match, folder
    unread = re.search(r'class="unread-count">(\d+)<', match.group(1))
    total = re.search(r'class="total-count">(\d+)<', match.group(1))
    return (int(unread.group(1)) if unread else 0), int(total.group(1))


def assert_attachment(response: requests.Response, filename: str, body: bytes) -> None:
    assert response.status_code == 200
    assert response.content == body
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(filename, safe='')}" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- login --------------------------------------------------------------------------------------
def test_the_mailbox_needs_a_login(browser):
    for path in ("/box/INBOX", "/box/compose", "/box/SENTBOX?page=2"):
        response = browser.get(browser.url(path), allow_redirects=False)
        assert response.status_code == 302
        location = urlsplit(response.headers["Location"])
        assert location.path == "/login" and unquote(location.query) == f"next={path}"


def test_the_home_page_and_the_menu_lead_to_the_mailbox(browser):
    home = browser.login("dr-alice")
    assert 'href="/box/INBOX"' in home.text and 'href="/box/compose"' in home.text


# --- the story ----------------------------------------------------------------------------------
def test_a_doctor_sends_a_nurse_a_report_with_annexes_and_follows_it(live_app):
    alice, bram = Browser(live_app), Browser(live_app)
    alice.login("dr-alice")
    bram.login("nurse-bram")
    unread_before, total_before = counts(bram.get(bram.url("/box/INBOX")).text, "INBOX")

    pdf = make_pdf("Ontslagbrief", ["Patiënt: test"])
    annex_1, annex_2 = b"Labo 1\n" * 500, "Résultats: K+ 6,4\n".encode() * 300
    sent = compose_and_send(
        alice,
        {
            **to(BRAM),
            "title": "Ontslagbrief cardiologie",
            "free_text": "Graag opvolging.",
            "patient_inss": "56031412372",
            "publication_receipt": "y",
            "received_receipt": "y",
            "read_receipt": "y",
        },
        files=[
            ("document", ("ontslagbrief.pdf", pdf, "application/pdf")),
            ("annexes", ("labo-1.txt", annex_1, "text/plain")),
            ("annexes", ("Résultats labo.txt", annex_2, "text/plain")),
        ],
    )
    assert sent.status_code == 200, sent.text
    assert urlsplit(sent.url).path.startswith("/box/SENTBOX/")
    assert "Message sent." in sent.text
    sent_path = urlsplit(sent.url).path

    # Bram sees it at the top of his INBOX, unread, and the counts went up.
    inbox = bram.get(bram.url("/box/INBOX"))
    assert counts(inbox.text, "INBOX") == (unread_before + 1, total_before + 1)
    newest = message_ids(inbox.text)[0]
    row = re.search(rf'<tr class="unread" data-message-id="{newest}">(.*?)</tr>', inbox.text, re.S)
    assert row and "Ontslagbrief cardiologie" in row.group(1)
    assert "Alice Peeters" in row.group(1) and "annex" in row.group(1)

    page = bram.get(bram.url(f"/box/INBOX/{newest}"))
    assert page.status_code == 200
    for expected in (
        "Ontslagbrief cardiologie",
        "Alice Peeters",
        format_inss(ALICE.ssin),  # identifiers grouped as people read them
        'data-quality="DOCTOR"',
        format_inss(BRAM.ssin),
        "56.03.14-123.72",
        "Graag opvolging.",
        "labo-1.txt",
        "Résultats labo.txt",
        f"/box/INBOX/{newest}/document/inline",
    ):
        assert expected in page.text

    document = bram.get(bram.url(f"/box/INBOX/{newest}/document"))
    assert_attachment(document, "ontslagbrief.pdf", pdf)
    assert document.headers["Content-Type"] == "application/pdf"
    assert_attachment(bram.get(bram.url(f"/box/INBOX/{newest}/annexes/1")), "labo-1.txt", annex_1)
    second = bram.get(bram.url(f"/box/INBOX/{newest}/annexes/2"))
    assert_attachment(second, "Résultats labo.txt", annex_2)
    assert 'filename="Resultats_labo.txt"' in second.headers["Content-Disposition"]

    # Alice's SENTBOX copy says it was published, received and read.
    receipts = alice.get(alice.url(sent_path)).text
    row = re.search(r'<tr class="receipt">(.*?)</tr>', receipts, re.S).group(1)
    assert format_inss(BRAM.ssin) in row and "not yet" not in row
    assert len(re.findall(r"\d\d/\d\d/\d{4} \d\d:\d\d", row)) == 3

    # Bram bins it, restores it, then deletes it for good after confirming.
    moved = bram.submit(page, "move", {}, button=("move", "1"))
    assert "Message moved to Bin (received)." in moved.text
    assert newest not in message_ids(moved.text)
    assert newest in message_ids(bram.get(bram.url("/box/BININBOX")).text)
    restored = bram.submit(
        bram.get(bram.url(f"/box/BININBOX/{newest}")), "move", {}, button=("move", "1")
    )
    assert "Message restored to Inbox." in restored.text
    assert urlsplit(restored.url).path == f"/box/INBOX/{newest}"
    confirm = bram.get(bram.url(f"/box/INBOX/{newest}/delete"))
    assert "Delete this message for good?" in confirm.text
    assert newest in message_ids(bram.get(bram.url("/box/INBOX")).text)  # asking deletes nothing
    deleted = bram.submit(confirm, "confirm", {}, button=("confirm", "1"))
    assert "Message deleted for good." in deleted.text
    gone = bram.get(bram.url(f"/box/INBOX/{newest}"))
    assert gone.status_code == 404 and "no longer exists" in gone.text


def test_reply_and_forward_carry_the_original(live_app):
    sb = sandbox_of(live_app)
    original = sb.client("dr-alice").send(
        NewMessage(
            recipients=[recipient("nurse-bram")],
            title="Wondzorg instructies",
            document=Attachment(
                make_pdf("Wondzorg", ["Stap 1"]), "wondzorg.pdf", "application/pdf"
            ),
            annexes=[Attachment(b"foto", "foto.jpg", "image/jpeg", title="Foto")],
            patient_inss="56031412372",
        )
    )
    bram = Browser(live_app)
    bram.login("nurse-bram")
    message_id = next(
        m.message_id
        for m in sb.client("nurse-bram").iter_messages()
        if m.publication_id == original.publication_id
    )

    reply = bram.get(bram.url(f"/box/INBOX/{message_id}/reply"))
    fields = form_fields(reply.text, "/box/compose")
    assert fields["recipients-0-identifier"] == ALICE.ssin
    assert fields["recipients-0-quality"] == "DOCTOR"
    assert fields["title"] == "Re: Wondzorg instructies"
    assert fields["patient_inss"] == "56031412372"
    answered = post_compose(bram, reply, {"text": "Gedaan.", "send": "Send"})
    assert "Message sent." in answered.text
    assert "Re: Wondzorg instructies" in inbox_titles(sb, "dr-alice")

    forward = bram.get(bram.url(f"/box/INBOX/{message_id}/forward"))
    fields = form_fields(forward.text, "/box/compose")
    assert fields["title"] == "Fwd: Wondzorg instructies" and fields["include_original"] == "y"
    assert "wondzorg.pdf" in forward.text and "foto.jpg" in forward.text
    forwarded = post_compose(bram, forward, {**to(CHLOE), "send": "Send"})
    assert "Message sent." in forwarded.text, forwarded.text
    chloe = sb.client("dr-chloe")
    copy = next(m for m in chloe.iter_messages() if m.title == "Fwd: Wondzorg instructies")
    full = chloe.get_message(copy.message_id)
    assert full.document.download_file_name == "wondzorg.pdf"
    assert [a.download_file_name for a in full.annexes] == ["foto.jpg"]
    with chloe.open_annex(copy.message_id, 1) as download:
        assert download.read() == b"foto"


# --- folders ----------------------------------------------------------------------------------
def test_folders_show_counts_quota_and_pages_without_repeats(live_app):
    sb = sandbox_of(live_app)
    alice = Browser(live_app)
    alice.login("dr-alice")
    first = alice.get(alice.url("/box/INBOX"))
    for label in ("Inbox", "Sent", "Bin (received)", "Bin (sent)"):
        assert label in first.text
    unread, total = counts(first.text, "INBOX")
    assert total > 100 and unread > 0
    assert "used" in first.text and "<progress" in first.text
    page_1 = message_ids(first.text)
    assert len(page_1) == 25 and len(set(page_1)) == 25
    assert f"Page 1 of {-(-total // 25)}" in first.text

    # Two new messages arrive while Alice reads page 1: page 2 must not repeat page 1.
    for i in range(2):
        sb.client("dr-chloe").send(
            NewMessage(recipients=[recipient("dr-alice")], title=f"Nieuw {i}", text="...")
        )
    older = re.search(r'<a rel="next" href="([^"]+)">', first.text).group(1)
    page_2 = message_ids(alice.get(alice.url(older.replace("&amp;", "&"))).text)
    assert page_2 and not set(page_2) & set(page_1)


def test_bad_folders_pages_and_ids_are_404_pages(browser):
    browser.login("dr-alice")
    for path in (
        "/box/SPAM",
        "/box/INBOX?page=0",
        "/box/INBOX?page=x",
        "/box/INBOX?page=999",
        "/box/INBOX/not-an-id",
        "/box/INBOX/AAAAAAAAAAAAA",
        "/box/INBOX/AAAAAAAAAAAAA/document",
        "/box/INBOX/AAAAAAAAAAAAA/annexes/1",
    ):
        response = browser.get(browser.url(path))
        assert response.status_code == 404, path
        assert "<h1>" in response.text
    assert (
        "This message no longer exists" in browser.get(browser.url("/box/INBOX/AAAAAAAAAAAAA")).text
    )


def test_system_messages_and_text_documents_read_well(live_app):
    alice = Browser(live_app)
    alice.login("dr-alice")
    sb = sandbox_of(live_app)
    client = sb.client("dr-alice")
    kinds = {}
    for m in client.list_messages("INBOX", 1, 20).messages:
        kinds.setdefault(m.content_specification.content_type, m.message_id)
    ack = alice.get(alice.url(f"/box/INBOX/{kinds['ACKNOWLEDGMENT']}")).text
    assert "Receipt" in ack and "read" in ack and "Open the sent message" in ack
    assert "Reply" not in ack
    error = alice.get(alice.url(f"/box/INBOX/{kinds['ERROR']}")).text
    assert "could not deliver a message (code 802)" in error
    assert "Invalid destination identifier" in error
    # System messages carry a text document: shown on the page, in a <pre>.
    assert '<pre class="document-text">' in error and "Le destinataire n&#39;existe pas" in error


@pytest.mark.parametrize(
    ("fault", "status", "sentence"),
    [
        (
            {"status": 503, "retryAfter": 0, "times": 10},
            503,
            "The eHealthBox is not available at the moment.",
        ),
        ({"status": 403, "code": "810"}, 403, "There is no eHealthBox for your identity"),
        ({"status": 401}, 502, "Your eHealth session is no longer valid. Please log in again."),
    ],
)
def test_eHealthBox_failures_on_read_pages_are_clear_pages(live_app, fault, status, sentence):
    browser = Browser(live_app)
    browser.login("dr-alice")
    sandbox_of(live_app).fault(operation="list", **fault)
    page = browser.get(browser.url("/box/INBOX"))
    assert page.status_code == status
    assert sentence in page.text
    if fault["status"] == 401:  # eHealthBox refused the token: a new login is offered
        assert 'href="/login?next=/box/INBOX"' in page.text


def test_a_full_box_warns_its_owner_and_the_sender(live_app):
    sb = sandbox_of(live_app)
    sb.store.set_max_size(sb.box_key("nurse-bram"), 1000)  # already over: new mail waits
    alice = Browser(live_app)
    alice.login("dr-alice")
    sent = compose_and_send(alice, {**to(BRAM), "title": "Wacht even", "text": "..."})
    assert "Message sent." in sent.text and "is full: the message waits" in sent.text
    bram = Browser(live_app)
    bram.login("nurse-bram")
    inbox = bram.get(bram.url("/box/INBOX")).text
    assert "1 new message is waiting outside your box because it is full" in inbox
