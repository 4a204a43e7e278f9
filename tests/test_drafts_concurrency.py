"""Drafts under concurrency, through real HTTP: no 500, no upload lost, delivered once.

And shared between instances: a draft saved on one is found, and sent, on another.

What a browser and its user do at once to one draft: the page's autosave firing while
the user types (and while they press Send), a script saving through /api/v1, a double
click on Send, two tabs each adding an annex. Each request is a thread of its own with
the session's cookie, all released together.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
import requests
from conftest import Browser
from test_drafts import a_message, times_in_inbox
from test_instances import login
from test_mailbox import BRAM, form_fields, to
from test_store_outage import (  # noqa: F401 - fixtures
    MESSAGE,
    api_headers,
    instances_on,
    redis_server,
    sent_total,
)

from ehbox_webapp.sandbox import loopback


def together(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run the calls at once (each in its own thread, released by one barrier)."""
    start = threading.Barrier(len(calls))
    answers: list[requests.Response | BaseException | None] = [None] * len(calls)

    def run(i: int) -> None:
        start.wait()
        try:
            answers[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001 - reported below
            answers[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    failed = [a for a in answers if not isinstance(a, requests.Response)]
    assert not failed, failed
    return answers  # type: ignore[return-value]


@pytest.fixture
def alice(live_app) -> Browser:
    with Browser(live_app) as browser:
        browser.login("dr-alice")
        yield browser


def as_alice(browser: Browser) -> requests.Session:
    """Another connection of Alice's browser (its cookies), as a second tab or a script."""
    http = requests.Session()
    http.cookies.update(browser.cookies)
    http.headers["Accept"] = "text/html"
    return http


def compose_fields(alice: Browser) -> dict[str, str]:
    page = alice.get(alice.url("/box/compose"), timeout=10)
    return form_fields(page.text, "/box/compose")


def post(alice: Browser, path: str, data: dict, files: list | None = None) -> requests.Response:
    with as_alice(alice) as http:
        return http.post(alice.url(path), data=data, files=files, timeout=60)


def test_eighty_autosaves_at_once_keep_one_whole_draft(alice):
    fields = compose_fields(alice)
    message = a_message("Bewaard terwijl ik typ")
    calls = [
        lambda i=i: post(
            alice, "/box/compose/autosave", {**fields, **message, "text": f"Versie {i}"}
        )
        for i in range(80)
    ]
    statuses = [a.status_code for a in together(calls)]
    assert statuses == [204] * 80, statuses
    kept = form_fields(
        alice.get(alice.url(f"/box/compose?draft={fields['publication_id']}")).text,
        "/box/compose",
    )
    assert kept["title"] == "Bewaard terwijl ik typ"
    assert kept["text"] in {f"Versie {i}" for i in range(80)}  # one whole version


def test_eighty_api_saves_at_once_keep_one_whole_draft(live_app):
    with Browser(live_app) as browser:
        token = loopback.public_client_login(browser, live_app.url, "dr-alice")["access_token"]
    api = f"{live_app.url}/api/v1/drafts"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    draft = requests.post(api, json={"title": "Begin"}, headers=headers, timeout=10).json()
    url = f"{api}/{draft['publicationId']}"
    calls = [
        lambda i=i: requests.post(
            url, json={"title": f"Titel {i}", "text": f"Tekst {i}"}, headers=headers, timeout=60
        )
        for i in range(80)
    ]
    statuses = [a.status_code for a in together(calls)]
    assert statuses == [200] * 80, statuses
    final = requests.get(url, headers=headers, timeout=10).json()
    number = final["title"].removeprefix("Titel ")
    assert final["text"] == f"Tekst {number}"  # the values of one save, never mixed


def test_two_annexes_uploaded_at_once_are_both_kept(alice):
    for round_ in range(10):
        fields = {**compose_fields(alice), **a_message(f"Twee bijlagen {round_}")}
        fields.pop("send", None)
        calls = [
            lambda name=name: post(
                alice,
                "/box/compose",
                {**fields, "save_draft": "Save draft"},  # noqa: B023 - run in this round
                files=[("annexes", (name, f"Inhoud van {name}".encode(), "text/plain"))],
            )
            for name in ("labo.txt", "verslag.txt")
        ]
        answers = together(calls)
        assert [a.status_code for a in answers] == [200, 200], [a.text[:300] for a in answers]
        reopened = alice.get(alice.url(f"/box/compose?draft={fields['publication_id']}")).text
        assert "labo.txt" in reopened and "verslag.txt" in reopened, f"round {round_}"


def test_a_double_clicked_send_is_delivered_once(live_app, alice):
    with Browser(live_app) as bram:
        bram.login("nurse-bram")
        for round_ in range(5):
            title = f"Dubbel geklikt {round_}"
            fields = {**compose_fields(alice), **a_message(title), **to(BRAM)}
            send = {**fields, "send": "Send"}
            answers = together([lambda s=send: post(alice, "/box/compose", s) for _ in range(4)])
            statuses = [a.status_code for a in answers]
            assert all(s < 500 for s in statuses), [(a.status_code, a.text[:300]) for a in answers]
            assert any("Message sent." in a.text for a in answers)
            assert times_in_inbox(bram, title) == 1


def test_sends_beside_autosaves_are_delivered_once(live_app, alice):
    with Browser(live_app) as bram:
        bram.login("nurse-bram")
        for round_ in range(5):
            title = f"Verzonden tijdens het bewaren {round_}"
            fields = {**compose_fields(alice), **a_message(title)}
            autosaves = [lambda f=fields: post(alice, "/box/compose/autosave", f) for _ in range(6)]
            sends = [lambda f=fields: post(alice, "/box/compose", {**f, "send": "Send"})]
            answers = together(autosaves + sends)
            assert all(a.status_code < 500 for a in answers), [
                (a.status_code, a.text[:300]) for a in answers
            ]
            assert "Message sent." in answers[-1].text
            assert times_in_inbox(bram, title) == 1


def test_a_draft_saved_on_one_instance_is_found_and_sent_on_the_other(
    redis_server,  # noqa: F811 - the fixture
    instances_on,  # noqa: F811 - the fixture
    tmp_path,
):
    """Each instance on a host of its own (its own instance folder), the drafts on one
    shared volume (`DRAFTS_DIR`), as docker-compose.yml mounts it."""
    shared = tmp_path / "shared-drafts"
    first, second = instances_on(
        redis_server(append_only=True).url, own_folders=True, DRAFTS_DIR=str(shared)
    )
    with requests.Session() as browser:
        login(browser, first)
        headers = api_headers(browser, first, str(uuid.uuid4()))
        before = sent_total(browser, first, headers)
        body = {"recipients": MESSAGE["recipients"], "title": "Op de ene begonnen", "text": "x"}
        saved = browser.post(f"{first}/api/v1/drafts", json=body, headers=headers, timeout=10)
        assert saved.status_code == 201, saved.text
        draft = saved.json()["publicationId"]

        found = browser.get(f"{second}/api/v1/drafts/{draft}", headers=headers, timeout=10)
        assert found.status_code == 200 and found.json()["title"] == "Op de ene begonnen"
        listed = browser.get(f"{second}/api/v1/drafts", headers=headers, timeout=10).json()
        assert draft in [d["publicationId"] for d in listed["drafts"]]
        sent = browser.post(f"{second}/api/v1/drafts/{draft}/send", headers=headers, timeout=30)
        assert sent.status_code == 201, sent.text
        assert sent.json()["publicationId"] == draft
        gone = browser.get(f"{first}/api/v1/drafts/{draft}", headers=headers, timeout=10)
        assert gone.status_code == 404  # sent from the other: no longer a draft on either
        assert sent_total(browser, first, headers) == before + 1
