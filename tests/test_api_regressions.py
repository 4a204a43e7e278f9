"""Each failure once found in /api/v1 and the folder pages, as a test of its own.

Every answer is also checked against the OpenAPI document (`Api` in test_api.py): a status
the document does not list fails the test as surely as a 500.
"""

from __future__ import annotations

import json
import logging

import pytest
import requests
from conftest import Browser
from ehbox_fixtures import sandbox_of
from openapi_check import OpenApiChecker
from test_api import BRAM, Api, public_client_token, send_text

from ehbox_webapp.mailbox.names import safe_filename
from ehbox_webapp.web.api.openapi import openapi_document


@pytest.fixture
def checker():
    return OpenApiChecker(openapi_document(), "/api/v1")


@pytest.fixture
def alice(live_app, checker):
    return Api(live_app, public_client_token(live_app, "dr-alice"), checker)


def names(response) -> set[str]:
    return {p["name"] for p in response.json()["invalidParams"]}


def test_a_move_body_that_is_not_an_object_is_a_422(alice):
    assert alice("POST", "/messages/move", json=[1]).status_code == 422


def test_a_delete_body_that_is_not_an_object_is_a_422(alice):
    assert alice("POST", "/messages/delete", json="INBOX").status_code == 422


def test_receipts_made_of_lists_are_a_422(alice):
    response = send_text(alice, "Receipts", receipts=[[1]])
    assert response.status_code == 422 and "receipts[0]" in names(response)


def test_receipts_as_a_string_are_a_422_not_a_set_of_letters(alice):
    response = send_text(alice, "Receipts", receipts="read")
    assert response.status_code == 422 and "receipts" in names(response)


@pytest.mark.parametrize("query", ["page=²", "pageSize=①", "page=٣"])
def test_unicode_digits_in_paging_are_a_400(alice, query):
    assert alice("GET", f"/messages?{query}").status_code == 400


def test_unicode_digits_on_the_folder_page_are_not_found(live_app):
    with Browser(live_app) as browser:
        browser.login("dr-alice")
        assert browser.get(browser.url("/box/INBOX?page=²")).status_code == 404


def test_unicode_digits_in_the_sandbox_paging_are_a_400(live_app):
    response = sandbox_of(live_app).raw(
        "GET", "/messages", params={"folder": "INBOX", "startIndex": "²", "endIndex": "5"}
    )
    assert response.status_code == 400


def test_a_huge_page_number_is_a_400_not_an_outage(alice):
    assert alice("GET", "/messages?page=65850175890418786304").status_code == 400


def test_an_unexpected_error_is_one_traceback_and_a_problem_document(
    live_app, alice, monkeypatch, caplog
):
    from ehbox_webapp.mailbox.actions import Mailbox

    def broken(self):
        raise RuntimeError("a bug")

    monkeypatch.setattr(Mailbox, "box_info", broken, raising=False)
    with caplog.at_level(logging.ERROR):
        response = requests.get(
            f"{live_app.url}/api/v1/box",
            headers={"Authorization": f"Bearer {alice.token}"},
            timeout=10,
        )
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 500
    assert len([r for r in caplog.records if r.exc_info]) == 1


def test_a_title_that_is_a_list_is_a_422(alice):
    response = send_text(alice, ["a"])
    assert response.status_code == 422 and "title" in names(response)


def test_free_text_that_is_an_object_is_a_422(alice):
    response = send_text(alice, "Free text", freeText={"a": 1})
    assert response.status_code == 422 and "freeText" in names(response)


def test_nul_in_a_title_is_a_422(alice):
    response = send_text(alice, "Ti\x00tle")
    assert response.status_code == 422 and "title" in names(response)


def test_nul_in_a_text_is_a_422(alice):
    response = send_text(alice, "NUL text", text="Bon\x00jour")
    assert response.status_code == 422 and "text" in names(response)


def test_a_full_width_digit_inss_is_a_422(alice):
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in BRAM["id"])
    response = send_text(alice, "Full width", recipients=[{**BRAM, "id": full_width}])
    assert response.status_code == 422 and "recipients[0].id" in names(response)


def test_an_upload_name_with_cr_lf_and_backslashes_can_be_downloaded(live_app, alice, checker):
    hostile = "..\\evil\r\nX-Injected: 1.html"
    message = {"recipients": [BRAM], "title": "Evil annex", "text": "Bonjour"}
    sent = alice(
        "POST",
        "/messages",
        files=[
            ("message", (None, json.dumps(message), "application/json")),
            ("annex", (hostile, b"<b>hi</b>", "text/html")),
        ],
    )
    assert sent.status_code == 201, sent.text
    bram = Api(live_app, public_client_token(live_app, "nurse-bram"), checker)
    newest = bram("GET", "/messages?pageSize=1").json()["messages"][0]
    shown = bram("GET", f"/messages/{newest['messageId']}").json()
    name = shown["annexes"][0]["downloadFileName"]
    assert name == safe_filename(name) and name.endswith(".html")
    assert not any(c in name for c in "\r\n\\/")
    download = bram("GET", f"/messages/{newest['messageId']}/annexes/1")
    assert download.status_code == 200 and download.content == b"<b>hi</b>"


@pytest.mark.parametrize(
    "path, method, status",
    [
        ("/messages", "get", "400"),
        ("/messages/{messageId}", "get", "400"),
        ("/messages/{messageId}/document", "get", "400"),
        ("/messages/{messageId}/annexes/{index}", "get", "400"),
        ("/messages/{messageId}", "delete", "400"),
        ("/messages/{messageId}/acknowledgments", "get", "422"),
        ("/messages", "post", "429"),
    ],
)
def test_the_document_lists_the_statuses_once_missing(path, method, status):
    assert status in openapi_document()["paths"][path][method]["responses"]
