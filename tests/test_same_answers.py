"""The same message sent through the page and through /api/v1 meets the same checks.

Both entry points hand their values to the mailbox layer (`outgoing_message` and
`Mailbox.send`): the API answers a 422 naming the field, the page answers a 422 with the
sentence next to that field, and nothing is delivered either way. The rules themselves are
tested once, at the mailbox layer (tests/test_mailbox_layer.py); here each bad input goes
through both entry points, over real HTTP against the sandbox.
"""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from conftest import Browser
from test_api import Api, checker, public_client_token  # noqa: F401  (fixture)
from test_mailbox import BRAM, form_fields, inbox_titles, post_compose, sandbox_of, to

from ehbox_webapp.mailbox import rules

RECIPIENT = {"type": "INSS", "id": BRAM.ssin, "quality": BRAM.quality}
PDF = ("brief.pdf", b"%PDF-1.4\n", "application/pdf")

# (name, API message values, page fields, a file (name, bytes, type) or None,
#  the field the API names, the page field the sentence stands by, the sentence)
CASES = [
    (
        "a control character in the title",
        {"title": "Uitslag\x07 bloed", "text": "x"},
        {"title": "Uitslag\x07 bloed", "text": "x"},
        None,
        "title",
        "title",
        "Remove the control characters (invisible characters) from this field.",
    ),
    (
        "a title over the limit",
        {"title": "T" * (rules.TITLE_MAX + 1), "text": "x"},
        {"title": "T" * (rules.TITLE_MAX + 1), "text": "x"},
        None,
        "title",
        "title",
        f"At most {rules.TITLE_MAX} characters.",
    ),
    (
        "no title",
        {"title": "", "text": "x"},
        {"title": "", "text": "x"},
        None,
        "title",
        "title",
        "Give the message a title.",
    ),
    (
        "a control character in the text",
        {"title": "Verslag", "text": "a\x00b"},
        {"title": "Verslag", "text": "a\x00b"},
        None,
        "text",
        "text",
        "Remove the control characters (invisible characters) from this field.",
    ),
    (
        "free text over the limit",
        {"title": "Verslag", "text": "x", "freeText": "v" * (rules.FREE_TEXT_MAX + 1)},
        {"title": "Verslag", "text": "x", "free_text": "v" * (rules.FREE_TEXT_MAX + 1)},
        None,
        "freeText",
        "free_text",
        f"At most {rules.FREE_TEXT_MAX:,} characters.",
    ),
    (
        "a patient INSS with wrong check digits",
        {"title": "Verslag", "text": "x", "patientInss": "85071212391"},
        {"title": "Verslag", "text": "x", "patient_inss": "85071212391"},
        None,
        "patientInss",
        "patient_inss",
        "The patient's INSS must have 11 digits with valid check digits.",
    ),
    (
        "a document and a text",
        {"title": "Verslag", "text": "x"},
        {"title": "Verslag", "text": "x"},
        PDF,
        "document",
        "text",
        "Send either the document or this text, not both",
    ),
    (
        "a document that is not a MIME type",
        {"title": "Verslag"},
        {"title": "Verslag"},
        ("brief.pdf", b"%PDF-1.4\n", "pdf please"),
        "document.mimeType",
        "document",
        "This file's type is not a MIME type (type/subtype).",
    ),
]

# A recipient's problems: (name, the recipient, the API's field, the page's field, sentence).
RECIPIENTS = [
    (
        "an INSS with wrong check digits",
        {"type": "INSS", "id": "79031545696", "quality": "NURSE"},
        "recipients[0].id",
        "recipients-0-identifier",
        "The INSS number must have 11 digits with valid check digits.",
    ),
    (
        "no quality",
        {"type": "INSS", "id": BRAM.ssin, "quality": ""},
        "recipients[0].quality",
        "recipients-0-quality",
        "Choose the recipient's quality.",
    ),
    (
        "a quality eHealthBox does not know",
        {"type": "INSS", "id": BRAM.ssin, "quality": "WIZARD"},
        "recipients[0].quality",
        "recipients-0-quality",
        "The quality “WIZARD” is not an eHealthBox quality.",
    ),
]


@pytest.fixture
def entry_points(live_app, checker):  # noqa: F811
    api = Api(live_app, public_client_token(live_app, "dr-alice"), checker)
    with Browser(live_app) as page:
        page.login("dr-alice")
        yield api, page


def api_send(api: Api, message: dict, file: tuple | None):
    files = {"message": (None, json.dumps(message), "application/json")}
    if file is not None:
        files["document"] = file
    return api("POST", "/messages", files=files)


