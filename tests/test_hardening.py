"""Hardening: security headers, cookies, CSRF, proxies, rate limits, caching, size limits,
readiness."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from ehbox_webapp import create_app
from ehbox_webapp.config import SANDBOX_KEYSTORE_PASSWORD


@pytest.fixture
def acceptance_client(tmp_path, sandbox_keystore):
    """The app configured for acceptance (no sandbox mounted), through Flask's test client."""
    environ = {
        "EHBOX_ENV": "acceptance",
        "PUBLIC_URL": "https://ehbox.example.be",
        "SECRET_KEY": "k" * 40,
        "IAM_CLIENT_ID": "mysoftware-ehbox",
        "ETEE_KEYSTORE": str(sandbox_keystore),
        "ETEE_KEYSTORE_PASSWORD": SANDBOX_KEYSTORE_PASSWORD,
        "ETEE_IDENTIFIER": "0899999949",
        "EHBOX_API_URL": "https://api-acpt.example/ehbox/v1",
        "EHEALTH_FROM": "ops@example.be",
    }
    app = create_app({"INSTANCE_PATH": str(tmp_path)}, environ=environ)
    return app.test_client()


@pytest.mark.parametrize(
    "path",
    ["/", "/healthz", "/.well-known/jwks.json", "/api/v1/box", "/public-client/", "/no-such-page"],
)
def test_security_headers_on_every_response(live_app, path):
    response = requests.get(live_app.url + path, timeout=10)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in response.headers  # plain http in the sandbox


def test_outside_the_sandbox_hsts_and_secure_cookies(acceptance_client):
    response = acceptance_client.get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    with acceptance_client.session_transaction() as session:
        session["user"] = {"sub": "x"}
    cookie = acceptance_client.get_cookie("ehbox_session")
    assert cookie.secure and cookie.http_only and cookie.same_site == "Lax"


def test_sandbox_cookie_is_httponly_and_lax(browser):
    start = browser.get(browser.url("/login"), allow_redirects=False)  # the login in progress
    cookies = [next(c for c in start.cookies if c.name == "ehbox_login")]
    browser.login("dr-alice")  # and the session
    cookies.append(next(c for c in browser.cookies if c.name == "ehbox_session"))
    for cookie in cookies:
        assert cookie.has_nonstandard_attr("HttpOnly"), cookie.name
        assert cookie.get_nonstandard_attr("SameSite") == "Lax", cookie.name


def test_forged_csrf_token_is_refused(browser):
    browser.login("dr-alice")
    forged = browser.post(browser.url("/logout"), data={"csrf_token": "IjEyMyI.forged.token"})
    assert forged.status_code == 400
    assert "Alice Peeters" in browser.get(browser.url("/")).text


def test_login_route_is_rate_limited_with_a_login_page_of_its_own(live_app):
    with requests.Session() as session:
        statuses = [
            session.get(f"{live_app.url}/login", allow_redirects=False, timeout=10).status_code
            for _ in range(20)
        ]
        assert statuses == [302] * 20
        limited = session.get(f"{live_app.url}/login", allow_redirects=False, timeout=10)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "Too many login attempts" in limited.text
    assert "More than 20 logins were started from your network address" in limited.text
    assert "sent twice" not in limited.text  # the send wording is for sends


def test_behind_one_proxy_each_user_keeps_their_own_login_limit(make_live_app):
    """A clinic behind nginx: every request comes from the proxy, X-Forwarded-For names who."""
    live = make_live_app({"TRUSTED_PROXIES": "1", "RATE_LIMIT_LOGIN": "3/minute"})

    def start_login(user_address: str) -> requests.Response:
        return requests.get(
            f"{live.url}/login",
            headers={"X-Forwarded-For": user_address},
            allow_redirects=False,
            timeout=10,
        )

    assert [start_login("10.1.0.7").status_code for _ in range(3)] == [302] * 3
    assert start_login("10.1.0.7").status_code == 429  # the first doctor used up hers
    second = start_login("10.1.0.8")
    assert second.status_code == 302  # the second doctor, same proxy, still logs in
    # Redirect URIs come from PUBLIC_URL, never from a forwarded host.
    forged = requests.get(
        f"{live.url}/login",
        headers={"X-Forwarded-For": "10.1.0.9", "X-Forwarded-Host": "evil.example"},
        allow_redirects=False,
        timeout=10,
    )
    query = parse_qs(urlsplit(forged.headers["Location"]).query)
    assert query["redirect_uri"] == [f"{live.url}/auth/callback"]


