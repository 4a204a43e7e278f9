"""Sessions at a real Keycloak 26: refresh rotation, both logouts, a key rotation, keycloak-js.

- Refresh: the realm rotates refresh tokens (`revokeRefreshToken`, no reuse). Eight
  requests of one session arrive together when its access token is about to expire: the
  app refreshes once, nobody is logged out, nothing answers 5xx; the old refresh token is
  then refused by Keycloak.
- RP-initiated logout: /logout sends the user to Keycloak's end-session endpoint with
  `id_token_hint`; Keycloak ends its session and returns to the app.
- Back-channel logout: the realm session is ended at Keycloak (its admin API, as an
  operator or another app would); Keycloak posts a logout token to the app, which ends the
  matching session.
- Key rotation: the app starts with a new keystore; Keycloak sees an assertion whose `kid`
  it does not know, reads the app's JWKS URL again, and the next login works.
- keycloak-js 26 in Chromium on the public client, from a vendor's page of its own origin:
  login, refresh, userinfo, /api/v1, logout.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from keycloak_fixtures import KeycloakBrowser, build_app
from npm_tools import npm_installed
from test_keycloak_js import PAGES, TOOL, VendorPage
from werkzeug.serving import make_server

from ehbox_webapp.config import SANDBOX_KEYSTORE_PASSWORD
from ehbox_webapp.ehealth.iam import TokenError
from ehbox_webapp.ehealth.keystore import generate_keystore

# real_keycloak and kc_app: tests/keycloak_fixtures.py (a plugin: one Keycloak per run).

JSON = {"Accept": "application/json"}


@pytest.fixture
def browser(kc_app, real_keycloak):
    with KeycloakBrowser(kc_app, real_keycloak.persona_password) as b:
        yield b


def session(kc_app, browser) -> tuple[object, str, dict]:
    store = kc_app.app.extensions["services"].store
    key = "session:" + browser.cookies.get("ehbox_session")
    return store, key, store.get(key)


def test_refresh_rotation_under_eight_parallel_requests(kc_app, browser):
    browser.login("dr-alice")
    store, key, data = session(kc_app, browser)
    old = dict(data["tokens"])
    data["tokens"]["expires_at"] = time.time() + 5  # inside the app's refresh margin
    store.set(key, data, 3600)

    cookie = {"ehbox_session": browser.cookies.get("ehbox_session")}
    start = threading.Barrier(8)

    def call(_):
        start.wait()
        return requests.get(f"{kc_app.url}/api/v1/box", cookies=cookie, headers=JSON, timeout=60)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(call, range(8)))
    assert [a.status_code for a in answers] == [200] * 8, [a.text[:200] for a in answers]

    fresh = store.get(key)["tokens"]
    assert fresh["refresh_token"] != old["refresh_token"]
    assert fresh["access_token"] != old["access_token"]
    # Keycloak rotated the refresh token: the old one is refused now.
    with pytest.raises(TokenError) as refused:
        kc_app.app.extensions["services"].iam.refresh(old["refresh_token"])
    assert refused.value.error == "invalid_grant"


def test_rp_initiated_logout_ends_both_sessions(kc_app, real_keycloak, browser):
    browser.login("dr-alice")
    _, _, data = session(kc_app, browser)
    refresh_token = data["tokens"]["refresh_token"]
    out = browser.post(
        browser.url("/logout"),
        data={"csrf_token": browser.csrf_token()},
        allow_redirects=False,
        timeout=15,
    )
    assert out.status_code == 302
    location = urlsplit(out.headers["Location"])
    assert out.headers["Location"].startswith(
        f"{real_keycloak.issuer()}/protocol/openid-connect/logout?"
    )
    query = parse_qs(location.query)
    assert query["id_token_hint"] == [data["tokens"]["id_token"]]
    assert query["post_logout_redirect_uri"] == [browser.url("/")]

    back = browser.get(out.headers["Location"], timeout=15)  # no confirmation with the hint
    assert back.status_code == 200
    assert urlsplit(back.url)._replace(query="").geturl() == browser.url("/")
    assert_logged_out(browser)
    with pytest.raises(TokenError) as refused:
        kc_app.app.extensions["services"].iam.refresh(refresh_token)
    assert refused.value.error == "invalid_grant"


def test_back_channel_logout_from_keycloak_ends_the_apps_session(kc_app, real_keycloak, browser):
    browser.login("nurse-bram")
    store, key, data = session(kc_app, browser)
    sid = data["user"]["sid"]
    assert sid
    admin = real_keycloak.admin()
    # The realm session ends at Keycloak, not through the app (an operator, another app).
    admin.call("DELETE", f"/healthcare/sessions/{sid}")
    deadline = time.monotonic() + 15
    while store.get(key) is not None and (store.get(key) or {}).get("user"):
        assert time.monotonic() < deadline, "Keycloak's logout token never ended the session"
        time.sleep(0.2)
    assert_logged_out(browser)


def assert_logged_out(browser) -> None:
    """The mailbox sends the browser to log in again."""
    box = browser.get(browser.url("/box/INBOX"), allow_redirects=False, timeout=15)
    assert box.status_code in (302, 303), box.status_code
    assert urlsplit(box.headers["Location"]).path == "/login"


def test_a_new_keystore_is_read_from_the_jwks_url_and_the_next_login_works(
    real_keycloak, kc_app, tmp_path
):
    rotated = generate_keystore(
        tmp_path / "renewed.acc-p12",
        SANDBOX_KEYSTORE_PASSWORD,
        identifier="0899999949",
        identifier_type="CBE",
        name="Sandbox Medical Software NV",
    )
    app = build_app(real_keycloak, tmp_path / "instance", rotated)
    new_kid = app.extensions["services"].identity.kid
    assert new_kid != kc_app.app.extensions["services"].identity.kid
    seen = len(real_keycloak.jwks_hits)
    wait_for_jwks_refetch(real_keycloak)
    try:
        with real_keycloak.serving(app):
            with KeycloakBrowser(kc_app, real_keycloak.persona_password) as browser:
                inbox = browser.login("dr-chloe")
            assert "Chloé Dubois" in inbox.text
            assert len(real_keycloak.jwks_hits) > seen  # Keycloak fetched the new key
            assert app.extensions["services"].m2m.client_credentials().access_token
    finally:
        rotate_back(real_keycloak, kc_app.app.extensions["services"])


def rotate_back(real_keycloak, services) -> None:
    """Make Keycloak read the session app's key again, in both realms, for the tests after."""

    def healthcare() -> None:
        with pytest.raises(TokenError) as refused:  # the client is authenticated first
            services.iam.refresh("not-a-refresh-token")
        if refused.value.error != "invalid_grant":
            raise refused.value

    for attempt in (services.m2m.client_credentials, healthcare):
        for tries_left in (2, 1, 0):
            wait_for_jwks_refetch(real_keycloak)
            try:
                attempt()
                break
            except TokenError:
                if not tries_left:
                    raise