def page_send(page: Browser, fields: dict, file: tuple | None):
    compose = page.get(page.url("/box/compose"), timeout=10)
    files = [("document", file)] if file is not None else None
    return post_compose(page, compose, fields, files=files)


def field_errors(html: str, field_id: str) -> str:
    """The text of the page's error sentences next to the control `field_id`."""
    match = re.search(rf'id="{re.escape(field_id)}"(.*?)</div>', html, re.S)
    assert match, f"no field {field_id}"
    return unescape(" ".join(re.findall(r'class="field-error"[^>]*>(.*?)<', match.group(1))))


def api_fields(answer) -> set[str]:
    return {p["name"] for p in answer.json().get("invalidParams", [])}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_bad_message_is_refused_alike(live_app, entry_points, case):
    api, page = entry_points
    name, api_values, page_fields, file, api_field, page_field, sentence = case
    title = api_values.get("title") or ""
    by_api = api_send(api, {"recipients": [RECIPIENT], **api_values}, file)
    assert by_api.status_code == 422, by_api.text
    assert api_field in api_fields(by_api)
    by_page = page_send(page, {**to(BRAM), **page_fields}, file)
    assert by_page.status_code == 422
    assert sentence in field_errors(by_page.text, page_field), name
    if title:
        assert title not in inbox_titles(sandbox_of(live_app), "nurse-bram")


@pytest.mark.parametrize("case", RECIPIENTS, ids=[c[0] for c in RECIPIENTS])
def test_a_bad_recipient_is_refused_alike(entry_points, case):
    api, page = entry_points
    name, recipient, api_field, page_field, sentence = case
    by_api = api_send(api, {"recipients": [recipient], "title": "Aan wie", "text": "x"}, None)
    assert by_api.status_code == 422, by_api.text
    assert api_field in api_fields(by_api)
    row = {
        "recipients-0-type": recipient["type"],
        "recipients-0-identifier": recipient["id"],
        "recipients-0-quality": recipient["quality"],
    }
    by_page = page_send(page, {**row, "title": "Aan wie", "text": "x"}, None)
    assert by_page.status_code == 422
    assert sentence in field_errors(by_page.text, page_field), name


def test_the_same_good_message_is_delivered_alike(live_app, entry_points):
    api, page = entry_points
    by_api = api_send(api, {"recipients": [RECIPIENT], "title": "Via de API", "text": "x"}, None)
    assert by_api.status_code == 201, by_api.text
    by_page = page_send(page, {**to(BRAM), "title": "Via de pagina", "text": "x"}, None)
    assert by_page.status_code == 200 and "Message sent." in by_page.text
    titles = inbox_titles(sandbox_of(live_app), "nurse-bram")
    assert titles.count("Via de API") == 1 and titles.count("Via de pagina") == 1


def test_a_refused_page_send_keeps_what_was_typed(entry_points):
    _api, page = entry_points
    typed = {**to(BRAM), "title": "Uitslag\x07", "text": "Beste Bram", "free_text": "Nota"}
    refused = page_send(page, typed, None)
    fields = form_fields(refused.text, "/box/compose")
    assert fields["text"] == "Beste Bram" and fields["free_text"] == "Nota"
    assert fields["recipients-0-identifier"] == BRAM.ssin


# --- find-by-name: the compose page's search, the out-of-office page's and /api/v1/contacts --
def _page_choices(page: Browser, path: str, text: str) -> list[str]:
    shown = page.get(page.url(path), timeout=10)
    fields = {**form_fields(shown.text, path), "find": text, "add_found": "1"}
    answer = page.post(page.url(path), data=fields, timeout=30)
    assert answer.status_code == 200
    return re.findall(r'<button type="submit" name="pick" value="([^"]+)"', answer.text)


def _key(contact: dict) -> str:
    box = contact["box"]
    kind = f"{box['type']}-{box['subType']}" if box.get("subType") else box["type"]
    return f"{kind}:{box['id']}:{box['quality']}"


@pytest.mark.parametrize("text", ["Janssens", "Cardiologie"])
def test_a_name_finds_the_same_people_on_the_pages_and_through_the_api(entry_points, text):
    api, page = entry_points
    by_api = api("GET", "/contacts", params={"q": text, "lang": "en"})
    assert by_api.status_code == 200, by_api.text
    expected = [_key(c) for c in by_api.json()["contacts"]]
    assert len(expected) > 1  # a choice to make, past correspondents and the AddressBook's
    assert _page_choices(page, "/box/compose", text) == expected
    assert _page_choices(page, "/box/out-of-office", text) == expected
