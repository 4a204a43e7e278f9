"""Back-Channel Logout: a logout elsewhere ends the user's sessions here."""

import time
import uuid

import pytest
import requests

EVENT = {"http://schemas.openid.net/event/backchannel-logout": {}}


def logout_token(live, **change):
    signer = live.app.extensions["sandbox_app"].extensions["sandbox"]["signer"]
    iam = live.app.extensions["services"].iam
    now = int(time.time())
    claims = {
        "iss": iam.issuer,
        "aud": iam.client_id,
        "iat": now,
        "exp": now + 120,
        "jti": str(uuid.uuid4()),
        "sid": "some-sid",
        "sub": "some-sub",
        "events": EVENT,
    }
    claims.update(change)
    return signer.sign({k: v for k, v in claims.items() if v is not None}, typ="logout+jwt")


def post(live, token):
    return requests.post(
        f"{live.url}/auth/backchannel-logout", data={"logout_token": token}, timeout=10
    )


def test_logout_at_the_realm_ends_the_session_here(browser):
    browser.login("dr-alice")
    assert "Alice Peeters" in browser.get(browser.url("/")).text
    store = browser.live.app.extensions["services"].store
    tokens = store.get("session:" + browser.cookies.get("ehbox_session"))["tokens"]
    # The user logs out at the realm from somewhere else (another tab, another app).
    ended = requests.get(
        browser.live.sandbox("/auth/realms/healthcare/protocol/openid-connect/logout"),
        params={"id_token_hint": tokens["id_token"]},
        timeout=10,
    )
    assert ended.status_code == 200
    # The session here ended with it: the mailbox sends to the login again.
    inbox = browser.get(browser.url("/box/INBOX"), allow_redirects=False, timeout=10)
    assert inbox.status_code == 302 and "/login" in inbox.headers["Location"]


def test_a_logout_token_is_accepted_once(live_app):
    token = logout_token(live_app)
    assert post(live_app, token).status_code == 200
    replay = post(live_app, token)
    assert replay.status_code == 400 and replay.json()["error_description"] == "replayed"


@pytest.mark.parametrize(
    "change",
    [
        {"nonce": "abc"},
        {"events": None},
        {"events": {"http://example.org/other": {}}},
        {"aud": "another-client"},
        {"iss": "https://elsewhere.example/realms/healthcare"},
        {"sid": None, "sub": None},
        {"jti": None},
    ],
)
def test_bad_logout_tokens_are_refused(live_app, change):
    assert post(live_app, logout_token(live_app, **change)).status_code == 400


def test_logout_token_needs_no_csrf_but_a_token(live_app):
    assert post(live_app, "").status_code == 400
