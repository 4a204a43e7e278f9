"""The mailbox layer on its own: the rules the pages, the API and the CLI share, tested once."""

from __future__ import annotations

import io

import pytest

from ehbox_webapp.mailbox import rules
from ehbox_webapp.mailbox.names import safe_filename, safe_mime_type
from ehbox_webapp.mailbox.outgoing import (
    Upload,
    delete_request,
    folder,
    move_request,
    outgoing_message,
    page_number,
)
from ehbox_webapp.mailbox.problems import Invalid

BRAM = {"type": "INSS", "id": "79031545695", "quality": "NURSE"}


def problems(values, **kwargs) -> dict[str, str]:
    with pytest.raises(Invalid) as caught:
        outgoing_message(values, **kwargs)
    return {p.field: p.code for p in caught.value.problems}


def test_a_valid_message_is_built_with_its_receipts_and_subtype():
    hospital = {"type": "NIHII", "id": "71000436", "quality": "HOSPITAL"}
    sent = outgoing_message(
        {"recipients": [BRAM, hospital], "title": " Labo ", "text": "Bonjour", "receipts": ["read"]}
    )
    message = sent.message
    assert message.title == "Labo" and message.text == "Bonjour"
    assert message.recipients[1].sub_type == "HOSPITAL"
    spec = message.content_specification
    assert spec.read_receipt and not spec.publication_receipt and not spec.received_receipt
    assert rules.is_publication_id(message.publication_id)


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("title", ["a"], "not-a-text"),
        ("title", "x" * (rules.TITLE_MAX + 1), "too-long"),
        ("title", "a\x00b", "control-characters"),
        ("text", "a\x00b", "control-characters"),
        ("freeText", {"a": 1}, "not-a-text"),
        ("receipts", "read", "not-a-list"),
        ("receipts", [[1]], "not-a-list"),
        ("receipts", ["published"], "unknown"),
        ("publicationId", "a-b", "pattern"),
        ("important", "yes", "not-a-boolean"),
        ("patientInss", "85071212391", "check-digits"),
        ("recipients", [BRAM] * (rules.MAX_RECIPIENTS + 1), "too-many"),
        ("recipients", BRAM, "not-a-list"),
    ],
)
def test_each_rule_names_its_field_with_a_code(field, value, code):
    found = problems({"recipients": [BRAM], "title": "T", "text": "x", field: value})
    assert found[field] == code


def test_full_width_digits_are_not_an_inss():
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in "85071212390")
    found = problems({"recipients": [{**BRAM, "id": full_width}], "title": "T", "text": "x"})
    assert found["recipients[0].id"] == "check-digits"


def test_a_document_or_a_text():
    assert problems({"recipients": [BRAM], "title": "T"})["document"] == "one-of"
    both = Upload(io.BytesIO(b"%PDF"), "a.pdf", "application/pdf")
    found = problems({"recipients": [BRAM], "title": "T", "text": "x"}, document=both)
    assert found["document"] == "one-of"


def test_upload_names_are_cleaned_and_types_checked():
    hostile = Upload(io.BytesIO(b"%PDF"), "..\\evil\r\nX-Injected: 1.html", "text/html")
    sent = outgoing_message({"recipients": [BRAM], "title": "T"}, document=hostile)
    assert sent.message.document.filename == "evil X-Injected_ 1.html"
    bad_type = Upload(io.BytesIO(b"x"), "a.txt", "not a type")
    found = problems({"recipients": [BRAM], "title": "T"}, document=bad_type)
    assert found == {"document.mimeType": "bad-mime-type"}


@pytest.mark.parametrize("value", ["²", "①", "0", "-1", "65850175890418786304", "1.5"])
def test_page_numbers_are_ascii_and_bounded(value):
    with pytest.raises(Invalid):
        page_number(value, "page", 1, rules.MAX_PAGE)


def test_folders_moves_and_deletes():
    assert folder("inbox") == "INBOX" and folder(None, default="INBOX") == "INBOX"
    with pytest.raises(Invalid):
        folder("DRAFTS")
    for body in ([1], "x", None):
        with pytest.raises(Invalid):
            move_request(body)
        with pytest.raises(Invalid):
            delete_request(body)
    with pytest.raises(Invalid) as refused:
        move_request({"folder": "INBOX", "destination": "SENTBOX", "messageIds": ["a"]})
    assert refused.value.problems[0].code == "move-not-allowed"
    wanted = delete_request({"folder": "BININBOX", "messageIds": ["a", "a", "b"]})
    assert wanted.message_ids == ["a", "b"]


@pytest.mark.parametrize(
    "stored, shown", [("text/plain", "text/plain"), ('"><script>', "application/octet-stream")]
)
def test_mime_types_on_the_way_in(stored, shown):
    assert safe_mime_type(stored) == shown


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("message.json", "message.json"),
        (".bashrc", "bashrc"),
        ("CON.txt", "_CON.txt"),
        ("a\x00b<c>.pdf", "a_b_c_.pdf"),
        ("", "file"),
        ("..", "file"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected
