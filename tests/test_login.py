"""A user logs in through the sandbox I.AM Connect, over real HTTP, and out again."""

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from conftest import Browser, page_forms


def without_personas(html: str) -> str:
    """The page less the sandbox's list of personas to log in as (it names everyone)."""
    return re.sub(r'<section class="developer".*?</section>', "", html, flags=re.S)


def test_persona_logs_in_and_sees_who_they_are(browser):
    landed = browser.login("dr-alice")
    assert landed.status_code == 200
    assert urlsplit(landed.url).path == "/box/INBOX"  # a mailbox opens on the inbox
    home = browser.get(browser.url("/"), timeout=10)
    assert "Alice Peeters" in home.text
    assert "•••••••••90" in home.text  # masked SSIN: only the last two digits
    assert "85071212390" not in without_personas(home.text)
    assert "physician" in home.text and "12345625004" in home.text


def test_another_persona_sees_their_own_profile(browser):
    browser.login("nurse-bram")
    home = browser.get(browser.url("/"), timeout=10)
    assert "Bram Janssens" in home.text and "nurse" in home.text
    assert "Alice" not in without_personas(home.text)


def test_login_goes_through_the_realm_with_pkce_state_and_nonce(browser):
    start = browser.get(browser.url("/login"), allow_redirects=False)
    assert start.status_code == 302
    location = urlsplit(start.headers["Location"])
    assert location.path.endswith("/sandbox/auth/realms/healthcare/protocol/openid-connect/auth")
    query = parse_qs(location.query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["state"][0] and query["nonce"][0]
    assert query["redirect_uri"] == [browser.url("/auth/callback")]
    assert query["client_id"] == ["ehbox-webapp"]
    assert set(query["scope"][0].split()) >= {"openid", "ehbox"}


def test_session_id_changes_at_login(browser):
    """An id planted before login (session fixation) is worthless after it."""
    start = browser.get(browser.url("/login"), allow_redirects=False)
    assert "ehbox_session" not in start.headers.get("Set-Cookie", "")  # no session before
    before = "planted-by-someone-else-" + "x" * 20
    browser.cookies.set("ehbox_session", before, domain="127.0.0.1", path="/")
    browser.login("dr-alice")
    after = browser.cookies.get("ehbox_session")
    assert after and after != before
    with Browser(browser.live) as attacker:
        attacker.cookies.set("ehbox_session", before)
        assert "Alice" not in without_personas(attacker.get(attacker.url("/")).text)


def test_tokens_stay_on_the_server(browser):
    browser.login("dr-alice")
    cookie = browser.cookies.get("ehbox_session")
    assert "." not in cookie and len(cookie) < 60  # a random id, not a JWT or signed payload


def test_user_lands_where_they_were_going(browser):
    page = browser.login("dr-alice", next_path="/logout")
    assert urlsplit(page.url).path == "/logout"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_no_open_redirect_after_login(browser, target):
    page = browser.login("dr-alice", next_path=requests.utils.quote(target, safe=""))
    assert urlsplit(page.url).netloc == urlsplit(browser.live.url).netloc
    assert urlsplit(page.url).path == "/box/INBOX"  # refused: the default landing


def test_cancelled_login_gives_a_clear_page(browser):
    page = browser.get(browser.url("/login"))
    form = next(f for f in page_forms(page.text) if "username" in f["fields"] or f["buttons"])
    cancel = next(b for b in form["buttons"] if "cancel" in (b[0] + b[1]).lower())
    result = browser.submit(page, cancel[0], {}, button=cancel)
    assert result.status_code == 403
    assert "cancelled" in result.text
    assert "Log in again" in result.text


def test_forged_state_is_refused(browser):
    browser.get(browser.url("/login"), allow_redirects=False)
    page = browser.get(browser.url("/auth/callback?code=abc&state=forged"))
    assert page.status_code == 400
    assert "log in again" in page.text.lower()


def test_replayed_callback_is_refused(browser):
    start = browser.get(browser.url("/login"))
    # Stop at the callback so that it can be replayed.
    form = page_forms(start.text)[0]
    from urllib.parse import urljoin

    answer = browser.post(
        urljoin(start.url, form["action"]),
        data={**form["fields"], "username": "dr-alice"},
        allow_redirects=False,
    )
    callback = answer.headers["Location"]
    assert browser.get(callback).status_code == 200
    replay = browser.get(callback)
    assert replay.status_code == 400


def test_logout_ends_the_session_here_and_at_the_realm(browser):
    browser.login("dr-alice")
    steps = browser.post(
        browser.url("/logout"), data={"csrf_token": browser.csrf_token()}, allow_redirects=False
    )
    assert steps.status_code == 302
    end_session = urlsplit(steps.headers["Location"])
    assert end_session.path.endswith("/realms/healthcare/protocol/openid-connect/logout")
    query = parse_qs(end_session.query)
    assert query["post_logout_redirect_uri"] == [browser.url("/")]
    assert query["id_token_hint"][0].count(".") == 2
    final = browser.get(steps.headers["Location"])
    assert urlsplit(final.url).path == "/"
    assert "Log in with I.AM Connect" in final.text


def test_logout_needs_the_csrf_token(browser):
    browser.login("dr-alice")
    refused = browser.post(browser.url("/logout"), data={})
    assert refused.status_code == 400
    assert "Alice Peeters" in browser.get(browser.url("/")).text


def test_unreachable_realm_gives_a_clear_page(make_live_app):
    live = make_live_app({"IAM_ISSUER": "http://127.0.0.1:9/auth/realms/healthcare"})
    with Browser(live) as browser:
        page = browser.get(browser.url("/login"))
    assert page.status_code == 502
    assert "I.AM Connect" in page.text
    assert "Traceback" not in page.text


def test_healthz_answers_once_up(live_app):
    response = requests.get(f"{live_app.url}/healthz", timeout=5)
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def _session_tokens(browser) -> tuple[object, str, dict]:
    store = browser.live.app.extensions["services"].store
    key = "session:" + browser.cookies.get("ehbox_session")
    return store, key, store.get(key)


def test_access_token_is_refreshed_before_it_expires(browser):
    browser.login("dr-alice")
    store, key, data = _session_tokens(browser)
    old = data["tokens"]["access_token"]
    data["tokens"]["expires_at"] = time.time() + 5  # inside the refresh margin
    store.set(key, data, 3600)
    box = browser.get(browser.url("/api/v1/box"), headers={"Accept": "application/json"})
    assert box.status_code == 200
    refreshed = store.get(key)["tokens"]
    assert refreshed["access_token"] != old and refreshed["expires_at"] > time.time() + 60
    assert refreshed["id_token"]  # kept for the logout hint


def test_failed_refresh_sends_the_user_to_log_in_again(browser):
    browser.login("dr-alice")
    store, key, data = _session_tokens(browser)
    data["tokens"]["expires_at"] = time.time() - 1
    data["tokens"]["refresh_token"] = "revoked-or-expired"
    store.set(key, data, 3600)
    api = browser.get(browser.url("/api/v1/box"), headers={"Accept": "application/json"})
    assert api.status_code == 401 and api.json()["title"] == "Session expired"
    assert "Alice" not in without_personas(browser.get(browser.url("/")).text)  # ended
