"""End-to-end encrypted messages on the mailbox pages, over real HTTP against the sandbox.

A doctor ticks "Encrypt end to end" on the compose page; the nurse reads the message on
its page and downloads its files, opened; what cannot be opened is said, never shown. And
the folder pages' counts, kept briefly per user, cost one eHealthBox call on a second view.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from conftest import Browser, LiveApp
from test_mailbox import (
    ALICE,
    BRAM,
    CHLOE,
    assert_attachment,
    compose_and_send,
    counts,
    form_fields,
    message_ids,
    post_compose,
    sandbox_of,
    to,
)

from ehbox_webapp.ehealth.ehealthbox import (
    Attachment,
    BoxId,
    FreeInformation,
    NewMessage,
    Recipient,
)
from ehbox_webapp.ehealth.ehealthbox.sealing import (
    client_fetch,
    is_seal,
    seal_message,
    send_encrypted,
    unseal_message,
)
from ehbox_webapp.pdf import make_pdf

NO_KEY_INSS = "70020234512"  # a valid INSS the sandbox's key directory does not know
PATIENT = "56031412372"
PATIENT_SHOWN = "56.03.14-123.72"  # as the pages show an INSS


def text_of(html: str) -> str:
    """The page's text without tags, as a person reads it."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def newest_id(browser: Browser, folder: str = "INBOX") -> str:
    return message_ids(browser.get(browser.url(f"/box/{folder}")).text)[0]


def content_row(live: LiveApp, publication_id: str):
    with sandbox_of(live).store.connect() as conn:
        return conn.execute(
            "SELECT * FROM contents WHERE publication_id=?", (publication_id,)
        ).fetchone()


def publication_of(page_url: str, live: LiveApp, who: str, folder: str) -> str:
    """The PublicationId of the message whose page is at `page_url`."""
    message_id = urlsplit(page_url).path.rsplit("/", 1)[-1]
    client = sandbox_of(live).client(who)
    return client.get_message(message_id, folder).publication_id


def services_of(live: LiveApp):
    return live.app.extensions["services"]


def login(live: LiveApp, who: str) -> Browser:
    browser = Browser(live)
    browser.login(who)
    return browser


REPORT = make_pdf("Verslag", ["Patiënt: Jan Test, HbA1c 6,1 %"])
LABO = b"Labo Jan Test\n" * 400
ECG = bytes(range(256)) * 40


def report_files() -> list:
    return [
        ("document", ("verslag.pdf", REPORT, "application/pdf")),
        ("annexes", ("labo.txt", LABO, "text/plain")),
        ("annexes", ("ecg.bin", ECG, "application/octet-stream")),
    ]


def sealed_pair(live: LiveApp) -> tuple[str, str]:
    """Two encrypted messages from Bram in Alice's INBOX, the second altered on the platform.

    Sent once per app (fixed PublicationIds); returns their MessageIds in Alice's INBOX.
    """
    sb, services = sandbox_of(live), services_of(live)
    alice = sb.client("dr-alice")
    if content_row(live, "I18NSEALED001") is None:
        for publication_id in ("I18NSEALED001", "I18NBROKEN001"):
            message = NewMessage(
                [Recipient(ALICE.ssin, "INSS", "DOCTOR")],
                "Verslag",
                document=Attachment(REPORT, "verslag.pdf", "application/pdf"),
                annexes=[Attachment(LABO, "labo.txt", "text/plain", title="Labo Jan Test")],
                free_information=FreeInformation(text="Graag opvolging."),
                patient_inss=PATIENT,
                publication_id=publication_id,
            )
            send_encrypted(sb.client("nurse-bram"), services.directory, services.keys, message)
        tamper(live, "I18NBROKEN001")
    ids = {s.publication_id: s.message_id for s in alice.iter_messages("INBOX")}
    return ids["I18NSEALED001"], ids["I18NBROKEN001"]


def tamper(live: LiveApp, publication_id: str) -> tuple[str, str]:
    """Flip a bit of the first annex (its digest made to match) and a character of the
    sealed patient INSS, in the sandbox's store; returns (sealed INSS, altered INSS)."""
    sb = sandbox_of(live)
    row = content_row(live, publication_id)
    annexes = json.loads(row["annexes_json"])
    path = sb.store.blobs.path(annexes[0]["blob"])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # in the ciphertext
    path.write_bytes(bytes(data))
    annexes[0]["digest"] = base64.b64encode(hashlib.sha256(data).digest()).decode()
    inss = row["patient_inss"]
    middle = len(inss) // 2
    altered = inss[:middle] + ("A" if inss[middle] != "A" else "B") + inss[middle + 1 :]
    with sb.store.write() as conn:
        conn.execute(
            "UPDATE contents SET annexes_json=?, patient_inss=? WHERE content_id=?",
            (json.dumps(annexes), altered, row["content_id"]),
        )
    return inss, altered


