"""Redis stopped and restarted under two instances: the app's own 503, nothing sent twice.

Two gunicorn instances (the container's command) share one redis-server. While it is
stopped, every page and API call that needs the session answers the app's own 503 with
`Retry-After` (never gunicorn's raw 500), and the front page and the health check still
answer. Restarted with its append-only file (as docker-compose.yml runs it), the sessions
are back; restarted empty, a send retried with its `Idempotency-Key` after a new login is
still delivered once: the key's PublicationId is derived from the key, and the platform
keeps it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from test_instances import login

from ehbox_webapp.sandbox.loopback import free_port, start_gunicorn, wait_for

ROOT = Path(__file__).resolve().parent.parent
MESSAGE = {
    "recipients": [{"type": "INSS", "id": "79031545695", "quality": "NURSE"}],
    "title": "Eén keer, ook na een herstart",
    "text": "De sleutel draagt de PublicationId",
}


class RedisServer:
    """A redis-server on a fixed port and folder, stopped and started again at will."""

    def __init__(self, directory: Path, *, append_only: bool):
        self.port, self.directory, self.append_only = free_port(), directory, append_only
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        aof = ("--appendonly", "yes", "--appendfsync", "always") if self.append_only else ()
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            [
                shutil.which("redis-server") or "redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                *("--dir", str(self.directory), *(aof or ("--appendonly", "no"))),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    servers: list[RedisServer] = []

    def make(append_only: bool) -> RedisServer:
        folder = tmp_path / f"redis-{len(servers)}"
        folder.mkdir()
        server = RedisServer(folder, append_only=append_only)
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def instances_on(tmp_path, sandbox_keystore):
    """Two gunicorn instances on the given Redis; stopped at the end.

    `own_folders`: each its own instance folder (as two hosts have), else one shared."""
    if not Path(sys.executable).with_name("gunicorn").exists():
        pytest.skip("gunicorn is not installed (pip install '.[server]')")
    processes = []

    def start(redis_url: str, own_folders: bool = False, **extra: str) -> list[str]:
        ports = [free_port(), free_port()]
        for port in ports:
            folder = tmp_path / (f"i{port}" if own_folders else "i")
            env = {
                **os.environ,
                "EHBOX_ENV": "sandbox",
                "PUBLIC_URL": f"http://127.0.0.1:{ports[0]}",
                "PORT": str(port),
                "REDIS_URL": redis_url,
                "WEB_CONCURRENCY": "1",
                "ETEE_KEYSTORE": str(sandbox_keystore),
                "INSTANCE_PATH": str(folder),
                "LOG_FORMAT": "json",
                **extra,
            }
            log = open(tmp_path / f"gunicorn-{port}.log", "wb")  # noqa: SIM115
            processes.append(start_gunicorn("app:app", port, env, cwd=ROOT, log=log))
            wait_for(f"http://127.0.0.1:{port}/readyz")
        return [f"http://127.0.0.1:{port}" for port in ports]

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(20)


def api_headers(browser: requests.Session, instance: str, key: str) -> dict[str, str]:
    page = browser.get(f"{instance}/box/INBOX", timeout=10).text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return {"Accept": "application/json", "X-CSRFToken": token, "Idempotency-Key": key}


def send(browser: requests.Session, instance: str, headers: dict) -> requests.Response:
    files = {"message": (None, json.dumps(MESSAGE), "application/json")}
    return browser.post(f"{instance}/api/v1/messages", headers=headers, files=files, timeout=30)


def sent_total(browser: requests.Session, instance: str, headers: dict) -> int:
    listing = browser.get(
        f"{instance}/api/v1/messages?folder=SENTBOX&pageSize=1", headers=headers, timeout=10
    )
    return listing.json()["total"]


def test_redis_stopped_pages_and_api_answer_503_then_sessions_come_back(redis_server, instances_on):
    redis = redis_server(append_only=True)
    first, second = instances_on(redis.url)
    with requests.Session() as browser:
        login(browser, first)
        headers = api_headers(browser, first, str(uuid.uuid4()))
        redis.stop()

        for instance in (first, second):
            for path in ("/box/INBOX", "/box/SENTBOX", "/box/compose", "/no-such-page"):
                page = browser.get(f"{instance}{path}", allow_redirects=False, timeout=15)
                assert page.status_code == 503, (instance, path, page.status_code)
                assert page.headers["Retry-After"] == "5"
                assert "Service unavailable" in page.text and "Traceback" not in page.text
            api = browser.get(f"{instance}/api/v1/box", headers=headers, timeout=15)
            assert api.status_code == 503 and api.headers["Retry-After"] == "5"
            assert api.headers["Content-Type"] == "application/problem+json"
            posted = send(browser, instance, headers)
            assert posted.status_code == 503, posted.text
            front = browser.get(f"{instance}/", timeout=15)  # the front page still renders
            assert front.status_code == 200 and "Log in" in front.text
            started = time.monotonic()
            assert requests.get(f"{instance}/healthz", timeout=15).status_code == 200
            assert time.monotonic() - started < 1
            assert requests.get(f"{instance}/readyz", timeout=15).status_code == 503

        redis.start()  # its append-only file brings the sessions back
        time.sleep(1.2)  # the instances wait a second after a failure before asking again
        for instance in (second, first):
            inbox = browser.get(f"{instance}/box/INBOX", allow_redirects=False, timeout=15)
            assert inbox.status_code == 200 and "Alice Peeters" in inbox.text


def test_a_send_retried_across_an_empty_restarted_redis_is_delivered_once(
    redis_server, instances_on
):
    redis = redis_server(append_only=False)  # everything is lost at the restart
    first, second = instances_on(redis.url)
    key = str(uuid.uuid4())
    with requests.Session() as browser:
        login(browser, first)
        headers = api_headers(browser, first, key)
        before = sent_total(browser, first, headers)
        sent = send(browser, first, headers)
        assert sent.status_code == 201, sent.text

        redis.stop()
        redis.start()
        time.sleep(1.2)

        gone = browser.get(f"{second}/box/INBOX", allow_redirects=False, timeout=15)
        assert gone.status_code == 302  # the session was in the emptied store
        browser.cookies.clear()
        login(browser, second)
        headers = api_headers(browser, second, key)
        retried = send(browser, second, headers)  # the same key, on the other instance
        assert retried.status_code == 200 and retried.json()["replayed"] is True, retried.text
        assert retried.json()["messageId"] == sent.json()["messageId"]
        assert retried.json()["publicationId"] == sent.json()["publicationId"]
        assert sent_total(browser, first, headers) == before + 1
