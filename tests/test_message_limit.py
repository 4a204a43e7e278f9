"""eHealth's 10 MB limit (CONFIRMED), attachments included, with the default settings.

A 10.5 MB message is refused before anything is sent, with the limit named, by the pages,
the API and the CLI; the sandbox eHealthBox refuses it with 801 as the platform does.
A 9.5 MB message is delivered everywhere.
"""

from __future__ import annotations

import json

import pytest
import requests
from conftest import Browser
from test_api import public_client_token
from test_m2m import ALICE_TO, m2m
from test_mailbox import BRAM, compose_and_send, inbox_titles, sandbox_of, to

from ehbox_webapp.ehealth.ehealthbox import (
    MAX_MESSAGE_BYTES,
    Attachment,
    MessageTooLarge,
    NewMessage,
    Recipient,
)

MB = 1024 * 1024
OVER, UNDER = int(10.5 * MB), int(9.5 * MB)


def pdf(size: int) -> bytes:
    return b"%PDF-1.4 " + b"0" * (size - 9)


def sent_titles(sb, who: str) -> list[str]:
    return [m.title for m in sb.client(who).iter_messages("SENTBOX")]


def test_the_platform_limit_is_10_mb_everywhere_by_default(live_app):
    settings = live_app.app.config["SETTINGS"]
    assert MAX_MESSAGE_BYTES == 10 * MB
    assert settings.max_upload_bytes == settings.sandbox_max_message_bytes == 10 * MB
    assert sandbox_of(live_app).settings.max_message_bytes == 10 * MB


def test_compose_states_the_limit_refuses_10_5_mb_and_delivers_9_5_mb(live_app):
    sb = sandbox_of(live_app)
    with Browser(live_app) as alice:
        alice.login("dr-alice")
        page = alice.get(alice.url("/box/compose"))
        assert "All files together may weigh up to 10 MB." in page.text

        refused = compose_and_send(
            alice,
            {**to(BRAM), "title": "Te groot"},
            files=[("document", ("scan.pdf", pdf(OVER), "application/pdf"))],
        )
        assert refused.status_code == 422  # refused next to the file, the form as typed
        assert "“scan.pdf” was not added: the files of one message may add up to 10 MB" in (
            refused.text
        )
        assert "Te groot" not in sent_titles(sb, "dr-alice")

        delivered = compose_and_send(
            alice,
            {**to(BRAM), "title": "Net klein genoeg"},
            files=[("document", ("scan.pdf", pdf(UNDER), "application/pdf"))],
        )
        assert "Message sent." in delivered.text
    assert "Net klein genoeg" in inbox_titles(sb, "nurse-bram")


def api_send(live, token: str, title: str, size: int) -> requests.Response:
    message = {
        "recipients": [{"type": "INSS", "id": BRAM.ssin, "quality": BRAM.quality}],
        "title": title,
    }
    return requests.post(
        f"{live.url}/api/v1/messages",
        timeout=30,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        files={
            "message": (None, json.dumps(message), "application/json"),
            "document": ("scan.pdf", pdf(size), "application/pdf"),
        },
    )


@pytest.mark.parametrize("size", [OVER, 10 * MB + 100_000])  # over the request cap; just over
def test_the_api_refuses_over_10_mb_before_sending_with_the_limit(live_app, size):
    sb = sandbox_of(live_app)
    response = api_send(live_app, public_client_token(live_app), "API te groot", size)
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "10 MB" in response.json()["detail"]
    assert "API te groot" not in sent_titles(sb, "dr-alice")


def test_the_api_delivers_9_5_mb(live_app):
    response = api_send(live_app, public_client_token(live_app), "API net goed", UNDER)
    assert response.status_code == 201, response.text
    assert "API net goed" in inbox_titles(sandbox_of(live_app), "nurse-bram")


def test_the_cli_refuses_10_5_mb_before_sending_and_delivers_9_5_mb(live_app, tmp_path):
    sb = sandbox_of(live_app)
    big, fine = tmp_path / "groot.pdf", tmp_path / "goed.pdf"
    big.write_bytes(pdf(OVER))
    fine.write_bytes(pdf(UNDER))

    refused = m2m(
        live_app, "send", "--to", ALICE_TO, "--title", "CLI groot", "--document", str(big)
    )
    assert refused.exit_code != 0
    assert "accepts at most 10 MB. Nothing was sent." in refused.stderr
    assert "CLI groot" not in inbox_titles(sb, "dr-alice")

    sent = m2m(live_app, "send", "--to", ALICE_TO, "--title", "CLI goed", "--document", str(fine))
    assert sent.exit_code == 0, sent.output
    assert "CLI goed" in inbox_titles(sb, "dr-alice")


def test_the_sandbox_refuses_10_5_mb_with_801_and_accepts_9_5_mb(live_app):
    """A client that leaves the decision to the platform (the acceptance run does) sees 801."""
    sb = sandbox_of(live_app)
    client = sb.client("dr-alice", timeout=30)
    client.max_message_bytes = None

    def message(title: str, document: int, annex: int) -> NewMessage:
        return NewMessage(
            recipients=[Recipient(BRAM.ssin, "INSS", BRAM.quality)],
            title=title,
            document=Attachment(pdf(document), "scan.pdf", "application/pdf"),
            annexes=[Attachment(b"a" * annex, "bijlage.bin", "application/octet-stream")],
        )

    # Attachments count: a 6 MB document and a 4.5 MB annex are 10.5 MB.
    with pytest.raises(MessageTooLarge) as refused:
        client.send(message("Sandbox groot", 6 * MB, int(4.5 * MB)))
    assert (refused.value.code, refused.value.status) == ("801", 413)
    client.send(message("Sandbox goed", 6 * MB, int(3.5 * MB)))
    assert "Sandbox goed" in inbox_titles(sb, "nurse-bram")
    assert "Sandbox groot" not in inbox_titles(sb, "nurse-bram")


def test_the_client_refuses_before_any_request_and_says_how_big(live_app):
    client = sandbox_of(live_app).client("dr-alice")
    client._session = None  # any request would fail: the refusal must come first
    message = NewMessage(
        recipients=[Recipient(BRAM.ssin, "INSS", BRAM.quality)],
        title="x",
        text="t" * OVER,
    )
    with pytest.raises(MessageTooLarge) as refused:
        client.send(message)
    assert (refused.value.size, refused.value.limit) == (OVER, 10 * MB)
    assert str(refused.value) == (
        "The message weighs 10.5 MB with its attachments; the eHealthBox accepts at most 10 MB."
        " Nothing was sent."
    )