# --- the story ----------------------------------------------------------------------------------
def test_a_doctor_sends_an_encrypted_report_the_nurse_reads_it(live_app):
    alice, bram = login(live_app, "dr-alice"), login(live_app, "nurse-bram")
    compose = alice.get(alice.url("/box/compose")).text
    assert 'name="encrypt"' in compose and "Encrypt end to end" in compose
    assert "the file names and the MIME types are not encrypted" in compose

    sent = compose_and_send(
        alice,
        {
            **to(BRAM),
            "title": "Verslag (versleuteld)",
            "free_text": "Graag opvolging van Jan Test.",
            "patient_inss": PATIENT,
            "encrypt": "y",
        },
        files=report_files(),
    )
    assert sent.status_code == 200 and "Message sent." in sent.text, sent.text[:2000]
    assert urlsplit(sent.url).path.startswith("/box/SENTBOX/")

    # What eHealthBox holds is sealed: no patient data in clear, the title and names clear.
    publication = publication_of(sent.url, live_app, "dr-alice", "SENTBOX")
    row = content_row(live_app, publication)
    assert json.loads(row["spec_json"])["isEncrypted"] is True
    assert is_seal(base64.b64decode(row["patient_inss"]))
    assert is_seal(base64.b64decode(json.loads(row["free_json"])["freeText"]))
    document = json.loads(row["document_json"])
    assert document["downloadFileName"] == "verslag.pdf"
    assert is_seal(sandbox_of(live_app).store.blobs.path(document["blob"]).read_bytes())

    # Bram's inbox flags it; its page shows the opened fields and who sealed it.
    inbox = bram.get(bram.url("/box/INBOX")).text
    message_id = message_ids(inbox)[0]
    listed = re.search(rf'data-message-id="{message_id}">(.*?)</tr>', inbox, re.S).group(1)
    assert "Verslag (versleuteld)" in listed and "encrypted" in listed
    page = bram.get(bram.url(f"/box/INBOX/{message_id}"))
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "56.03.14-123.72" in shown  # the patient's INSS, opened, as people read it
    assert "Graag opvolging van Jan Test." in shown
    for index, title in ((1, "labo.txt"), (2, "ecg.bin")):
        link = f'/box/INBOX/{message_id}/annexes/{index}" translate="no">{title}</a>'
        assert link in page.text
    assert re.search(r"Sealed by Alice Peeters \(INSS 85\.07\.12-123\.90\s*\)", shown), shown
    assert "Every signature is valid" in shown
    assert row["patient_inss"] not in page.text  # never the seal itself

    # The files download opened, byte for byte, with the usual safe headers.
    base = f"/box/INBOX/{message_id}"
    assert_attachment(bram.get(bram.url(f"{base}/document")), "verslag.pdf", REPORT)
    assert_attachment(bram.get(bram.url(f"{base}/annexes/1")), "labo.txt", LABO)
    assert_attachment(bram.get(bram.url(f"{base}/annexes/2")), "ecg.bin", ECG)
    inline = bram.get(bram.url(f"{base}/document/inline"))
    assert inline.content == REPORT and inline.headers["Content-Type"] == "application/pdf"
    assert inline.headers["Content-Disposition"].startswith("inline;")
    assert inline.headers["Content-Security-Policy"].startswith("sandbox;")
    assert "no-store" in inline.headers["Cache-Control"]
    assert bram.get(bram.url(f"{base}/annexes/3")).status_code == 404

    # Alice's SENTBOX copy was sealed for her own box too: it opens.
    own = alice.get(sent.url)
    assert PATIENT_SHOWN in text_of(own.text) and "Every signature is valid" in own.text
    sent_id = urlsplit(sent.url).path.rsplit("/", 1)[-1]
    own_doc = alice.get(alice.url(f"/box/SENTBOX/{sent_id}/document"))
    assert_attachment(own_doc, "verslag.pdf", REPORT)


