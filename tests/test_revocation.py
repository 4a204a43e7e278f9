"""Revocation (issue 25): a Bearer token whose realm session ended is refused within seconds.

A token is a signed JWT: its signature and `exp` hold after its session ends, and the app
used to trust a validation and an exchanged token it had kept for minutes. Now the realm's
word ends them: a back-channel logout, or a token exchange the realm refuses, drops what
was kept for that session, and every instance refuses the session's tokens at their next
validation, at most VALIDATION_TTL seconds later.
"""

from __future__ import annotations

import base64
import json
import time

import requests
from conftest import Browser
from test_api import BRAM
from test_instances import redis_url, start_instances  # noqa: F401  (fixtures)

from ehbox_webapp.ehealth.iam import VALIDATION_TTL
from ehbox_webapp.sandbox import loopback

HEALTHCARE = "/auth/realms/healthcare/protocol/openid-connect"


def login(live_url: str, persona: str = "dr-alice") -> dict:
    """The public client's whole token response (access, refresh and ID token)."""
    with requests.Session() as browser:
        browser.headers["Accept"] = "text/html"
        return loopback.public_client_login(browser, live_url, persona)


def call(base: str, token: str, method: str = "GET", path: str = "/box", **kwargs):
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    return requests.request(method, f"{base}/api/v1{path}", headers=headers, timeout=15, **kwargs)


def send(base: str, token: str, title: str) -> requests.Response:
    message = json.dumps({"recipients": [BRAM], "title": title, "text": "Hallo"})
    return call(base, token, "POST", "/messages", files={"message": (None, message)})


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def logout_at_the_realm(sandbox_url: str, id_token: str) -> None:
    """The user logs out at I.AM Connect (another tab, another app)."""
    ended = requests.get(
        f"{sandbox_url}{HEALTHCARE}/logout", params={"id_token_hint": id_token}, timeout=15
    )
    assert ended.status_code == 200


def test_a_used_token_is_refused_at_once_after_a_back_channel_logout(live_app):
    tokens = login(live_app.url)
    token = tokens["access_token"]
    # Used before the logout: its validation and its exchanged token are kept here.
    assert call(live_app.url, token).status_code == 200
    assert send(live_app.url, token, "Before the logout").status_code == 201

    logout_at_the_realm(live_app.sandbox(), tokens["id_token"])

    listed = call(live_app.url, token, path="/messages?pageSize=1")
    assert listed.status_code == 401, listed.text[:300]
    assert listed.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert send(live_app.url, token, "After the logout").status_code == 401
    assert call(live_app.url, token, path="/whoami").status_code == 401
    # ... and the refusal lasts: nothing re-validated it from a cache.
    assert call(live_app.url, token).status_code == 401


def test_a_refused_exchange_drops_what_was_kept_for_the_session(live_app):
    """The session ends without a word to the app (no back channel): the first exchange the
    realm refuses, for any token of that session, ends the session's cached tokens too."""
    tokens = login(live_app.url)
    first = tokens["access_token"]
    assert call(live_app.url, first).status_code == 200  # validated, exchanged, both kept
    refreshed = requests.post(
        live_app.sandbox(f"{HEALTHCARE}/token"),
        data={
            "grant_type": "refresh_token",
            "client_id": claims_of(first)["azp"],
            "refresh_token": tokens["refresh_token"],
        },
        timeout=15,
    ).json()
    second = refreshed["access_token"]
    assert claims_of(second)["sid"] == claims_of(first)["sid"]

    realm = live_app.app.extensions["sandbox_app"].extensions["sandbox_iam"]
    assert realm.store.end_session(claims_of(first)["sid"])  # silently, at the realm

    assert call(live_app.url, second).status_code == 401  # its exchange is refused
    # The first token's exchanged token was kept here: it went with its session.
    assert call(live_app.url, first).status_code == 401


def test_another_instance_refuses_the_token_within_the_validation_ttl(start_instances):  # noqa: F811
    """Two instances on one Redis: the realm's back-channel logout reaches the first; the
    second, which had validated and exchanged the token itself, refuses it at its next
    validation, at most VALIDATION_TTL seconds later."""
    first, second = start_instances()
    tokens = login(first)
    token = tokens["access_token"]
    assert call(second, token).status_code == 200  # kept on the second instance

    logout_at_the_realm(f"{first}/sandbox", tokens["id_token"])
    assert call(first, token).status_code == 401  # the instance told: at once

    ended = time.monotonic()
    while call(second, token).status_code == 200:
        assert time.monotonic() - ended < VALIDATION_TTL + 2, "still accepted"
        time.sleep(0.5)
    assert call(second, token, path="/whoami").status_code == 401
    assert send(second, token, "From the other instance").status_code == 401


def test_a_new_login_after_the_logout_works(live_app):
    """Only the ended session's tokens are refused: the user's next login is not."""
    tokens = login(live_app.url)
    assert call(live_app.url, tokens["access_token"]).status_code == 200
    logout_at_the_realm(live_app.sandbox(), tokens["id_token"])
    again = login(live_app.url)
    assert call(live_app.url, again["access_token"]).status_code == 200
    with Browser(live_app) as browser:  # and the web login of the same user
        browser.login("dr-alice")
        assert "Alice Peeters" in browser.get(browser.url("/box/INBOX"), timeout=15).text