def test_without_trusted_proxies_a_forwarded_address_is_not_believed(make_live_app):
    live = make_live_app({"RATE_LIMIT_LOGIN": "2/minute"})
    statuses = [
        requests.get(
            f"{live.url}/login",
            headers={"X-Forwarded-For": f"10.9.0.{i}"},  # anyone can send this header
            allow_redirects=False,
            timeout=10,
        ).status_code
        for i in range(3)
    ]
    assert statuses == [302, 302, 429]


def test_behind_one_proxy_sends_count_per_user(make_live_app):
    """Two users behind the same address: one reaching the send limit does not stop the other."""
    from conftest import Browser

    live = make_live_app({"TRUSTED_PROXIES": "1", "RATE_LIMIT_SEND": "2/minute"})

    def send(browser: Browser, title: str) -> requests.Response:
        message = {
            "recipients": [{"type": "INSS", "id": "79031545695", "quality": "NURSE"}],
            "title": title,
            "text": "Per persoon geteld",
        }
        return browser.post(
            browser.url("/api/v1/messages"),
            headers={"Accept": "application/json", "X-CSRFToken": browser.csrf_token("/")},
            files={"message": (None, json.dumps(message), "application/json")},
        )

    with Browser(live) as alice, Browser(live) as chloe:
        for browser, persona in ((alice, "dr-alice"), (chloe, "dr-chloe")):
            browser.headers["X-Forwarded-For"] = "10.2.0.1"  # one NAT address for the clinic
            browser.login(persona)
        assert [send(alice, f"Alice {i}").status_code for i in range(2)] == [201, 201]
        limited = send(alice, "Alice 3")
        assert limited.status_code == 429
        assert limited.headers["Content-Type"].startswith("application/problem+json")
        assert int(limited.headers["Retry-After"]) > 0
        assert send(chloe, "Chloé 1").status_code == 201


def test_a_mailbox_action_over_the_limit_gets_the_rate_limited_page(make_live_app):
    """The mailbox pages answer their own 429: outside a send, the generic page."""
    from conftest import Browser

    live = make_live_app({"RATE_LIMIT_ACTIONS": "1/minute"})
    with Browser(live) as alice:
        alice.login("dr-alice")
        token = alice.csrf_token("/box/INBOX")

        def move_nothing() -> requests.Response:
            return alice.post(
                alice.url("/box/INBOX/selected"),
                data={"csrf_token": token, "action": "move"},
                allow_redirects=False,
                timeout=10,
            )

        assert move_nothing().status_code != 429
        limited = move_nothing()
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "Too many requests" in limited.text and 'data-status="429"' in limited.text
    assert "Too many login attempts" not in limited.text


def test_a_limit_outside_the_blueprints_gets_the_generic_page(acceptance_client):
    """The app's own 429, for a limited view no blueprint answers for."""
    from ehbox_webapp.web.limits import limiter

    @limiter.limit("1/minute")
    def limited_outside_blueprints():
        return "ok"

    acceptance_client.application.add_url_rule("/limited", view_func=limited_outside_blueprints)
    assert acceptance_client.get("/limited").status_code == 200
    limited = acceptance_client.get("/limited")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert 'data-status="429"' in limited.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/box/", "/box/INBOX", "/box/compose", "/api/v1/box"])