def test_reply_and_forward_carry_the_opened_content(live_app):
    sb, services = sandbox_of(live_app), services_of(live_app)
    message = NewMessage(
        [Recipient(BRAM.ssin, "INSS", "NURSE")],
        "Wondzorg",
        document=Attachment(b"Wondzorg Jan Test", "wondzorg.txt", "text/plain"),
        annexes=[Attachment(b"foto", "foto.jpg", "image/jpeg", title="Foto van Jan Test")],
        free_information=FreeInformation(text="Verband dagelijks."),
        patient_inss=PATIENT,
    )
    send_encrypted(sb.client("dr-alice"), services.directory, services.keys, message)
    bram = login(live_app, "nurse-bram")
    message_id = newest_id(bram)
    page = bram.get(bram.url(f"/box/INBOX/{message_id}")).text
    assert '<pre class="document-text">Wondzorg Jan Test</pre>' in page  # opened for the preview
    assert "Foto van Jan Test" in page

    reply = bram.get(bram.url(f"/box/INBOX/{message_id}/reply"))
    fields = form_fields(reply.text, "/box/compose")
    assert fields["patient_inss"] == PATIENT and fields["encrypt"] == "y"

    forward = bram.get(bram.url(f"/box/INBOX/{message_id}/forward"))
    fields = form_fields(forward.text, "/box/compose")
    assert fields["free_text"] == "Verband dagelijks." and fields["encrypt"] == "y"
    forwarded = post_compose(bram, forward, {**to(CHLOE), "send": "Send"})
    assert "Message sent." in forwarded.text, forwarded.text[:2000]

    # Chloé opens the forward with her own keys: sealed again, for her.
    chloe = sb.client("dr-chloe")
    copy = next(m for m in chloe.iter_messages() if m.title == "Fwd: Wondzorg")
    full = chloe.get_message(copy.message_id)
    keys = services.keys.decryption_keys_for(chloe.box_info().box_id)
    opened = unseal_message(full, client_fetch(chloe, copy.message_id), keys)
    assert opened.ok and opened.document == b"Wondzorg Jan Test"
    assert [(a.title, a.content) for a in opened.annexes] == [("Foto van Jan Test", b"foto")]
    assert opened.patient_inss == PATIENT and opened.signer.identifier == BRAM.ssin


# --- what stops a send --------------------------------------------------------------------------
def test_a_recipient_without_an_encryption_key_stops_the_send(live_app):
    sb = sandbox_of(live_app)
    alice = login(live_app, "dr-alice")
    bram_before = sb.client("nurse-bram").list_messages("INBOX", 1, 1).total
    sent_before = sb.client("dr-alice").list_messages("SENTBOX", 1, 1).total
    page = compose_and_send(
        alice,
        {
            **to(BRAM),
            **to(ALICE, row=1, identifier=NO_KEY_INSS),
            "title": "Niet voor iedereen",
            "patient_inss": PATIENT,
            "encrypt": "y",
        },
        files=report_files(),
    )
    assert page.status_code == 422
    shown = text_of(page.text)
    assert f"No encryption key is published for INSS {NO_KEY_INSS}" in shown
    assert "Nothing was sent." in shown
    row_1 = re.search(r'id="recipient-1">(.*?)</fieldset>', page.text, re.S).group(1)
    assert "no published encryption key" in row_1
    row_0 = re.search(r'id="recipient-0">(.*?)</fieldset>', page.text, re.S).group(1)
    assert "no published encryption key" not in row_0
    fields = form_fields(page.text, "/box/compose")
    assert fields["title"] == "Niet voor iedereen" and fields["encrypt"] == "y"
    assert "Kept: verslag.pdf" in page.text and "Kept: ecg.bin" in page.text
    assert sb.client("nurse-bram").list_messages("INBOX", 1, 1).total == bram_before
    assert sb.client("dr-alice").list_messages("SENTBOX", 1, 1).total == sent_before

    # Without that recipient, the kept files go out encrypted.
    sent = post_compose(alice, page, {"recipients-1-identifier": "", "send": "Send"})
    assert "Message sent." in sent.text, sent.text[:2000]


