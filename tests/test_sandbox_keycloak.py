"""The sandbox realm behaves as Keycloak does toward browser clients (keycloak-js and others).

Over real HTTP on loopback, with the sandbox and relying party of tests/test_sandbox_iam.py.
A `requests.Session` plays the browser: it keeps the realm's SSO cookie between requests.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from test_sandbox_iam import (  # noqa: F401 - fixtures
    PUBLIC,
    WEB,
    Sandbox,
    assert_oauth_error,
    challenge_of,
    realm_key,
    relying_party,
    sandbox,
)


class Browser:
    """A cookie-keeping client of the sandbox's authorization endpoint."""

    def __init__(self, box: Sandbox):
        self.box = box
        self.http = requests.Session()

    def authorize(self, client_id: str = PUBLIC, **params) -> tuple[requests.Response, str]:
        verifier = secrets.token_urlsafe(48)
        query = {
            "client_id": client_id,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": self.box.rp.public_callback
            if client_id == PUBLIC
            else self.box.rp.callback,
            "state": "st-" + secrets.token_hex(4),
            "nonce": "n-1",
            "code_challenge": challenge_of(verifier),
            "code_challenge_method": "S256",
            **params,
        }
        query = {k: v for k, v in query.items() if v is not None}
        response = self.http.get(
            self.box.endpoint("auth"), params=query, allow_redirects=False, timeout=10
        )
        return response, verifier

    def login(self, username: str = "dr-alice", **params) -> tuple[requests.Response, str]:
        """Authorize, then pick `username` on the login page: the answer to the client."""
        page, verifier = self.authorize(**params)
        assert page.status_code == 200, page.text
        action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
        hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
        answer = self.http.post(
            urljoin(page.url, action),
            data={**hidden, "username": username},
            allow_redirects=False,
            timeout=10,
        )
        return answer, verifier

    def redeem(self, code: str, verifier: str, client_id: str = PUBLIC) -> dict:
        redirect_uri = self.box.rp.public_callback if client_id == PUBLIC else self.box.rp.callback
        response = self.box.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            client_id,
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def browser(sandbox: Sandbox) -> Browser:  # noqa: F811 - the imported fixture
    return Browser(sandbox)


def query_of(response: requests.Response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def fragment_of(response: requests.Response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).fragment).items()}


def payload(token: str) -> dict:
    """A JWT's claims decoded without verification: what keycloak-js's decodeToken does."""
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# -- discovery ---------------------------------------------------------------------------------


def test_discovery_advertises_the_three_response_modes(sandbox: Sandbox):  # noqa: F811
    url = f"{sandbox.issuer()}/.well-known/openid-configuration"
    document = requests.get(url, timeout=10).json()
    assert document["response_modes_supported"] == ["query", "fragment", "form_post"]


# -- response modes ----------------------------------------------------------------------------


def test_fragment_mode_puts_code_session_state_and_iss_in_the_fragment(browser: Browser):
    answer, verifier = browser.login(response_mode="fragment")

    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert location.query == ""  # keycloak-js in fragment mode reads the fragment only
    params = fragment_of(answer)
    assert set(params) == {"code", "state", "session_state", "iss"}
    assert params["iss"] == browser.box.issuer()
    tokens = browser.redeem(params["code"], verifier)
    assert payload(tokens["id_token"])["sid"] == params["session_state"]


def test_query_mode_has_session_state_and_iss_on_the_callback(browser: Browser):
    answer, _ = browser.login(response_mode="query")
    params = query_of(answer)
    assert set(params) == {"code", "state", "session_state", "iss"}
    assert urlsplit(answer.headers["Location"]).fragment == ""


def test_form_post_mode_answers_with_a_form_the_page_script_submits(browser: Browser):
    answer, verifier = browser.login(response_mode="form_post")

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    form = re.search(r'<form method="post" action="([^"]+)"', answer.text).group(1)
    assert unescape(form) == browser.box.rp.public_callback
    fields = {
        k: unescape(v)
        for k, v in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', answer.text)
    }
    assert set(fields) == {"code", "state", "session_state", "iss"}
    # The script is our own file (CSP allows 'self' only), and the page works without it.
    script = re.search(r'<script src="([^"]+)"', answer.text).group(1)
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert "<script>" not in answer.text and "Continue" in answer.text
    js = requests.get(urljoin(answer.url, script), timeout=10)
    assert js.status_code == 200 and "submit()" in js.text
    browser.redeem(fields["code"], verifier)