def test_pages_with_personal_data_are_never_stored_by_a_cache(browser, path):
    browser.login("dr-alice")
    response = browser.get(browser.url(path), headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Cookie" in response.headers["Vary"]


def test_a_message_page_and_a_redirect_are_never_stored_by_a_cache(browser):
    browser.login("dr-alice")
    headers = {"Accept": "application/json"}
    newest = browser.get(browser.url("/api/v1/messages?pageSize=1"), headers=headers).json()
    message_id = newest["messages"][0]["messageId"]
    page = browser.get(browser.url(f"/box/INBOX/{message_id}"))
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Cookie" in page.headers["Vary"]
    login = browser.get(browser.url("/login"), allow_redirects=False)
    assert login.status_code == 302 and login.headers["Cache-Control"] == "no-store"


def test_static_files_are_cached_long_under_a_content_hash(live_app):
    import hashlib
    import re
    from pathlib import Path

    page = requests.get(live_app.url + "/", timeout=10).text
    href = re.search(r'href="(/static/style\.css\?v=([0-9a-f]+))"', page)
    assert href, "the stylesheet's URL carries no content hash"
    css = (Path(__file__).resolve().parent.parent / "static" / "style.css").read_bytes()
    assert href.group(2) == hashlib.sha256(css).hexdigest()[: len(href.group(2))]
    hashed = requests.get(live_app.url + href.group(1), timeout=10)
    assert hashed.status_code == 200
    assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    bare = requests.get(live_app.url + "/static/style.css", timeout=10)
    assert bare.headers["Cache-Control"] == "no-cache"  # no hash: revalidate every time
    stale = requests.get(live_app.url + "/static/style.css?v=000000000000", timeout=10)
    assert stale.headers["Cache-Control"] == "no-cache"
    jwks = requests.get(live_app.url + "/.well-known/jwks.json", timeout=10)
    assert "public" in jwks.headers["Cache-Control"]  # public keys may be cached


@pytest.mark.parametrize("debug", [False, True])
def test_a_static_file_is_hashed_once_unless_the_app_reloads(tmp_path, debug):
    """A served app works a file's hash out once (no `stat` per `url_for`); with debug on,
    a file edited in place gets its new hash on the next page."""
    import os

    from flask import Flask, url_for

    from ehbox_webapp.web import caching

    (tmp_path / "app.css").write_text("a {}")
    app = Flask("hash_test", static_folder=str(tmp_path), static_url_path="/static")
    app.debug = debug
    caching.init_app(app)
    with app.test_request_context():
        first = url_for("static", filename="app.css")
        assert caching.content_hash("./app.css") == caching.content_hash("app.css")
        (tmp_path / "app.css").write_text("b { color: red }")
        os.utime(tmp_path / "app.css", ns=(1, 1))
        again = url_for("static", filename="app.css")
        assert (str(tmp_path), "./app.css") not in caching._named  # kept under its own name only
        assert caching.content_hash("missing.css") is None
    assert first.startswith("/static/app.css?v=")
    assert (again != first) is debug


def test_a_static_path_outside_the_static_folder_is_never_read(live_app):
    """`/static/../<file>?v=<its hash>` made the server read and hash the file outside the
    folder (a matching hash came back as an immutable cache header; `/dev/zero` was read
    for ever). The path is sent as is: browsers and `requests` would resolve the `..`."""
    import hashlib
    import http.client
    from pathlib import Path
    from urllib.parse import urlsplit

    outside = Path(__file__).resolve().parent.parent / "pyproject.toml"
    digest = hashlib.sha256(outside.read_bytes()).hexdigest()[:12]
    for path in (f"/static/../pyproject.toml?v={digest}", "/static/../../../../../../dev/zero?v=1"):
        connection = http.client.HTTPConnection(urlsplit(live_app.url).netloc, timeout=10)
        connection.request("GET", path)
        answer = connection.getresponse()
        answer.read()
        connection.close()
        assert answer.status == 404, path
        assert answer.getheader("Cache-Control") == "no-cache", path


def test_oversized_request_is_refused_before_anything_is_sent(make_live_app):
    from test_api import public_client_token

    live = make_live_app({"MAX_UPLOAD_MB": "1"})
    token = public_client_token(live)
    message = {
        "recipients": [{"type": "INSS", "id": "79031545695", "quality": "NURSE"}],
        "title": "Te groot",
    }
    response = requests.post(
        f"{live.url}/api/v1/messages",
        timeout=10,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        files={
            "message": (None, json.dumps(message), "application/json"),
            "document": ("big.pdf", b"%PDF" + b"0" * 1_100_000, "application/pdf"),
        },
    )
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("application/problem+json")
    sent = requests.get(
        f"{live.url}/api/v1/messages?folder=SENTBOX&pageSize=1",
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
    ).json()["messages"]
    assert not sent or sent[0]["title"] != "Te groot"  # nothing reached eHealthBox
    response = requests.post(
        f"{live.url}/auth/backchannel-logout", timeout=10, data={"logout_token": "x" * 1_400_000}
    )
    assert response.status_code == 413


def test_readyz_reports_each_dependency(live_app, make_live_app):
    ready = requests.get(f"{live_app.url}/readyz", timeout=10)
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "keystore": True,
        "session_store": True,
        "realm": True,
        "ehealthbox": True,
    }
    broken = make_live_app({"IAM_ISSUER": "http://127.0.0.1:9/auth/realms/healthcare"}, sub="b")
    not_ready = requests.get(f"{broken.url}/readyz", timeout=10)
    assert not_ready.status_code == 503 and not_ready.json()["checks"]["realm"] is False


