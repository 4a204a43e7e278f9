"""Sending from the compose page: every refusal or failure comes back as a clear message on
the form, with what the user typed and the files they chose still there; nothing is sent twice.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from conftest import Browser
from test_mailbox import (
    BRAM,
    CHLOE,
    compose_and_send,
    form_fields,
    inbox_titles,
    post_compose,
    sandbox_of,
    to,
)

from ehbox_webapp.ehealth.ehealthbox import BoxId
from ehbox_webapp.mailbox.drafts import DRAFT_LIFETIME, DraftStore
from ehbox_webapp.sandbox.ehealthbox.seed import inss

NOBODY_INSS = inss(70, 2, 2, 2)  # valid check digits, but nobody's eHealthBox


def row_html(html: str, row: int) -> str:
    match = re.search(
        rf'<fieldset class="recipient-row[^"]*" id="recipient-{row}">(.*?)\n    </fieldset>',
        html,
        re.S,
    )
    assert match, f"no recipient row {row}"
    return match.group(1)


def bram_total(sb) -> int:
    return sb.client("nurse-bram").list_messages("INBOX", 1, 1).total


@pytest.fixture
def alice(live_app) -> Browser:
    with Browser(live_app) as b:
        b.login("dr-alice")
        yield b


REPORT = ("document", ("verslag.pdf", b"%PDF-1.4 report", "application/pdf"))


def test_identifiers_are_checked_as_ehealth_checks_them(live_app, alice):
    sb = sandbox_of(live_app)
    before = bram_total(sb)
    page = compose_and_send(
        alice,
        {
            **to(BRAM, 0, identifier="79031545696"),  # last check digit wrong
            "recipients-1-type": "CBE",
            "recipients-1-identifier": "0899.999.948",
            "recipients-1-quality": "INSTITUTION",
            "recipients-2-type": "NIHII",
            "recipients-2-identifier": "1234",
            "recipients-2-quality": "DOCTOR",
            "title": "",
            "text": "Bericht",
            "patient_inss": "12345678901",
        },
    )
    assert page.status_code == 422
    assert "The INSS number must have 11 digits with valid check digits." in row_html(page.text, 0)
    assert "The CBE number must have 10 digits" in row_html(page.text, 1)
    assert "The NIHII number for Doctor must have 11 digits" in row_html(page.text, 2)
    assert "Give the message a title." in page.text
    assert "The patient&#39;s INSS must have 11 digits" in page.text
    kept = form_fields(page.text, "/box/compose")
    assert kept["recipients-1-identifier"] == "0899.999.948" and kept["text"] == "Bericht"
    assert bram_total(sb) == before  # nothing was sent


def test_a_quality_is_required_and_blank_rows_are_ignored(alice):
    page = compose_and_send(
        alice, {"recipients-0-identifier": BRAM.ssin, "title": "T", "text": "x"}
    )
    assert "Choose the recipient&#39;s quality." in row_html(page.text, 0)
    page = compose_and_send(alice, {"title": "T", "text": "x"})
    assert "Add at least one recipient." in page.text


def test_titles_and_file_names_must_fit_eHealthBox(alice):
    long_name = "verslag-" + "x" * 250 + ".pdf"
    page = compose_and_send(
        alice,
        {**to(BRAM), "title": "T" * 401},
        files=[("document", (long_name, b"%PDF", "application/pdf"))],
    )
    assert page.status_code == 422
    assert "At most 400 characters." in page.text
    assert "is longer than 255 characters. Rename the file." in page.text
    assert "Kept:" not in page.text


def test_more_recipient_rows_without_javascript(alice):
    page = alice.get(alice.url("/box/compose"))
    more = post_compose(
        alice, page, {**to(BRAM), "title": "Voor twee", "add_recipient": "Add a recipient row"}
    )
    assert more.status_code == 200
    fields = form_fields(more.text, "/box/compose")
    blank = [k for k, v in fields.items() if k.endswith("-identifier") and not v]
    assert blank and blank[0] != "recipients-0-identifier"  # a row to type the next one in
    assert fields["recipients-0-identifier"] == BRAM.ssin and fields["title"] == "Voor twee"
    assert "Bram" in row_html(more.text, 0)  # the one picked, by name
    assert "Add at least one recipient." not in more.text  # not validated yet


@pytest.mark.parametrize(
    ("identifier", "quality", "field", "sentence"),
    [
        (NOBODY_INSS, "DOCTOR", "identifier", "eHealthBox knows no box with this identifier."),
        (BRAM.ssin, "DOCTOR", "quality", "eHealthBox has no box with this identifier and quality."),
    ],
)
def test_eHealthBox_refuses_a_recipient(live_app, alice, identifier, quality, field, sentence):
    page = compose_and_send(
        alice,
        {**to(BRAM, identifier=identifier, quality=quality), "title": "Verslag"},
        files=[REPORT],
    )
    assert page.status_code == 422
    assert "One of the recipients is not a valid eHealthBox address." in page.text
    row = row_html(page.text, 0)
    assert sentence in row
    assert row.index(f'id="recipients-0-{field}"') < row.index(sentence)
    assert "Kept: verslag.pdf" in page.text
    assert form_fields(page.text, "/box/compose")["title"] == "Verslag"


def test_a_message_too_large_for_eHealthBox(live_app, alice):
    context = live_app.app.extensions["sandbox_app"].extensions["sandbox_ehealthbox"]
    context.settings = dataclasses.replace(context.settings, max_message_bytes=50_000)
    page = compose_and_send(
        alice,
        {**to(BRAM), "title": "Scan"},
        files=[("document", ("scan.pdf", b"%PDF" * 20_000, "application/pdf"))],
    )
    assert page.status_code == 413  # the failure table's, as the API answers
    assert "The message is larger than the eHealthBox accepts" in page.text
    assert "Kept: scan.pdf (78.1 kB)" in page.text


def test_a_damaged_upload_can_be_sent_again(live_app, alice):
    sb = sandbox_of(live_app)
    sb.fault(operation="send", status=422, code="816")
    page = compose_and_send(alice, {**to(BRAM), "title": "Beschadigd?"}, files=[REPORT])
    assert "A file was damaged on its way to the eHealthBox" in page.text
    again = post_compose(alice, page, {"send": "Send"})
    assert "Message sent." in again.text
    assert inbox_titles(sb, "nurse-bram").count("Beschadigd?") == 1


def test_out_of_office_recipients_and_their_substitutes(live_app, alice):
    sb = sandbox_of(live_app)
    today = date.today()
    sb.client("nurse-bram").add_out_of_office(
        today, today + timedelta(days=7), [BoxId(CHLOE.ssin, "INSS", "DOCTOR")]
    )
    page = compose_and_send(alice, {**to(BRAM), "title": "Tijdens verlof", "text": "Info"})
    assert page.status_code == 409  # the failure table's, as the API answers
    assert "Some recipients are out of office. Nothing was sent yet." in page.text
    row = row_html(page.text, 0)
    assert f"to {today + timedelta(days=7):%d/%m/%Y}" in row and CHLOE.last_name in row
    assert 'name="recipients-0-send_anyway"' in row
    assert "Tijdens verlof" not in inbox_titles(sb, "nurse-bram")

    sent = post_compose(alice, page, {"recipients-0-send_anyway": "y", "send": "Send"})
    assert "Message sent." in sent.text and "is out of office until" in sent.text
    assert inbox_titles(sb, "nurse-bram").count("Tijdens verlof") == 1


def test_eHealthBox_unavailable_keeps_the_form_and_the_files(live_app, alice):
    sb = sandbox_of(live_app)
    sb.fault(operation="send", status=503)
    annex = ("annexes", ("bijlage.txt", b"bijlage " * 100, "text/plain"))
    page = compose_and_send(
        alice,
        {**to(BRAM), "title": "Later", "free_text": "Zie bijlage", "read_receipt": "y"},
        files=[REPORT, annex],
    )
    assert page.status_code == 503
    assert "The eHealthBox is not available at the moment." in page.text
    assert "Kept: verslag.pdf" in page.text and "Kept: bijlage.txt (800 bytes)" in page.text
    fields = form_fields(page.text, "/box/compose")
    assert fields["free_text"] == "Zie bijlage" and fields["read_receipt"] == "y"

    # Send again without choosing the files again: they were kept on the server.
    sent = post_compose(alice, page, {"send": "Send"})
    assert "Message sent." in sent.text
    bram = sb.client("nurse-bram")
    copy = next(m for m in bram.iter_messages() if m.title == "Later")
    with bram.open_document(copy.message_id) as download:
        assert download.read() == b"%PDF-1.4 report"
    with bram.open_annex(copy.message_id, 1) as download:
        assert download.read() == b"bijlage " * 100


def test_kept_files_can_be_removed(alice):
    annex = ("annexes", ("weg.txt", b"weg", "text/plain"))
    page = compose_and_send(alice, {**to(BRAM)}, files=[REPORT, annex])  # no title: refused
    assert "Kept: weg.txt" in page.text
    keys = dict(re.findall(r'Kept: ([\w.]+) .*?name="remove_kept" value="(f\d)"', page.text, re.S))
    assert set(keys) == {"verslag.pdf", "weg.txt"}
    again = post_compose(alice, page, {"remove_kept": keys["weg.txt"]})
    assert "Kept: verslag.pdf" in again.text and "weg.txt" not in again.text


def test_a_lost_answer_is_confirmed_by_sending_again_and_delivered_once(make_live_app):
    live = make_live_app({"HTTP_TIMEOUT": "1"})
    sb = sandbox_of(live)
    alice = Browser(live)
    alice.login("dr-alice")
    sb.fault(operation="send", delay=2, times=1)  # stored, but the answer comes too late
    page = compose_and_send(alice, {**to(BRAM), "title": "Eén keer", "text": "Hallo"})
    assert page.status_code == 504  # the failure table's, as the API answers
    assert "We could not confirm that the message was sent." in page.text
    assert form_fields(page.text, "/box/compose")["title"] == "Eén keer"

    # Sent again while the first answer is still on its way: eHealthBox knows the PublicationId.
    sent = post_compose(alice, page, {"send": "Send"})
    assert "Message sent." in sent.text and "delivered once" in sent.text
    assert inbox_titles(sb, "nurse-bram").count("Eén keer") == 1


def test_a_login_that_expires_while_sending_loses_nothing(live_app, alice):
    sb = sandbox_of(live_app)
    page = alice.get(alice.url("/box/compose"))
    # The access token has expired and the refresh is refused: the user must log in again.
    store = live_app.app.extensions["services"].store
    key = "session:" + alice.cookies["ehbox_session"]
    session = store.get(key)
    session["tokens"].update(expires_at=0, refresh_token="no-longer-valid")
    store.set(key, session, 3600)

    login = post_compose(
        alice, page, {**to(BRAM), "title": "Na herlogin", "send": "Send"}, files=[REPORT]
    )
    assert "/sandbox/auth/" in login.url  # at the realm's login page
    back = alice.submit(login, "username", {"username": "dr-alice"})
    assert urlsplit(back.url).path == "/box/compose" and "draft=" in back.url
    assert form_fields(back.text, "/box/compose")["title"] == "Na herlogin"
    assert "Kept: verslag.pdf" in back.text
    sent = post_compose(alice, back, {"send": "Send"})
    assert "Message sent." in sent.text
    assert inbox_titles(sb, "nurse-bram").count("Na herlogin") == 1


def test_uploads_over_the_limit_are_refused_before_sending(make_live_app):
    live = make_live_app({"MAX_UPLOAD_MB": "1"})
    sb = sandbox_of(live)
    before = bram_total(sb)
    alice = Browser(live)
    alice.login("dr-alice")

    too_big = compose_and_send(
        alice,
        {**to(BRAM), "title": "Groot"},
        files=[("document", ("groot.pdf", b"x" * (1024 * 1024 + 300_000), "application/pdf"))],
    )
    # Read (up to four times the limit), refused next to the file, the form as typed.
    assert too_big.status_code == 422
    assert "“groot.pdf” was not added: the files of one message may add up to 1 MB" in too_big.text
    assert form_fields(too_big.text, "/box/compose")["title"] == "Groot"
    # Too large even to read: a page that says so (the autosave's draft, when there is one:
    # tests/test_nothing_typed_is_lost.py).
    huge = compose_and_send(
        alice,
        {**to(BRAM), "title": "Groot"},
        files=[("document", ("groot.pdf", b"x" * (4 * 1024 * 1024 + 1), "application/pdf"))],
    )
    assert huge.status_code == 413
    assert "The files of one message may add up to 1 MB at most. Nothing was sent." in huge.text

    # Each request under the limit, but together over it: refused at the file input.
    page = compose_and_send(
        alice,
        {**to(BRAM)},
        files=[("annexes", ("deel-1.bin", b"1" * 700_000, "application/octet-stream"))],
    )
    assert "Kept: deel-1.bin" in page.text
    page = post_compose(
        alice,
        page,
        {"title": "Groot", "text": "zie bijlagen", "send": "Send"},
        files=[("annexes", ("deel-2.bin", b"2" * 700_000, "application/octet-stream"))],
    )
    assert page.status_code == 422
    assert "“deel-2.bin” was not added: the files of one message may add up to 1 MB" in page.text
    assert bram_total(sb) == before


def test_a_post_without_the_csrf_token_is_refused(live_app, alice):
    sb = sandbox_of(live_app)
    before = bram_total(sb)
    page = alice.get(alice.url("/box/compose"))
    fields = {
        **form_fields(page.text, "/box/compose"),
        **to(BRAM),
        "title": "CSRF",
        "text": "x",
        "send": "Send",
    }
    del fields["csrf_token"]
    refused = alice.post(alice.url("/box/compose"), data=fields)
    assert refused.status_code == 400 and "Form expired" in refused.text
    assert bram_total(sb) == before


def test_drafts_expire(tmp_path):
    owner = tmp_path / ("0" * 32)  # an owner folder is named by a hash
    old, fresh = owner / "OLD0000000001", owner / "NEW0000000001"
    for draft in (old, fresh):
        draft.mkdir(parents=True)
        (draft / "meta.json").write_text("{}")
    store = DraftStore(tmp_path, 1024)
    assert store.purge_expired(now=time.time() + 60) == 0
    future = time.time() + DRAFT_LIFETIME + 1
    os.utime(fresh / "meta.json", (future, future))
    assert store.purge_expired(now=future) == 1
    assert fresh.exists() and not old.exists()


def test_a_send_over_the_rate_limit_keeps_the_form_and_the_files(make_live_app):
    live = make_live_app({"RATE_LIMIT_SEND": "1/minute"})
    with Browser(live) as alice:
        alice.login("dr-alice")
        first = compose_and_send(alice, {**to(BRAM), "title": "Eerste", "text": "..."})
        assert "Message sent." in first.text
        page = compose_and_send(
            alice, {**to(BRAM), "title": "Tweede", "free_text": "Nog getypt"}, files=[REPORT]
        )
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert "You did this more than 1 times in 60 seconds." in page.text
    assert "Kept: verslag.pdf" in page.text
    fields = form_fields(page.text, "/box/compose")
    assert fields["title"] == "Tweede" and fields["free_text"] == "Nog getypt"
    assert "Tweede" not in inbox_titles(sandbox_of(live), "nurse-bram")


def test_finding_colleagues_does_not_use_up_the_sends(make_live_app):
    """A search, a pick or Save draft arranges the form: it counts under the actions' limit,
    not the sends', and a search refused by that limit comes back with its text."""
    live = make_live_app({"RATE_LIMIT_SEND": "1/minute", "RATE_LIMIT_ACTIONS": "3/minute"})
    with Browser(live) as alice:
        alice.login("dr-alice")
        page = alice.get(alice.url("/box/compose"), timeout=10)
        for _ in range(3):  # more posts than the send limit allows
            page = post_compose(alice, page, {"find": "Peeters", "add_found": "1"})
            assert page.status_code == 200
        sent = post_compose(
            alice, page, {**to(BRAM), "send": "Send", "title": "Na het zoeken", "text": "..."}
        )
        assert sent.status_code == 200 and "/box/SENTBOX/" in sent.url, sent.text[-2000:]

        page = alice.get(alice.url("/box/compose"), timeout=10)
        refused = post_compose(alice, page, {"find": "Janssens", "add_found": "1"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert form_fields(refused.text, "/box/compose")["find"] == "Janssens"
