"""/api/v1/drafts: the same drafts as the pages, kept, read, changed, deleted and sent once.

Over real HTTP against the sandbox, every answer checked against the OpenAPI document.
"""

from __future__ import annotations

import pytest
from conftest import Browser
from test_api import BRAM, Api, checker, public_client_token  # noqa: F401  (fixture)
from test_mailbox import BRAM as BRAM_BOX
from test_mailbox import form_fields, inbox_titles, post_compose, sandbox_of, to

LETTER = {
    "recipients": [BRAM],
    "title": "Verband verversen",
    "text": "Beste Bram,\nom de twee dagen.",
    "freeText": "Na de ingreep",
    "patientInss": "85071212390",
    "important": True,
    "receipts": ["read"],
}


@pytest.fixture
def alice(live_app, checker):  # noqa: F811
    return Api(live_app, public_client_token(live_app, "dr-alice"), checker)


def test_a_draft_is_kept_read_changed_listed_and_sent_once(live_app, alice, checker):  # noqa: F811
    kept = alice("POST", "/drafts", json={"title": "Half geschreven"})
    assert kept.status_code == 201
    draft = kept.json()
    pid = draft["publicationId"]
    assert draft["title"] == "Half geschreven" and draft["recipients"] == []

    changed = alice("POST", f"/drafts/{pid}", json=LETTER)
    assert changed.status_code == 200
    read = alice("GET", f"/drafts/{pid}").json()
    for name, value in LETTER.items():
        assert read[name] == value, name
    assert read["encrypted"] is False and read["annexes"] == []
    assert [d["publicationId"] for d in alice("GET", "/drafts").json()["drafts"]] == [pid]

    sent = alice("POST", f"/drafts/{pid}/send")
    assert sent.status_code == 201, sent.text
    assert sent.json()["publicationId"] == pid  # sent under the draft's PublicationId
    assert alice("GET", f"/drafts/{pid}").status_code == 404  # sent: no longer a draft
    assert alice("GET", "/drafts").json()["drafts"] == []
    assert inbox_titles(sandbox_of(live_app), "nurse-bram").count("Verband verversen") == 1


def test_a_lost_answer_keeps_the_draft_and_sending_it_again_delivers_once(make_live_app, checker):  # noqa: F811
    live = make_live_app({"HTTP_TIMEOUT": "1"})
    alice = Api(live, public_client_token(live, "dr-alice"), checker)
    pid = alice("POST", "/drafts", json={**LETTER, "title": "Eén keer"}).json()["publicationId"]
    sb = sandbox_of(live)
    sb.fault(operation="send", delay=2, times=1)  # stored, but the answer comes too late
    lost = alice("POST", f"/drafts/{pid}/send")
    assert lost.status_code == 504, lost.text
    assert alice("GET", f"/drafts/{pid}").json()["title"] == "Eén keer"  # kept
    again = alice("POST", f"/drafts/{pid}/send")
    assert again.status_code in (200, 201), again.text
    assert again.json()["publicationId"] == pid
    assert inbox_titles(sb, "nurse-bram").count("Eén keer") == 1


def test_page_and_api_share_the_drafts(live_app):
    with Browser(live_app) as page_user:
        page_user.login("dr-alice")
        compose = page_user.get(page_user.url("/box/compose"), timeout=10)
        pid = form_fields(compose.text, "/box/compose")["publication_id"]
        fields = {**to(BRAM_BOX), "title": "Op de pagina", "text": "Hallo", "save_draft": "y"}
        annex = ("annexes", ("wondzorg.txt", b"Wondzorg\n", "text/plain"))
        saved = post_compose(page_user, compose, fields, files=[annex])
        assert saved.status_code == 200

        csrf = {"X-CSRFToken": page_user.csrf_token("/"), "Accept": "application/json"}
        api = page_user.url("/api/v1/drafts")
        listed = page_user.get(api, headers=csrf, timeout=10).json()["drafts"]
        assert [(d["publicationId"], d["title"]) for d in listed] == [(pid, "Op de pagina")]
        assert listed[0]["recipients"][0]["id"] == BRAM["id"]
        assert listed[0]["annexes"] == [
            {"filename": "wondzorg.txt", "mimeType": "text/plain", "size": 9}
        ]

        # Changed through the API: the page reopens it so, and the annex is still kept.
        body = {**LETTER, "title": "Via de API"}
        assert page_user.post(f"{api}/{pid}", json=body, headers=csrf, timeout=10).ok
        reopened = page_user.get(page_user.url(f"/box/compose?draft={pid}"), timeout=10)
        form = form_fields(reopened.text, "/box/compose")
        assert form["title"] == "Via de API" and form["free_text"] == "Na de ingreep"
        assert form["recipients-0-identifier"] == BRAM["id"] and form["is_important"] == "y"
        assert "wondzorg.txt" in reopened.text

        sent = page_user.post(f"{api}/{pid}/send", headers=csrf, timeout=30)
        assert sent.status_code == 201, sent.text
        copy = page_user.url(f"/api/v1/messages/{sent.json()['messageId']}?folder=SENTBOX")
        annexes = page_user.get(copy, headers=csrf, timeout=10).json()["annexes"]
        assert [a["downloadFileName"] for a in annexes] == ["wondzorg.txt"]
    assert inbox_titles(sandbox_of(live_app), "nurse-bram").count("Via de API") == 1


def test_bad_drafts_are_refused_and_nothing_is_lost(live_app, alice, checker):  # noqa: F811
    assert alice("GET", "/drafts/AAAAAAAAAAAAA").status_code == 404
    assert alice("DELETE", "/drafts/AAAAAAAAAAAAA").status_code == 404
    assert alice("POST", "/drafts/AAAAAAAAAAAAA/send").status_code == 404
    assert alice("GET", "/drafts/not-an-id").status_code == 400
    bad = alice("POST", "/drafts", json={"title": 7, "receipts": ["never"]})
    assert bad.status_code == 422
    assert {p["name"] for p in bad.json()["invalidParams"]} >= {"title", "receipts[0]"}

    pid = alice("POST", "/drafts", json={"title": "Nog geen ontvanger"}).json()["publicationId"]
    refused = alice("POST", f"/drafts/{pid}/send")
    assert refused.status_code == 422
    assert "recipients" in {p["name"] for p in refused.json()["invalidParams"]}
    assert alice("GET", f"/drafts/{pid}").json()["title"] == "Nog geen ontvanger"

    bram = Api(live_app, public_client_token(live_app, "nurse-bram"), checker)
    assert bram("GET", f"/drafts/{pid}").status_code == 404  # one's own drafts only
    assert bram("GET", "/drafts").json()["drafts"] == []

    assert alice("DELETE", f"/drafts/{pid}").status_code == 204
    assert alice("GET", f"/drafts/{pid}").status_code == 404
