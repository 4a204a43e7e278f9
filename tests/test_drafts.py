"""Drafts: what a doctor types is on the server before anything is sent, and stays there.

A message is saved as a draft (every field and the files) before a send is attempted, on
"Save draft", by the page's autosave and on a language switch; the Drafts page lists it; a
draft sent again keeps its PublicationId, so it is delivered once, even when the app was
killed while the platform was storing it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from conftest import Browser, sandbox_environ
from test_mailbox import BRAM, form_fields, post_compose, to

from ehbox_webapp.sandbox.loopback import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent


def a_message(title: str) -> dict[str, str]:
    """Every kind of field a doctor fills in: recipient, title, texts, patient, options."""
    return {
        **to(BRAM),
        "title": title,
        "text": "Beste Bram,\nDe wonde geneest goed.\nMvg, Alice",
        "free_text": "Verband om de twee dagen verversen.",
        "patient_inss": "85071212390",
        "is_important": "y",
        "read_receipt": "y",
    }


ANNEX = ("annexes", ("wondzorg.txt", b"Wondzorg: verband om de 2 dagen.\n", "text/plain"))
KEPT = ("recipients-0-type", "recipients-0-identifier", "recipients-0-quality", "title")
KEPT += ("text", "free_text", "patient_inss", "is_important", "read_receipt")


def draft_id(response: requests.Response) -> str:
    return parse_qs(urlsplit(response.url).query)["draft"][0]


def assert_every_field(fields: dict[str, str], message: dict[str, str]) -> None:
    for name in KEPT:
        assert fields.get(name) == message[name], name


def times_in_inbox(browser: Browser, title: str) -> int:
    return browser.get(browser.url("/box/INBOX"), timeout=10).text.count(f">{title}<")


@pytest.fixture
def alice(live_app) -> Browser:
    with Browser(live_app) as b:
        b.login("dr-alice")
        yield b


def test_a_saved_draft_is_listed_reopened_with_every_field_and_sent_once(live_app, alice):
    message = a_message("Wondzorg na de ingreep")
    page = alice.get(alice.url("/box/compose"), timeout=10)
    publication_id = form_fields(page.text, "/box/compose")["publication_id"]
    saved = post_compose(alice, page, {**message, "save_draft": "Save draft"}, files=[ANNEX])
    assert saved.status_code == 200 and "Draft saved." in saved.text
    assert draft_id(saved) == publication_id

    listed = alice.get(alice.url("/box/drafts"), timeout=10)
    assert f'data-publication-id="{publication_id}"' in listed.text
    assert "Wondzorg na de ingreep" in listed.text and "Bram Janssens" in listed.text  # by name

    reopened = alice.get(alice.url(f"/box/compose?draft={publication_id}"), timeout=10)
    fields = form_fields(reopened.text, "/box/compose")
    assert_every_field(fields, message)
    assert fields["publication_id"] == publication_id
    assert "wondzorg.txt" in reopened.text  # the annex is kept on the server

    sent = post_compose(alice, reopened, {"send": "Send"})
    assert "Message sent." in sent.text, sent.text[:2000]
    assert (
        f'data-publication-id="{publication_id}"'
        not in alice.get(alice.url("/box/drafts"), timeout=10).text
    )  # sent: no longer a draft
    with Browser(live_app) as bram:
        bram.login("nurse-bram")
        assert times_in_inbox(bram, "Wondzorg na de ingreep") == 1


def test_a_language_switch_while_composing_keeps_every_field(alice):
    message = a_message("Taalwissel tijdens het schrijven")
    page = alice.get(alice.url("/box/compose"), timeout=10)
    # The header's language buttons submit the compose form (form= and formaction=).
    assert re.search(r'<button[^>]*value="nl"[^>]*form="compose-form"', page.text)
    switched = post_compose(alice, page, {**message, "lang": "nl"}, files=[ANNEX])
    assert switched.status_code == 200
    assert '<html lang="nl">' in switched.text and "Een bericht schrijven" in switched.text
    assert_every_field(form_fields(switched.text, "/box/compose"), message)
    assert "wondzorg.txt" in switched.text


def test_autosave_keeps_the_fields_as_they_are_typed(alice):
    page = alice.get(alice.url("/box/compose"), timeout=10)
    fields = form_fields(page.text, "/box/compose")
    message = a_message("Automatisch bewaard")
    answer = alice.post(
        alice.url("/box/compose/autosave"),
        data={
            "csrf_token": fields["csrf_token"],
            "publication_id": fields["publication_id"],
            **message,
        },
        timeout=10,
    )
    assert answer.status_code == 204
    reopened = alice.get(alice.url(f"/box/compose?draft={fields['publication_id']}"), timeout=10)
    assert_every_field(form_fields(reopened.text, "/box/compose"), message)
    refused = alice.post(  # no CSRF token: not from our page
        alice.url("/box/compose/autosave"),
        data={"publication_id": fields["publication_id"], "title": "x"},
        timeout=10,
    )
    assert refused.status_code == 400


def test_old_drafts_are_purged_by_the_command(live_app, alice):
    page = alice.get(alice.url("/box/compose"), timeout=10)
    post_compose(alice, page, {**a_message("Oud concept"), "save_draft": "Save draft"})
    drafts = live_app.instance_path / "drafts"
    old = time.time() - 31 * 24 * 3600
    for meta in drafts.glob("*/*/meta.json"):
        os.utime(meta, (old, old))
    result = live_app.app.test_cli_runner().invoke(args=["ehbox", "drafts", "purge"])
    assert result.exit_code == 0 and "1 draft(s) untouched for 30 days" in result.output
    assert "Oud concept" not in alice.get(alice.url("/box/drafts"), timeout=10).text


# --- the app killed while a send is in flight ---------------------------------------------
class AppProcess:
    """`python app.py` (the app and its embedded sandbox, one process) on a loopback port."""

    def __init__(self, workdir: Path, keystore: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            **sandbox_environ(self.url, keystore, HTTP_TIMEOUT="90"),
            "PORT": str(self.port),
            "INSTANCE_PATH": str(workdir / "instance"),
        }
        self.log = workdir / "app.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own entry point
                [sys.executable, "app.py"], cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        wait_for(self.url + "/healthz", process=self.process)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


@pytest.fixture
def app_process(tmp_path, sandbox_keystore):
    app = AppProcess(tmp_path, sandbox_keystore)
    app.start()
    yield app
    if app.process is not None and app.process.poll() is None:
        app.process.terminate()
        app.process.wait(10)


@pytest.mark.parametrize(
    ("fault", "stored"),
    [
        ({"delay": 60}, True),  # the platform stored it, its answer never came back
        ({"delay": 60, "status": 503}, False),  # the app died before the platform stored it
    ],
    ids=["platform-stored-it", "platform-did-not"],
)
def test_a_send_cut_by_a_crash_keeps_every_field_and_delivers_once(app_process, fault, stored):
    title = f"Na de crash ({'bewaard' if stored else 'niet bewaard'})"
    message = a_message(title)
    with Browser(app_process) as alice:
        alice.login("dr-alice")
        page = alice.get(alice.url("/box/compose"), timeout=10)
        publication_id = form_fields(page.text, "/box/compose")["publication_id"]
        faults = requests.post(
            f"{app_process.url}/sandbox/ehealthbox/_faults",
            json={"operation": "send", "times": 1, **fault},
            timeout=10,
        )
        assert faults.status_code in (200, 201, 204), faults.text
        in_flight = threading.Thread(
            target=lambda: _ignore_errors(
                post_compose, alice, page, {**message, "send": "Send"}, files=[ANNEX]
            ),
            daemon=True,
        )
        in_flight.start()
        _wait_until_the_platform_has_the_send(app_process.url)
        app_process.kill()
        in_flight.join(10)

    app_process.start()
    with Browser(app_process) as alice:
        alice.login("dr-alice")
        listed = alice.get(alice.url("/box/drafts"), timeout=10)
        assert f'data-publication-id="{publication_id}"' in listed.text
        reopened = alice.get(alice.url(f"/box/compose?draft={publication_id}"), timeout=10)
        fields = form_fields(reopened.text, "/box/compose")
        assert_every_field(fields, message)
        assert fields["publication_id"] == publication_id and "wondzorg.txt" in reopened.text
        with Browser(app_process) as bram:
            bram.login("nurse-bram")
            assert times_in_inbox(bram, title) == (1 if stored else 0)
            sent = post_compose(alice, reopened, {"send": "Send"})
            assert "Message sent." in sent.text, sent.text[:2000]
            assert times_in_inbox(bram, title) == 1  # delivered exactly once


def _wait_until_the_platform_has_the_send(url: str, seconds: float = 30) -> None:
    """The armed fault is taken when the send reaches the platform; then it stores (or not)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        armed = requests.get(f"{url}/sandbox/ehealthbox/_faults", timeout=5).json()["faults"]
        if not armed:
            time.sleep(1)  # the platform stores the message right after taking the fault
            return
        time.sleep(0.1)
    raise AssertionError("the send never reached the platform")


def _ignore_errors(function, *args, **kwargs) -> None:
    with contextlib.suppress(requests.RequestException):  # the app was killed: no answer
        function(*args, **kwargs)