def test_a_keystore_or_a_directory_missing_is_said_and_nothing_is_sent(live_app):
    sb, services = sandbox_of(live_app), services_of(live_app)
    alice = login(live_app, "dr-alice")
    page = alice.get(alice.url("/box/compose"))  # looks up her key: her keystore is issued
    assert 'name="encrypt"' in page.text
    bram_before = sb.client("nurse-bram").list_messages("INBOX", 1, 1).total

    # The key directory does not answer: the form comes back, nothing is sent.
    directory, base = services.directory, services.directory.base_url
    directory.forget()
    directory.base_url = "http://127.0.0.1:9/etee/v1/pubKeys/cacerts/jwks"
    try:
        fields = {**to(BRAM), "title": "Straks", "encrypt": "y", "text": "Hallo"}
        down = compose_and_send(alice, fields)
        assert down.status_code == 503
        assert "The key directory is unavailable" in down.text and "Nothing was sent." in down.text
        assert form_fields(down.text, "/box/compose")["title"] == "Straks"
    finally:
        directory.base_url = base
    again = post_compose(alice, down, {"send": "Send"})
    assert "Message sent." in again.text
    assert sb.client("nurse-bram").list_messages("INBOX", 1, 1).total == bram_before + 1

    # Her keystore is gone from this site: the option is no longer offered, nor sent.
    folder = live_app.instance_path / "sandbox-personas"
    for path in folder.glob(f"SSIN={ALICE.ssin} *"):
        path.unlink()
    page = alice.get(alice.url("/box/compose"))
    assert 'name="encrypt"' not in page.text
    assert "You have no keystore for encryption here" in page.text
    data = {**to(BRAM), "title": "Nee", "text": ".", "encrypt": "y", "send": "Send"}
    refused = post_compose(alice, page, data)
    assert refused.status_code == 422 and "Nothing was sent." in refused.text
    assert sb.client("nurse-bram").list_messages("INBOX", 1, 1).total == bram_before + 1


def test_a_lost_answer_of_an_encrypted_send_is_delivered_once(make_live_app):
    live = make_live_app({"HTTP_TIMEOUT": "1"})
    sb = sandbox_of(live)
    alice = login(live, "dr-alice")
    alice.get(alice.url("/box/compose"))  # keys looked up (and issued) before the fault
    sb.fault(operation="send", delay=2, times=1)  # stored, but the answer comes too late
    data = {**to(BRAM), "title": "Eén keer versleuteld", "text": "Hallo", "encrypt": "y"}
    page = compose_and_send(alice, data)
    assert page.status_code == 504  # the failure table's, as the API answers
    assert "We could not confirm that the message was sent." in page.text
    sent = post_compose(alice, page, {"send": "Send"})
    assert "Message sent." in sent.text and "delivered once" in sent.text
    titles = [m.title for m in sb.client("nurse-bram").iter_messages("INBOX")]
    assert titles.count("Eén keer versleuteld") == 1


# --- what does not open -------------------------------------------------------------------------
def test_a_tampered_message_says_why_and_can_still_be_deleted(live_app):
    sb, services = sandbox_of(live_app), services_of(live_app)
    message = NewMessage(
        [Recipient(BRAM.ssin, "INSS", "NURSE")],
        "Gewijzigd onderweg",
        document=Attachment(REPORT, "verslag.pdf", "application/pdf"),
        annexes=[
            Attachment(LABO, "labo.txt", "text/plain", title="Labo Jan Test"),
            Attachment(ECG, "ecg.bin", "application/octet-stream", title="ECG"),
        ],
        patient_inss=PATIENT,
        publication_id="WEBTAMPER0001",
    )
    send_encrypted(sb.client("dr-alice"), services.directory, services.keys, message)
    inss, tampered_inss = tamper(live_app, "WEBTAMPER0001")

    bram = login(live_app, "nurse-bram")
    message_id = newest_id(bram)
    page = bram.get(bram.url(f"/box/INBOX/{message_id}"))
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "This message cannot be opened, or not entirely" in shown
    assert re.search(r"Patient \(INSS\)\s*: It was altered or damaged after it was sealed", shown)
    assert "(cannot be opened)" in shown and PATIENT_SHOWN not in shown and PATIENT not in shown
    assert tampered_inss not in page.text and inss not in page.text  # no seal, no garbage
    assert "Labo Jan Test" in shown  # the annex titles' own seals hold

    broken = bram.get(bram.url(f"/box/INBOX/{message_id}/annexes/1"))
    assert broken.status_code == 422 and broken.headers["Content-Type"].startswith("text/html")
    assert "This file cannot be opened" in broken.text
    assert "It was altered or damaged after it was sealed." in broken.text
    assert "Content-Disposition" not in broken.headers
    intact = bram.get(bram.url(f"/box/INBOX/{message_id}/annexes/2"))
    assert_attachment(intact, "ecg.bin", ECG)

    # Someone else's keys open nothing: said too. The message can still be deleted.
    confirm = bram.get(bram.url(f"/box/INBOX/{message_id}/delete"))
    deleted = bram.submit(confirm, "confirm", {}, button=("confirm", "1"))
    assert "Message deleted for good." in deleted.text
    assert message_id not in message_ids(deleted.text)


