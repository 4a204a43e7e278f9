"""A slow eHealthBox holds a bounded share of the server's threads: /healthz answers at once.

One gunicorn instance on the container's defaults (32 threads, at most 8 calls at once to
one upstream), hosting the sandbox, whose eHealthBox takes 10 s to list a folder. Twelve
inbox pages open at once: eight wait for the slow eHealthBox (and eight more threads serve
its slow answers), the other four are answered 503 within the 2 s a call waits for a free
slot, and the health check, the login page and the static files answer at once throughout.
"""

from __future__ import annotations

import threading
import time

import requests
from test_instances import login
from test_refresh_faults import gunicorn_app  # noqa: F401 - the fixture

SLOW = 10.0  # seconds the sandbox eHealthBox takes to list a folder


def test_a_slow_ehealthbox_leaves_healthz_answering_at_once(gunicorn_app):  # noqa: F811
    url, _ = gunicorn_app()
    with requests.Session() as browser:
        login(browser, url)
        cookie = browser.cookies.get("ehbox_session")
    fault = {"operation": "list", "delay": SLOW, "times": 200}
    assert requests.post(f"{url}/sandbox/ehealthbox/_faults", json=fault, timeout=5).ok

    answers: list[requests.Response] = []

    def inbox(i: int) -> None:
        with requests.Session() as http:
            http.cookies.set("ehbox_session", cookie)
            answers.append(
                http.get(f"{url}/box/INBOX?page={1 + i % 3}", allow_redirects=False, timeout=60)
            )

    pages = [threading.Thread(target=inbox, args=(i,)) for i in range(12)]
    for page in pages:
        page.start()
    time.sleep(1.0)  # every page is in, waiting on the eHealthBox or for a free call

    checks = []
    for path in ("/healthz", "/static/style.css", "/", "/healthz"):
        started = time.monotonic()
        answer = requests.get(f"{url}{path}", timeout=30)
        checks.append((path, answer.status_code, time.monotonic() - started))
    for page in pages:
        page.join(90)
    requests.delete(f"{url}/sandbox/ehealthbox/_faults", timeout=5)

    assert all(status == 200 and took < 0.5 for _, status, took in checks), checks
    statuses = sorted(a.status_code for a in answers)
    assert len(statuses) == 12 and set(statuses) <= {200, 503}, statuses
    assert statuses.count(503) >= 4  # beyond the eight calls at once: answered, not queued
    busy = next(a for a in answers if a.status_code == 503)
    assert "eHealthBox" in busy.text and "Traceback" not in busy.text
