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
def two_instances(tmp_path, sandbox_keystore, redis_url):
    if not Path(sys.executable).with_name("gunicorn").exists():
        pytest.skip("gunicorn is not installed (pip install '.[server]')")
    ports = [free_port(), free_port()]
    public_url = f"http://127.0.0.1:{ports[0]}"  # the address users see
    processes = []
    try:
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
            }
            log = open(tmp_path / f"gunicorn-{port}.log", "wb")  # noqa: SIM115
            processes.append(start_gunicorn("app:app", port, env, cwd=ROOT, log=log))
            wait_for(f"http://127.0.0.1:{port}/readyz")
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(20)


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
