"""A refresh under faults: its answer lost, the realm down, sixteen requests at once.

The sandbox realm's token endpoint takes injected faults (`POST /sandbox/auth/_faults`):
with a `delay` the grant is carried out and answered late (the app, tired of waiting, has
lost the answer of a refresh the realm did: the refresh token is spent), with a `status`
the realm is down. The realm rotates refresh tokens as Keycloak does with *Revoke Refresh
Token* on; `SANDBOX_REFRESH_TOKEN_MAX_REUSE` is Keycloak's `refreshTokenMaxReuse`.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

import pytest
import requests
from conftest import Browser
from test_instances import login
from test_refresh import ACCESS_SECONDS, at_once, wait_for_the_refresh_margin

from ehbox_webapp.sandbox.loopback import free_port, start_gunicorn, wait_for

ROOT = Path(__file__).resolve().parent.parent


def refresh_token_uses(instance: Path) -> int:
    """How many refresh requests the realm carried out (every use of every refresh token)."""
    with sqlite3.connect(instance / "sandbox-iam.sqlite3") as db:
        return db.execute("SELECT COALESCE(SUM(used), 0) FROM refresh_tokens").fetchone()[0]


def token_calls_faulted(instance: Path) -> int:
    """How many token requests met an armed fault (each takes one of its `times`)."""
    with sqlite3.connect(instance / "sandbox-iam.sqlite3") as db:
        return db.execute("SELECT COALESCE(SUM(100 - times_left), 0) FROM token_faults").fetchone()[
            0
        ]


def arm(live_url: str, **fault) -> None:
    answer = requests.post(f"{live_url}/sandbox/auth/_faults", json=fault, timeout=5)
    assert answer.status_code == 201, answer.text


def expire_the_access_token(live, browser: Browser) -> None:
    """The session's access token expired a second ago (its refresh token still good)."""
    store = live.app.extensions["services"].store
    key = "session:" + browser.cookies.get("ehbox_session")
    record = store.get(key)
    record["tokens"]["expires_at"] = time.time() - 1
    store.set(key, record, 3600)


@pytest.fixture
def slow_realm_app(make_live_app):
    """The app whose realm answers after 2 s at most (HTTP_TIMEOUT), access tokens of 40 s."""

    def start(max_reuse: int):
        return make_live_app(
            {
                "SANDBOX_ACCESS_TOKEN_SECONDS": str(ACCESS_SECONDS),
                "SANDBOX_REFRESH_TOKEN_MAX_REUSE": str(max_reuse),
                "HTTP_TIMEOUT": "2",
            }
        )

    return start


def test_a_lost_refresh_answer_is_asked_again_and_the_user_stays_logged_in(slow_realm_app):
    """Keycloak with refreshTokenMaxReuse 1 (or Revoke Refresh Token off, its default):
    the refresh token whose answer was lost works once more."""
    live = slow_realm_app(max_reuse=1)
    with Browser(live) as browser:
        browser.login("dr-alice")
        logged_in_at = time.time()
        wait_for_the_refresh_margin(logged_in_at)
        arm(live.url, grantType="refresh_token", delay=4, times=1)  # carried out, answered late

        page = browser.get(browser.url("/box/INBOX"), allow_redirects=False)

        assert page.status_code == 200 and "Alice Peeters" in page.text
        assert refresh_token_uses(live.instance_path) == 2  # the lost one, and its retry
        time.sleep(3)  # the late answer is long gone
        later = browser.get(browser.url("/box/INBOX?page=2"), allow_redirects=False)
        api = browser.get(browser.url("/api/v1/box"), headers={"Accept": "application/json"})
        assert later.status_code == 200 and api.status_code == 200, api.text
        assert refresh_token_uses(live.instance_path) == 2  # the new tokens were kept