def test_a_seal_for_other_keys_or_by_another_signer_is_said_so(live_app):
    sb, services = sandbox_of(live_app), services_of(live_app)
    directory, keys = services.directory, services.keys
    alice_box = sb.client("dr-alice").box_info().box_id
    bram_to = Recipient(BRAM.ssin, "INSS", "NURSE")
    # Alice's software sealed it with Chloé's key instead of Bram's. (Keys are looked up
    # first: in the sandbox, that is what issues a persona's keystore.)
    alice_certs = directory.for_box(alice_box)
    chloe_certs = directory.for_box(BoxId(CHLOE.ssin, "INSS", "DOCTOR"))
    directory.for_box(bram_to)  # Bram has keys, just not the ones used
    misaddressed = seal_message(
        NewMessage([bram_to], "Verkeerde sleutel", text="geheim", patient_inss=PATIENT),
        sender=keys.signing_identity_for(alice_box),
        sender_box_certs=alice_certs,
        recipient_certs={bram_to: chloe_certs},
    )
    sb.client("dr-alice").send(misaddressed)
    bram = login(live_app, "nurse-bram")
    message_id = newest_id(bram)
    shown = text_of(bram.get(bram.url(f"/box/INBOX/{message_id}")).text)
    assert "It is not addressed to your encryption keys." in shown and "geheim" not in shown
    document = bram.get(bram.url(f"/box/INBOX/{message_id}/document"))
    assert document.status_code == 422 and b"geheim" not in document.content
    assert "It is not addressed to your encryption keys." in document.text

    # Bram passes Alice's sealed message on as is to Chloé: his box sent it, Alice signed it.
    client = sb.client("nurse-bram")
    full = client.get_message(message_id)
    with client.open_document(message_id) as download:
        sealed_document = download.read()
    client.send(
        NewMessage(
            [Recipient(CHLOE.ssin, "INSS", "DOCTOR")],
            full.document.title,
            document=Attachment(sealed_document, "message.txt", "text/plain"),
            patient_inss=full.patient_inss,
            content_specification=full.content_specification,
        )
    )
    chloe = login(live_app, "dr-chloe")
    message_id = newest_id(chloe)
    shown = text_of(chloe.get(chloe.url(f"/box/INBOX/{message_id}")).text)
    assert "It was not sealed by the sender of the message." in shown
    assert PATIENT not in shown


# --- the folder counts, kept briefly ------------------------------------------------------------
@pytest.fixture
def ehealthbox_calls(live_app):
    """The app's calls to the eHealthBox (not to the realm or the key directory), as URLs."""
    calls: list[str] = []
    http = live_app.app.extensions["services"].http

    def hook(response, *args, **kwargs):
        if "/ehealthbox/" in response.url:
            calls.append(response.url)

    http.hooks["response"].append(hook)
    yield calls
    http.hooks["response"].remove(hook)


def test_folder_counts_are_kept_briefly_and_forgotten_on_change(live_app, ehealthbox_calls):
    alice = login(live_app, "dr-alice")
    first = alice.get(alice.url("/box/INBOX"))
    unread, total = counts(first.text, "INBOX")
    ehealthbox_calls.clear()
    second = alice.get(alice.url("/box/INBOX"))
    assert len(ehealthbox_calls) == 1, ehealthbox_calls  # its own listing, nothing more
    assert counts(second.text, "SENTBOX") == counts(first.text, "SENTBOX")
    assert "<progress" in second.text

    # Reading a message: the folder's counts are live on its page, the others still kept.
    message_id = message_ids(second.text)[0]
    page = alice.get(alice.url(f"/box/INBOX/{message_id}"))
    ehealthbox_calls.clear()
    sent = alice.get(alice.url("/box/SENTBOX"))
    # SENTBOX only (its listing, and the receipts and names its rows show): the INBOX
    # counts the message page's header asked for after the read are kept.
    assert [
        c for c in ehealthbox_calls if c.endswith("source=INBOX&startIndex=1&endIndex=1")
    ] == [], ehealthbox_calls
    assert counts(sent.text, "INBOX")[1] == total

    # A move through the pages forgets them: the next view asks again, with the new counts.
    moved = alice.submit(page, "move", {}, button=("move", "1"))
    assert "Message moved to Bin (received)." in moved.text
    assert counts(moved.text, "INBOX")[1] == total - 1
    bin_before = counts(first.text, "BININBOX")[1]
    assert counts(moved.text, "BININBOX")[1] == bin_before + 1
    ehealthbox_calls.clear()
    alice.get(alice.url("/box/INBOX"))
    assert len(ehealthbox_calls) == 1, ehealthbox_calls


