"""keycloak-js 26, the library eHealth mandates for I.AM Connect, against the sandbox in Chromium.

A vendor's page (tests/keycloak_js/page/) is served from its own origin, next to the
app, and starts keycloak-js exactly as eHealth's browser sample does:
`onLoad: 'login-required', checkLoginIframe: false`, PKCE S256. The library comes from
tests/keycloak_js/node_modules (pinned by its package-lock.json), served by the page's
own server: no CDN, and a CSP without inline script. Both response modes are tried:
keycloak-js's default `fragment`, and `query`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from npm_tools import npm_installed
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from ehbox_webapp.config import SANDBOX_PUBLIC_CLIENT_ID

TOOL = Path(__file__).parent / "keycloak_js"
MODES = ("fragment", "query")
# Each page of the vendor: its response mode and keycloak-js `onLoad`.
PAGES = {
    "fragment": ("fragment", "login-required"),
    "query": ("query", "login-required"),
    "check-sso": ("fragment", "check-sso"),
}


@dataclass
class VendorPage:
    """The vendor's page server: one page per response mode, keycloak-js, the page script."""

    server: object
    origin: str
    settings: dict

    def url(self, name: str) -> str:
        return f"{self.origin}/{name}/"

    def wsgi(self, environ, start_response):
        path = Request(environ).path
        if path.strip("/") in PAGES:
            mode, on_load = PAGES[path.strip("/")]
            html = (TOOL / "page" / "index.html").read_text()
            body = html.format(response_mode=mode, on_load=on_load, **self.settings)
            mimetype = "text/html"
        elif path == "/keycloak.js":
            body = (TOOL / "node_modules" / "keycloak-js" / "lib" / "keycloak.js").read_text()
            mimetype = "text/javascript"
        elif path == "/vendor-page.js":
            body, mimetype = (TOOL / "page" / "vendor-page.js").read_text(), "text/javascript"
        else:
            return Response("not found", 404)(environ, start_response)
        response = Response(body, mimetype=mimetype)
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; script-src 'self'; "
            f"connect-src {self.settings['app_origin']}; base-uri 'none'; frame-ancestors 'none'"
        )
        return response(environ, start_response)


@pytest.fixture
def vendor(make_live_app) -> Iterator[tuple[VendorPage, object]]:
    """The vendor's page on its own port, and the app whose sandbox registered it."""
    npm_installed(TOOL, "keycloak-js")
    page_server = make_server("127.0.0.1", 0, lambda e, s: [], threaded=True)
    origin = f"http://127.0.0.1:{page_server.server_port}"
    live = make_live_app(
        {
            # What a vendor sets to try their page against the sandbox (README).
            "SANDBOX_PUBLIC_REDIRECT_URIS": ",".join(f"{origin}/{name}/" for name in PAGES),
            "CORS_ORIGINS": origin,
        }
    )
    vendor_page = VendorPage(
        server=page_server,
        origin=origin,
        settings={
            "keycloak_url": live.sandbox("/auth"),
            "client_id": SANDBOX_PUBLIC_CLIENT_ID,
            "api_url": f"{live.url}/api/v1",
            "app_origin": live.url,
        },
    )
    page_server.app = vendor_page.wsgi
    thread = threading.Thread(target=page_server.serve_forever, daemon=True)
    thread.start()
    yield vendor_page, live
    page_server.shutdown()
    thread.join(5)


def logged_in(page, vendor_page: VendorPage, mode: str, persona: str = "dr-alice") -> None:
    page.goto(vendor_page.url(mode))
    # login-required: keycloak-js sends the browser straight to the realm's login page.
    page.wait_for_url("**/sandbox/auth/realms/healthcare/protocol/openid-connect/auth?**")
    page.click(f"button[name=username][value={persona}]")
    page.locator("#status[data-state=authenticated]").wait_for()


@pytest.mark.parametrize("mode", MODES)
def test_keycloak_js_logs_in_refreshes_reads_userinfo_calls_the_api_and_logs_out(
    page, vendor, mode
):
    vendor_page, live = vendor
    logged_in(page, vendor_page, mode)

    assert page.locator("#status").inner_text() == "Logged in as Alice Peeters"
    # The callback parameters left the address bar (keycloak-js cleans what it parsed).
    assert page.url == vendor_page.url(mode)
    parsed = page.evaluate(
        "() => ({token: keycloak.tokenParsed, refresh: keycloak.refreshTokenParsed,"
        " id: keycloak.idTokenParsed, session: keycloak.sessionId})"
    )
    assert parsed["token"]["azp"] == SANDBOX_PUBLIC_CLIENT_ID
    assert parsed["token"]["preferred_username"] == "dr-alice"
    assert parsed["refresh"]["typ"] == "Refresh"  # decoded by keycloak-js: a JWT
    assert parsed["id"]["nonce"]  # keycloak-js checked it against the one it sent
    assert parsed["session"] == parsed["id"]["sid"]

    before = page.evaluate("() => keycloak.token")
    assert page.evaluate("() => keycloak.updateToken(-1)") is True
    after = page.evaluate("() => ({token: keycloak.token, parsed: keycloak.tokenParsed})")
    assert after["token"] != before and after["parsed"]["sid"] == parsed["id"]["sid"]

    userinfo = page.evaluate("() => keycloak.loadUserInfo()")
    assert userinfo["preferred_username"] == "dr-alice" and userinfo["ssin"] == "85071212390"

    box = page.evaluate("() => callApi('/box')")
    assert box["status"] == 200, box
    whoami = page.evaluate("() => callApi('/whoami')")
    assert whoami["status"] == 200, whoami

    refresh_token = page.evaluate("() => keycloak.refreshToken")
    seen: list[str] = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and seen.append(frame.url))
    page.evaluate("() => { keycloak.logout() }")
    # Back on the vendor's page, which (login-required) sends the user to log in again.
    page.wait_for_url("**/sandbox/auth/realms/healthcare/protocol/openid-connect/auth?**")
    assert vendor_page.url(mode) in seen, seen
    assert page.locator("button[name=username][value=dr-alice]").is_visible()
    # The realm session ended: the refresh token the page held is dead.
    dead = requests.post(
        live.sandbox("/auth/realms/healthcare/protocol/openid-connect/token"),
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": SANDBOX_PUBLIC_CLIENT_ID,
        },
        timeout=10,
    )
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"
    assert page.js_errors == []  # no script error, no CSP violation


def test_keycloak_js_check_sso_finds_the_realm_session_with_prompt_none(page, vendor):
    """`check-sso` asks with prompt=none: anonymous before a login, the same session after."""
    vendor_page, _ = vendor
    page.goto(vendor_page.url("check-sso"))
    page.locator("#status[data-state=anonymous]").wait_for()  # login_required, read silently

    logged_in(page, vendor_page, "fragment")
    first_sid = page.evaluate("() => keycloak.sessionId")
    page.goto(vendor_page.url("check-sso"))
    page.locator("#status[data-state=authenticated]").wait_for()
    assert page.evaluate("() => keycloak.sessionId") == first_sid
    assert page.js_errors == []