def wait_for_jwks_refetch(real_keycloak) -> None:
    """Keycloak reads a client's JWKS again at most every 10 s (its public-key storage)."""
    if real_keycloak.jwks_hits:
        time.sleep(max(0.0, real_keycloak.jwks_hits[-1] + 11 - time.time()))


@pytest.fixture
def vendor(real_keycloak, kc_app, tmp_path, sandbox_keystore):
    """A vendor's keycloak-js page on its own origin, registered at the public client."""
    npm_installed(TOOL, "keycloak-js")
    page_server = make_server("127.0.0.1", 0, lambda e, s: [], threaded=True)
    origin = f"http://127.0.0.1:{page_server.server_port}"
    kc_origin = f"http://127.0.0.1:{real_keycloak.kc.port}"
    page = VendorPage(
        server=page_server,
        origin=origin,
        settings={
            "keycloak_url": real_keycloak.kc.base_url,
            "client_id": "ehbox-webapp-public",
            "api_url": f"{kc_app.url}/api/v1",
            "app_origin": f"{kc_app.url} {kc_origin}",  # the page's CSP connect-src
        },
    )
    page_server.app = page.wsgi
    thread = threading.Thread(target=page_server.serve_forever, daemon=True)
    thread.start()
    admin = real_keycloak.admin()
    before = admin.client("healthcare", "ehbox-webapp-public")
    admin.update_client(
        "healthcare",
        "ehbox-webapp-public",
        redirectUris=[*before["redirectUris"], *(f"{origin}/{name}/" for name in PAGES)],
    )
    app = build_app(real_keycloak, tmp_path / "instance", sandbox_keystore, CORS_ORIGINS=origin)
    try:
        with real_keycloak.serving(app):
            yield page
    finally:
        admin.restore_client("healthcare", before)
        page_server.shutdown()
        thread.join(5)


def test_keycloak_js_logs_in_refreshes_calls_the_api_and_logs_out(page, vendor, real_keycloak):
    page.goto(vendor.url("fragment"))
    page.wait_for_url(f"{real_keycloak.issuer()}/protocol/openid-connect/auth?**")
    page.fill("#username", "dr-alice")
    page.fill("#password", real_keycloak.persona_password)
    page.click("#kc-login")
    page.locator("#status[data-state=authenticated]").wait_for()
    assert page.locator("#status").inner_text() == "Logged in as Alice Peeters"
    parsed = page.evaluate(
        "() => ({token: keycloak.tokenParsed, refresh: keycloak.refreshTokenParsed,"
        " id: keycloak.idTokenParsed, session: keycloak.sessionId})"
    )
    assert parsed["token"]["azp"] == "ehbox-webapp-public"
    assert parsed["refresh"]["typ"] == "Refresh"
    assert parsed["session"] == parsed["id"]["sid"]

    before = page.evaluate("() => keycloak.token")
    assert page.evaluate("() => keycloak.updateToken(-1)") is True
    assert page.evaluate("() => keycloak.token") != before
    userinfo = page.evaluate("() => keycloak.loadUserInfo()")
    assert userinfo["preferred_username"] == "dr-alice" and userinfo["ssin"] == "85071212390"
    box = page.evaluate("() => callApi('/box')")
    assert box["status"] == 200, box

    page.evaluate("() => { keycloak.logout() }")
    # Back on the vendor's page, which (login-required) sends the user to log in again.
    page.wait_for_url(f"{real_keycloak.issuer()}/protocol/openid-connect/auth?**")
    assert page.locator("#username").is_visible()
    assert page.js_errors == []
