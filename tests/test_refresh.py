"""Token refresh under concurrency: one refresh per session, however many requests meet.

The sandbox realm rotates refresh tokens as Keycloak does (a second use of one ends the
login), so requests of one session that each refreshed would log the user out. Its
access tokens live `SANDBOX_ACCESS_TOKEN_SECONDS` here, so the refresh margin (30 s
before expiry) is reached in seconds instead of minutes.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import requests
from conftest import Browser

ACCESS_SECONDS = 40  # the margin is reached 10 s after the login
PERSONA_NAME = "Alice Peeters"


def refreshes_seen_by_the_realm(instance: Path) -> int:
    """Refresh tokens the sandbox realm has seen used (its own record, in its database)."""
    with sqlite3.connect(instance / "sandbox-iam.sqlite3") as db:
        return db.execute("SELECT COUNT(*) FROM refresh_tokens WHERE used = 1").fetchone()[0]


def wait_for_the_refresh_margin(logged_in_at: float) -> None:
    """Sleep until the access token is inside its last 30 s (but still valid)."""
    time.sleep(max(0.0, logged_in_at + ACCESS_SECONDS - 30 + 1 - time.time()))


def at_once(urls: list[str], cookie: str) -> list[requests.Response]:
    """One request per URL, all of one session, started together."""
    start = threading.Barrier(len(urls))
    answers: list[requests.Response | None] = [None] * len(urls)

    def call(i: int, url: str) -> None:
        with requests.Session() as http:
            http.cookies.set("ehbox_session", cookie)
            start.wait()
            answers[i] = http.get(
                url, headers={"Accept": "text/html"}, allow_redirects=False, timeout=30
            )

    threads = [threading.Thread(target=call, args=(i, u)) for i, u in enumerate(urls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return [a for a in answers if a is not None]


def eight_requests_of_a_page(base_urls: list[str]) -> list[str]:
    """What a user's browser sends at once: pages, the JSON API, a message's parts."""
    paths = ["/box/INBOX", "/api/v1/box", "/box/SENTBOX", "/api/v1/messages?pageSize=2"] * 2
    return [base_urls[i % len(base_urls)] + path for i, path in enumerate(paths)]


def test_eight_requests_meeting_at_the_refresh_margin_all_succeed_with_one_refresh(
    make_live_app,
):
    live = make_live_app({"SANDBOX_ACCESS_TOKEN_SECONDS": str(ACCESS_SECONDS)})
    with Browser(live) as browser:
        browser.login("dr-alice")
        logged_in_at = time.time()
        cookie = browser.cookies.get("ehbox_session")
        assert refreshes_seen_by_the_realm(live.instance_path) == 0
        wait_for_the_refresh_margin(logged_in_at)

        answers = at_once(eight_requests_of_a_page([live.url]), cookie)

        assert [a.status_code for a in answers] == [200] * 8, [
            (a.status_code, a.headers.get("Location")) for a in answers
        ]
        assert refreshes_seen_by_the_realm(live.instance_path) == 1
        after = browser.get(browser.url("/box/INBOX"), allow_redirects=False)
        assert after.status_code == 200 and PERSONA_NAME in after.text
        assert refreshes_seen_by_the_realm(live.instance_path) == 1  # fresh tokens were kept


def test_a_refused_refresh_ends_the_session_only_if_its_tokens_are_still_the_sessions(
    browser,
):
    """A request holding tokens another request already replaced must not log the user out."""
    from ehbox_webapp.ehealth.iam import TokenSet
    from ehbox_webapp.refresh import SessionRefresher
    from ehbox_webapp.stores import SESSION_TTL

    browser.login("dr-alice")
    services = browser.live.app.extensions["services"]
    sid = browser.cookies.get("ehbox_session")
    record = services.store.get("session:" + sid)
    stale = TokenSet.from_dict({**record["tokens"], "expires_at": time.time() + 5})
    record["tokens"] = stale.to_dict()
    services.store.set("session:" + sid, record, SESSION_TTL)
    refresher = SessionRefresher(services.store, services.iam, SESSION_TTL, timeout=5)

    fresh = refresher.fresh_tokens(sid, stale)  # the first request refreshes
    assert fresh.refresh_token != stale.refresh_token
    # A late request still holding the old tokens: the realm refuses their refresh token,
    # and the session's newer tokens win instead of a logout.
    assert refresher._refresh(sid, stale).access_token == fresh.access_token
    assert services.store.get("session:" + sid) is not None
    # When the refused tokens are the session's own, the session ends.
    refused = TokenSet.from_dict({**fresh.to_dict(), "refresh_token": "revoked"})
    record = services.store.get("session:" + sid)
    record["tokens"] = refused.to_dict()
    services.store.set("session:" + sid, record, SESSION_TTL)
    try:
        refresher._refresh(sid, refused)
    except Exception as exc:  # noqa: BLE001 - the type is asserted below
        assert type(exc).__name__ == "LoginAgain"
    else:
        raise AssertionError("a refused refresh of the session's own tokens must end it")
    assert services.store.get("session:" + sid) is None
