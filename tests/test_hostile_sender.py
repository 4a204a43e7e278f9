"""Mail from a hostile sender still opens: names and types are made safe on the way in.

Alice's own eHealthBox client writes straight into the sandbox eHealthBox (no page, no API:
nothing of the app cleans what she sends), with a document and an annex whose names hold
CR/LF, NUL, `..\\` and a header of their own, and whose MIME types are not MIME types. The
sandbox keeps what it is sent, as the platform would. Bram, and the organisation, then list,
open and download it through the pages, `/api/v1` and `m2m poll`.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import Browser
from ehbox_fixtures import sandbox_of
from test_api import public_client_token

from ehbox_webapp.ehealth.ehealthbox import (
    Attachment,
    ContentSpecification,
    NewMessage,
    Recipient,
)
from ehbox_webapp.mailbox.names import safe_filename
from ehbox_webapp.sandbox.personas import ORGANISATIONS, persona

BRAM = persona("nurse-bram")
ORG = ORGANISATIONS[0]
DOCUMENT_NAME = "..\\..\\evil\r\nX-Injected: 1\x00.html"
ANNEX_NAME = "../../etc/\r\npasswd\x00"
BAD_TYPE = "text/html\r\nX-Injected: 1"
DOCUMENT, ANNEX = b"<html>not a page of this site</html>", b"root:x:0:0"


@pytest.fixture
def hostile(live_app):
    """A message written straight into the sandbox eHealthBox for Bram and the organisation."""
    alice = sandbox_of(live_app).client("dr-alice")
    sent = alice.send(
        NewMessage(
            recipients=[
                Recipient(BRAM.ssin, "INSS", BRAM.quality),
                Recipient(ORG.identifier, "CBE", "INSTITUTION"),
            ],
            title="Hostile names",
            document=Attachment(DOCUMENT, DOCUMENT_NAME, BAD_TYPE),
            annexes=[Attachment(ANNEX, ANNEX_NAME, "not a type")],
            content_specification=ContentSpecification(),
        )
    )
    return sent


def test_the_sandbox_keeps_what_it_was_sent(live_app, hostile):
    bram = sandbox_of(live_app).client("nurse-bram")
    summary = next(s for s in bram.iter_messages() if s.title == "Hostile names")
    raw = bram.get_message(summary.message_id)
    assert raw.document.download_file_name == DOCUMENT_NAME
    assert raw.annexes[0].download_file_name == ANNEX_NAME


def test_pages_list_open_and_download_it(live_app, hostile):
    with Browser(live_app) as browser:
        browser.login("nurse-bram")
        inbox = browser.get(browser.url("/box/INBOX")).text
        assert "Hostile names" in inbox
        message_id = re.search(r'/box/INBOX/([A-Za-z0-9]{13})"[^>]*>\s*Hostile names', inbox)
        message_id = message_id.group(1) if message_id else _newest(browser)
        page = browser.get(browser.url(f"/box/INBOX/{message_id}"))
        assert page.status_code == 200
        assert "\r\nX-Injected" not in page.text and "X-Injected" not in str(page.headers)
        document = browser.get(browser.url(f"/box/INBOX/{message_id}/document"))
        _assert_safe_download(document, DOCUMENT, DOCUMENT_NAME)
        annex = browser.get(browser.url(f"/box/INBOX/{message_id}/annexes/1"))
        _assert_safe_download(annex, ANNEX, ANNEX_NAME)


def _newest(browser) -> str:
    inbox = browser.get(browser.url("/box/INBOX")).text
    return re.findall(r"/box/INBOX/([A-Za-z0-9]{13})", inbox)[0]


def _assert_safe_download(response, content: bytes, sent_name: str) -> None:
    assert response.status_code == 200, response.text
    assert response.content == content
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert "X-Injected" not in response.headers
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "\r" not in disposition
    assert ".." not in disposition and "\\" not in disposition


def test_the_api_lists_opens_and_downloads_it(live_app, hostile):
    token = public_client_token(live_app, "nurse-bram")
    with Browser(live_app) as api:
        api.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
        listed = api.get(live_app.url + "/api/v1/messages?pageSize=5").json()["messages"]
        summary = next(m for m in listed if m["title"] == "Hostile names")
        message = api.get(live_app.url + f"/api/v1/messages/{summary['messageId']}").json()
        assert message["document"]["downloadFileName"] == safe_filename(DOCUMENT_NAME)
        assert message["document"]["mimeType"] == "application/octet-stream"
        assert message["annexes"][0]["downloadFileName"] == safe_filename(ANNEX_NAME)
        base = live_app.url + f"/api/v1/messages/{summary['messageId']}"
        _assert_safe_download(api.get(base + "/document"), DOCUMENT, DOCUMENT_NAME)
        _assert_safe_download(api.get(base + "/annexes/1"), ANNEX, ANNEX_NAME)


def test_m2m_poll_saves_it_with_safe_names(live_app, hostile, tmp_path):
    into = tmp_path / "mail"
    polled = live_app.app.test_cli_runner().invoke(
        args=["ehbox", "m2m", "poll", "--into", str(into), "--once", "--keep", "--interval", "1"]
    )
    assert polled.exit_code == 0, polled.output
    for folder in (p for p in into.iterdir() if p.is_dir() and not p.name.startswith(".")):
        meta = json.loads((folder / "message.json").read_text())
        if meta["message"].get("document", {}).get("title") != "Hostile names":
            continue
        assert meta["message"]["document"]["downloadFileName"] == safe_filename(DOCUMENT_NAME)
        assert (folder / meta["files"]["document"]).read_bytes() == DOCUMENT
        assert (folder / meta["files"]["annexes"][0]).read_bytes() == ANNEX
        assert all(p.parent == folder for p in folder.iterdir())
        break
    else:
        pytest.fail("the hostile message was not saved")