@pytest.mark.parametrize(
    "mode, where", [("query", query_of), ("fragment", fragment_of), (None, query_of)]
)
def test_errors_go_back_in_the_mode_asked_for(browser: Browser, mode, where):
    answer, _ = browser.authorize(response_mode=mode, code_challenge_method="plain")
    assert answer.status_code == 302
    params = where(answer)
    assert params["error"] == "invalid_request" and params["iss"] == browser.box.issuer()
    assert params["state"].startswith("st-")


def test_an_error_in_form_post_mode_is_posted_back(browser: Browser):
    answer, _ = browser.authorize(response_mode="form_post", scope="openid nosuchscope")
    assert answer.status_code == 200
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', answer.text))
    assert fields["error"] == "invalid_scope" and "code" not in fields


def test_an_unknown_response_mode_is_refused_in_the_default_mode(browser: Browser):
    answer, _ = browser.authorize(response_mode="jwt")
    assert query_of(answer)["error"] == "invalid_request"


# -- refresh tokens --------------------------------------------------------------------------


def test_refresh_tokens_are_jwts_a_browser_library_can_decode(browser: Browser):
    answer, verifier = browser.login(response_mode="fragment")
    tokens = browser.redeem(fragment_of(answer)["code"], verifier)

    header = json.loads(base64.urlsafe_b64decode(tokens["refresh_token"].split(".")[0] + "=="))
    claims = payload(tokens["refresh_token"])
    assert header["alg"] == "HS512"  # as Keycloak: no client can verify it, none needs to
    assert claims["typ"] == "Refresh" and claims["azp"] == PUBLIC
    assert claims["iss"] == claims["aud"] == browser.box.issuer()
    assert claims["sid"] == payload(tokens["id_token"])["sid"]
    assert claims["exp"] - claims["iat"] == tokens["refresh_expires_in"]

    again = browser.box.refresh(tokens["refresh_token"], PUBLIC)
    assert again.status_code == 200, again.text
    assert payload(again.json()["refresh_token"])["jti"] != claims["jti"]


def test_a_refresh_token_is_not_accepted_as_an_access_token(browser: Browser):
    answer, verifier = browser.login()
    tokens = browser.redeem(query_of(answer)["code"], verifier)
    response = requests.get(
        browser.box.endpoint("userinfo"),
        headers={"Authorization": f"Bearer {tokens['refresh_token']}"},
        timeout=10,
    )
    assert response.status_code == 401


# -- the realm's SSO session: prompt=none, max_age ----------------------------------------------


def test_prompt_none_without_a_realm_session_answers_login_required(browser: Browser):
    answer, _ = browser.authorize(prompt="none", response_mode="fragment")
    assert answer.status_code == 302
    assert fragment_of(answer)["error"] == "login_required"


def test_prompt_none_with_a_realm_session_answers_a_code_for_any_client_of_the_realm(
    browser: Browser,
):
    first, verifier = browser.login(client_id=PUBLIC)
    sid = query_of(first)["session_state"]
    cookie = first.headers["Set-Cookie"]
    assert "KEYCLOAK_IDENTITY=" in cookie and "HttpOnly" in cookie
    assert "Path=/sandbox/auth/realms/healthcare/" in cookie
    assert sid not in cookie  # the cookie is its own secret, not the sid clients see

    # The confidential client of the same realm gets a code without a login page.
    silent, verifier = browser.authorize(client_id=WEB, prompt="none")
    params = query_of(silent)
    assert "code" in params and params["session_state"] == sid
    tokens = browser.redeem(params["code"], verifier, client_id=WEB)
    id_claims = payload(tokens["id_token"])
    assert id_claims["sid"] == sid and id_claims["preferred_username"] == "dr-alice"
    assert id_claims["nonce"] == "n-1"