def test_request_id_is_returned_and_sent_to_ehealth(live_app, browser):
    seen: list[str | None] = []
    http = live_app.app.extensions["services"].http
    hook = lambda response, *a, **k: seen.append(response.request.headers.get("X-Request-Id"))  # noqa: E731
    http.hooks["response"].append(hook)
    try:
        browser.login("dr-alice")
        answer = browser.get(
            browser.url("/api/v1/box"),
            headers={"Accept": "application/json", "X-Request-Id": "support-ticket-4242"},
        )
    finally:
        http.hooks["response"].remove(hook)
    assert answer.headers["X-Request-Id"] == "support-ticket-4242"
    assert "support-ticket-4242" in seen
    weird = requests.get(f"{live_app.url}/healthz", headers={"X-Request-Id": "<script>"}, timeout=5)
    assert weird.headers["X-Request-Id"] != "<script>" and len(weird.headers["X-Request-Id"]) == 32


def test_logs_of_a_full_scenario_carry_no_secret(make_live_app, tmp_path, caplog):
    """Tokens, passwords, SSINs and message contents never reach the logs."""
    from ehbox_webapp.ehealth.keystore import generate_keystore
    from ehbox_webapp.logs import JsonFormatter

    password = "Kx9-unique-keystore-password"
    keystore = generate_keystore(
        tmp_path / "ks.acc-p12",
        password,
        identifier="0899999949",
        identifier_type="CBE",
        name="Sandbox Medical Software NV",
    )
    live = make_live_app({"ETEE_KEYSTORE": str(keystore), "ETEE_KEYSTORE_PASSWORD": password})
    caplog.set_level("DEBUG")
    from conftest import Browser

    with Browser(live) as browser:
        browser.login("dr-alice")
        store = live.app.extensions["services"].store
        tokens = store.get("session:" + browser.cookies.get("ehbox_session"))["tokens"]
        headers = {"Accept": "application/json", "X-CSRFToken": browser.csrf_token("/")}
        page = browser.get(browser.url("/api/v1/messages?pageSize=5"), headers=headers).json()
        browser.get(
            browser.url(f"/api/v1/messages/{page['messages'][0]['messageId']}"), headers=headers
        )
        message = {
            "recipients": [{"type": "INSS", "id": "79031545695", "quality": "NURSE"}],
            "title": "Geheim-titel-7781",
            "text": "Vertrouwelijke-inhoud-9934",
            "patientInss": "70020234512",
        }
        sent = browser.post(
            browser.url("/api/v1/messages"),
            headers=headers,
            files={"message": (None, json.dumps(message), "application/json")},
        )
        assert sent.status_code == 201, sent.text
        browser.logout()
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records]
    assert any('"path": "/api/v1/messages"' in line for line in lines)  # it did log requests
    secrets = [
        tokens["access_token"],
        tokens["refresh_token"],
        tokens["id_token"],
        password,
        "85071212390",
        "70020234512",
        "Geheim-titel-7781",
        "Vertrouwelijke-inhoud-9934",
        "Alice Peeters",
    ]
    for line in lines:
        for secret in secrets:
            assert secret not in line, f"{secret[:12]}… leaked into a log line"