def test_a_lost_refresh_answer_at_a_strict_realm_asks_for_a_login_never_a_5xx(slow_realm_app):
    """Revoke Refresh Token on, no reuse: the realm spent the token, so the retry is refused
    and the user is sent to log in again (at Keycloak, through its SSO session: no form)."""
    live = slow_realm_app(max_reuse=0)
    with Browser(live) as browser:
        browser.login("dr-alice")
        wait_for_the_refresh_margin(time.time())
        arm(live.url, grantType="refresh_token", delay=4, times=1)

        page = browser.get(browser.url("/box/INBOX"), allow_redirects=False)

        assert page.status_code == 302 and "/login" in page.headers["Location"]
        assert browser.get(browser.url("/api/v1/box")).status_code == 401


def test_the_realm_down_at_a_refresh_gives_its_error_page_without_asking_again(make_live_app):
    live = make_live_app({"HTTP_TIMEOUT": "2"})
    with Browser(live) as browser:
        browser.login("dr-alice")
        expire_the_access_token(live, browser)
        arm(live.url, grantType="refresh_token", status=503, times=100)

        started = time.monotonic()
        page = browser.get(browser.url("/box/INBOX"), allow_redirects=False)
        took = time.monotonic() - started

        assert page.status_code == 502, page.text[:300]
        assert "I.AM Connect is unavailable" in page.text
        assert "Alice Peeters" in page.text  # the user's header, without its unread count
        # One refresh and its one retry: the error page's header did not ask again.
        assert token_calls_faulted(live.instance_path) == 2
        assert took < 2
        again = browser.get(browser.url("/box/INBOX?page=2"), allow_redirects=False)
        assert again.status_code == 502
        assert token_calls_faulted(live.instance_path) == 2  # not asked again for a while
        api = browser.get(browser.url("/api/v1/box"), headers={"Accept": "application/json"})
        assert api.status_code == 503 and api.headers["Retry-After"]

        requests.delete(f"{live.url}/sandbox/auth/_faults", timeout=5)
        time.sleep(10.5)  # the pause after a failed refresh
        back = browser.get(browser.url("/box/INBOX"), allow_redirects=False)
        assert back.status_code == 200 and "Alice Peeters" in back.text


@pytest.fixture
def gunicorn_app(tmp_path, sandbox_keystore):
    """The app and its sandbox in one gunicorn instance, on the container's defaults."""
    if not Path(sys.executable).with_name("gunicorn").exists():
        pytest.skip("gunicorn is not installed (pip install '.[server]')")
    processes = []

    def start(**extra: str) -> tuple[str, Path]:
        port = free_port()
        instance = tmp_path / f"i{port}"
        env = {
            **os.environ,
            "EHBOX_ENV": "sandbox",
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "PORT": str(port),
            "ETEE_KEYSTORE": str(sandbox_keystore),
            "INSTANCE_PATH": str(instance),
            "LOG_FORMAT": "json",
            **extra,
        }
        for name in ("GUNICORN_THREADS", "WEB_CONCURRENCY", "REDIS_URL", "UPSTREAM_CALLS"):
            env.pop(name, None)  # the defaults are what is tested
        log = open(tmp_path / f"gunicorn-{port}.log", "wb")  # noqa: SIM115
        processes.append(start_gunicorn("app:app", port, env, cwd=ROOT, log=log))
        wait_for(f"http://127.0.0.1:{port}/readyz")
        return f"http://127.0.0.1:{port}", instance

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(20)


def test_sixteen_requests_of_one_session_at_a_refresh_on_the_default_server(gunicorn_app):
    url, instance = gunicorn_app(SANDBOX_ACCESS_TOKEN_SECONDS=str(ACCESS_SECONDS))
    with requests.Session() as browser:
        login(browser, url)
        logged_in_at = time.time()
        wait_for_the_refresh_margin(logged_in_at)
        paths = ["/box/INBOX", "/api/v1/box", "/api/v1/messages?pageSize=2", "/box/INBOX?page=2"]

        answers = at_once([url + p for p in paths * 4], browser.cookies.get("ehbox_session"))

        assert [a.status_code for a in answers] == [200] * 16, [
            (a.status_code, a.url) for a in answers
        ]
        assert refresh_token_uses(instance) == 1
        page = browser.get(f"{url}/box/INBOX", allow_redirects=False, timeout=10)
        assert page.status_code == 200 and "Alice Peeters" in page.text