def test_opening_a_listed_message_keeps_the_counts_right_without_asking_again(
    live_app, ehealthbox_calls
):
    """From a folder to one of its messages and back: the message is the only call.

    The listing said which rows were unread: opening one takes one off the kept unread
    count (the header shows it at once), opening a read one changes nothing, and a message
    the listing did not show makes the folder's counts be asked again.
    """
    alice = login(live_app, "dr-alice")
    inbox = alice.get(alice.url("/box/INBOX"))
    unread, total = counts(inbox.text, "INBOX")
    unread_ids = re.findall(r'<tr class="unread" data-message-id="([A-Za-z0-9]{13})"', inbox.text)
    read_ids = [m for m in message_ids(inbox.text) if m not in unread_ids]
    assert unread_ids and read_ids, "the sandbox seeds read and unread mail"

    alice.get(alice.url(f"/box/INBOX/{read_ids[0]}"))  # read already (and the names kept)
    ehealthbox_calls.clear()
    page = alice.get(alice.url(f"/box/INBOX/{unread_ids[0]}"))
    assert len(ehealthbox_calls) == 1, ehealthbox_calls  # the message; the header's count is kept
    assert f"<title>({unread - 1}) " in page.text
    ehealthbox_calls.clear()
    sent = alice.get(alice.url("/box/SENTBOX"))
    assert [
        c for c in ehealthbox_calls if c.endswith("source=INBOX&startIndex=1&endIndex=1")
    ] == [], ehealthbox_calls
    assert counts(sent.text, "INBOX") == (unread - 1, total)

    ehealthbox_calls.clear()
    again = alice.get(alice.url(f"/box/INBOX/{unread_ids[0]}"))  # read now: nothing changes
    alice.get(alice.url(f"/box/INBOX/{read_ids[-1]}"))
    assert len(ehealthbox_calls) == 2, ehealthbox_calls
    assert f"<title>({unread - 1}) " in again.text
    assert counts(alice.get(alice.url("/box/INBOX")).text, "INBOX") == (unread - 1, total)


def test_a_message_the_listing_did_not_show_makes_its_folder_counts_asked_again(live_app):
    from types import SimpleNamespace

    from flask import g

    from ehbox_webapp.web.pages import boxcache

    rows = [SimpleNamespace(message_id=f"AAAAAAAAAAAA{i}", read=i == 2) for i in (1, 2)]
    listed = SimpleNamespace(folder="INBOX", messages=rows, start=1, total=2, unread=1)
    with live_app.app.test_request_context("/box/INBOX"):
        g.user = {"sub": "test-opened"}
        boxcache.folder_counts(None, listed, ("INBOX",))  # the listing writes its counts in
        kept = live_app.app.extensions["services"].store.get(boxcache.store_key("counts"))
        assert kept["folders"]["INBOX"] == [2, 1]
        boxcache.opened("INBOX", "AAAAAAAAAAAA2")  # read already
        boxcache.opened("INBOX", "AAAAAAAAAAAA1")  # unread: one fewer
        boxcache.opened("INBOX", "AAAAAAAAAAAA1")  # twice is still one
        kept = live_app.app.extensions["services"].store.get(boxcache.store_key("counts"))
        assert kept["folders"]["INBOX"] == [2, 0]
        boxcache.opened("INBOX", "BBBBBBBBBBBB3")  # not listed: whether it was unread is unknown
        kept = live_app.app.extensions["services"].store.get(boxcache.store_key("counts"))
        assert "INBOX" not in kept["folders"]
