"""Several instances behind a load balancer, sharing a real Redis.

Two app processes, each started with the container's own command (gunicorn with
gunicorn.conf.py), on different ports, with the same PUBLIC_URL (as behind a
load balancer) and the same REDIS_URL. A login starts on the first and finishes
on the second; a send made on one and retried on the other is delivered once.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from conftest import page_forms

from ehbox_webapp.sandbox.loopback import free_port, start_gunicorn, start_redis, wait_for

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def redis_url(tmp_path):
    started = start_redis(tmp_path)
    if started is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    url, process = started
    try:
        yield url
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def start_instances(tmp_path, sandbox_keystore, redis_url):
    """Start two gunicorn instances on one Redis, with extra settings; stopped at the end."""
    if not Path(sys.executable).with_name("gunicorn").exists():
        pytest.skip("gunicorn is not installed (pip install '.[server]')")
    processes = []

    def start(**extra: str) -> list[str]:
        ports = [free_port(), free_port()]
        public_url = f"http://127.0.0.1:{ports[0]}"  # the address users see
        for port in ports:
            env = {
                **os.environ,
                "EHBOX_ENV": "sandbox",
                "PUBLIC_URL": public_url,
                "PORT": str(port),
                "REDIS_URL": redis_url,
                "WEB_CONCURRENCY": "1",
                "ETEE_KEYSTORE": str(sandbox_keystore),
                "INSTANCE_PATH": str(tmp_path / "i"),
                "LOG_FORMAT": "json",
                **extra,
            }
            log = open(tmp_path / f"gunicorn-{port}.log", "wb")  # noqa: SIM115
            processes.append(start_gunicorn("app:app", port, env, cwd=ROOT, log=log))
            wait_for(f"http://127.0.0.1:{port}/readyz")
        return [f"http://127.0.0.1:{port}" for port in ports]

    try:
        yield start
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(20)


@pytest.fixture
def two_instances(start_instances):
    return start_instances()


def login(browser: requests.Session, instance: str) -> None:
    """Log dr-alice in through the sandbox login form."""
    page = browser.get(f"{instance}/login", timeout=10)
    form = page_forms(page.text)[0]
    done = browser.post(
        requests.compat.urljoin(page.url, form["action"]),
        data={**form["fields"], "username": "dr-alice"},
        timeout=10,
    )
    assert "Alice Peeters" in done.text, done.text[:300]


def on(instance: str, url: str) -> str:
    """The same URL, served by another instance (what a load balancer does)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=urlsplit(instance).netloc))


def test_login_on_one_instance_continues_on_the_other_and_a_retry_is_delivered_once(two_instances):
    first, second = two_instances
    with requests.Session() as browser:
        login = browser.get(f"{first}/login", timeout=10)  # state, nonce, verifier stored
        form = page_forms(login.text)[0]
        answer = browser.post(
            requests.compat.urljoin(login.url, form["action"]),
            data={**form["fields"], "username": "dr-alice"},
            allow_redirects=False,
            timeout=10,
        )
        callback = answer.headers["Location"]
        done = browser.get(on(second, callback), timeout=10, allow_redirects=False)
        assert done.status_code == 302, done.text  # the second instance finished the login
        home = browser.get(f"{second}/", timeout=10)
        assert "Alice Peeters" in home.text
        assert "Alice Peeters" in browser.get(f"{first}/", timeout=10).text

        token = page_forms(home.text)[0]["fields"]["csrf_token"]
        headers = {
            "Accept": "application/json",
            "X-CSRFToken": token,
            "Idempotency-Key": str(uuid.uuid4()),
        }
        message = {
            "recipients": [{"type": "INSS", "id": "79031545695", "quality": "NURSE"}],
            "title": "Eén keer afgeleverd",
            "text": "Over twee instanties",
        }
        files = {"message": (None, json.dumps(message), "application/json")}
        before = browser.get(
            f"{first}/api/v1/messages?folder=SENTBOX&pageSize=1", headers=headers, timeout=10
        ).json()["total"]
        sent = browser.post(f"{first}/api/v1/messages", headers=headers, files=files, timeout=10)
        assert sent.status_code == 201, sent.text
        retried = browser.post(
            f"{second}/api/v1/messages", headers=headers, files=files, timeout=10
        )
        assert retried.status_code == 200 and retried.json()["replayed"] is True
        assert retried.json()["messageId"] == sent.json()["messageId"]
        after = browser.get(
            f"{second}/api/v1/messages?folder=SENTBOX&pageSize=1", headers=headers, timeout=10
        ).json()["total"]
        assert after == before + 1


def test_two_instances_on_one_redis_refresh_a_session_once(start_instances, tmp_path):
    """8 requests of one session at the refresh margin, spread over both instances."""
    from test_refresh import (
        ACCESS_SECONDS,
        at_once,
        eight_requests_of_a_page,
        refreshes_seen_by_the_realm,
        wait_for_the_refresh_margin,
    )

    first, second = start_instances(SANDBOX_ACCESS_TOKEN_SECONDS=str(ACCESS_SECONDS))
    with requests.Session() as browser:
        login(browser, first)
        logged_in_at = time.time()
        assert refreshes_seen_by_the_realm(tmp_path / "i") == 0
        wait_for_the_refresh_margin(logged_in_at)

        answers = at_once(
            eight_requests_of_a_page([first, second]), browser.cookies.get("ehbox_session")
        )

        assert [a.status_code for a in answers] == [200] * 8, [
            (a.status_code, a.headers.get("Location")) for a in answers
        ]
        assert refreshes_seen_by_the_realm(tmp_path / "i") == 1
        for instance in (second, first):
            page = browser.get(f"{instance}/box/INBOX", allow_redirects=False, timeout=10)
            assert page.status_code == 200 and "Alice Peeters" in page.text


def test_login_limits_count_on_the_shared_redis_across_instances(start_instances):
    first, second = start_instances(RATE_LIMIT_LOGIN="2/minute")

    def start_login(instance: str) -> int:
        return requests.get(f"{instance}/login", allow_redirects=False, timeout=10).status_code

    assert [start_login(first), start_login(second)] == [302, 302]
    assert start_login(first) == 429 and start_login(second) == 429  # one count, not two


def test_a_worker_builds_the_api_check_and_the_templates_before_its_first_request(
    start_instances, tmp_path
):
    """The first API call and the first page of a fresh worker wait for nothing that could
    be built before: the OpenAPI checker (a quarter of a second) and the templates."""
    instance = start_instances()[0]
    port = instance.rsplit(":", 1)[1]
    lines = (tmp_path / f"gunicorn-{port}.log").read_text().splitlines()
    ready = [json.loads(line) for line in lines if '"worker ready' in line]
    assert len(ready) == 1, lines[-20:]
    templates = len(list((ROOT / "templates").rglob("*.html")))
    assert f" {templates} templates built" in ready[0]["message"]