def test_prompt_none_after_logout_answers_login_required(browser: Browser):
    first, verifier = browser.login()
    tokens = browser.redeem(query_of(first)["code"], verifier)
    logout = browser.http.get(
        browser.box.endpoint("logout"),
        params={
            "id_token_hint": tokens["id_token"],
            "client_id": PUBLIC,
            "post_logout_redirect_uri": browser.box.rp.public_callback,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert logout.status_code == 302
    assert logout.headers["Location"] == browser.box.rp.public_callback
    assert "KEYCLOAK_IDENTITY=;" in logout.headers["Set-Cookie"]  # cleared

    silent, _ = browser.authorize(prompt="none")
    assert query_of(silent)["error"] == "login_required"


def test_a_session_cookie_of_one_realm_means_nothing_in_another(browser: Browser):
    browser.login()
    value = browser.http.cookies.get("KEYCLOAK_IDENTITY")
    # The M2M realm has no browser clients to ask with: the realms' store answers.
    store = browser.box.server.server.app.mounts["/sandbox"].extensions["sandbox_iam"].store
    assert store.sso_session("healthcare", value) is not None
    assert store.sso_session("M2M", value) is None


@pytest.mark.parametrize("max_age, silent_ok", [("0", False), ("3600", True)])
def test_max_age_decides_whether_the_session_is_recent_enough(browser: Browser, max_age, silent_ok):
    browser.login()
    silent, _ = browser.authorize(prompt="none", max_age=max_age)
    params = query_of(silent)
    assert ("code" in params) is silent_ok
    if not silent_ok:
        assert params["error"] == "login_required"


def test_max_age_must_be_a_number(browser: Browser):
    answer, _ = browser.authorize(max_age="soon")
    assert query_of(answer)["error"] == "invalid_request"


def test_a_login_with_max_age_carries_auth_time(browser: Browser):
    answer, verifier = browser.login(max_age="0")
    claims = payload(browser.redeem(query_of(answer)["code"], verifier)["id_token"])
    assert isinstance(claims["auth_time"], int)


# -- ui_locales ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ui_locales, lang, heading",
    [
        ("fr-BE nl", "fr", "Choisissez comment vous identifier"),
        ("nl", "nl", "Kies hoe u zich identificeert"),
        ("de", "de", "Wählen Sie, wie Sie sich identifizieren"),
        ("ja", "en", "Choose how to identify"),
        (None, "en", "Choose how to identify"),
    ],
)
def test_ui_locales_picks_the_login_pages_language(browser: Browser, ui_locales, lang, heading):
    page, _ = browser.authorize(ui_locales=ui_locales)
    assert f'<html lang="{lang}">' in page.text and heading in page.text


# -- logout with id_token_hint, CORS --------------------------------------------------------------


def test_logout_with_id_token_hint_ends_the_session_of_that_token(browser: Browser):
    answer, verifier = browser.login()
    tokens = browser.redeem(query_of(answer)["code"], verifier)
    response = browser.box.logout(tokens["id_token"])
    assert response.status_code == 200
    assert_oauth_error(browser.box.refresh(tokens["refresh_token"], PUBLIC), "invalid_grant")


def test_token_and_userinfo_allow_credentialed_calls_from_web_origins(browser: Browser):
    origin = browser.box.rp.url
    answer, verifier = browser.login()
    tokens = browser.redeem(query_of(answer)["code"], verifier)

    preflight = requests.options(
        browser.box.endpoint("userinfo"),
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
        timeout=10,
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    userinfo = requests.get(
        browser.box.endpoint("userinfo"),
        headers={"Origin": origin, "Authorization": f"bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert userinfo.status_code == 200 and userinfo.json()["preferred_username"] == "dr-alice"
    assert userinfo.headers["Access-Control-Allow-Origin"] == origin
    assert userinfo.headers["Access-Control-Allow-Credentials"] == "true"
    refresh = requests.post(
        browser.box.endpoint("token"),
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": PUBLIC,
        },
        headers={"Origin": origin},
        timeout=10,
    )
    assert refresh.status_code == 200
    assert refresh.headers["Access-Control-Allow-Credentials"] == "true"
    foreign = requests.get(
        browser.box.endpoint("userinfo"),
        headers={"Origin": "https://evil.example", "Authorization": "bearer x"},
        timeout=10,
    )
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_the_realms_default_scope_is_granted_without_being_asked(browser: Browser):
    """eHealth's sample asks for `openid` only; Keycloak adds the client's default scopes."""
    answer, verifier = browser.login(scope="openid")
    tokens = browser.redeem(query_of(answer)["code"], verifier)
    assert tokens["scope"] == "openid ehbox" and payload(tokens["access_token"])["scope"] == (
        "openid ehbox"
    )
