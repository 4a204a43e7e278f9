"""End to end in a real browser (Chromium): what a person does, click by click."""

from __future__ import annotations

import re

from browser_fixtures import login_in_browser


def test_web_login_lands_on_the_inbox_with_its_unread_count_and_logs_out(page, live_app):
    login_in_browser(page, live_app, "dr-alice")
    assert page.url == f"{live_app.url}/box/INBOX"
    assert page.locator("h1").inner_text() == "Inbox"
    unread = page.locator("nav.folders .counts[data-folder=INBOX] .unread-count").inner_text()
    assert int(unread) > 0
    assert page.title().startswith(f"({unread}) Inbox")  # seen in the tab, among other tabs
    assert page.locator("header .unread-count").text_content() == f"{unread} unread"
    page.goto(f"{live_app.url}/")  # who is logged in: the home page
    assert page.locator("h1").inner_text() == "Welcome, Alice Peeters"
    assert page.locator(".ssin").inner_text() == "•••••••••90"
    page.click("header button:has-text('Log out')")
    page.wait_for_url(f"{live_app.url}/")
    assert page.locator("a.button:has-text('Log in with I.AM Connect')").is_visible()
    assert page.js_errors == []


def test_public_client_runs_pkce_in_the_browser_and_calls_the_api(page, live_app):
    page.goto(f"{live_app.url}/public-client/")
    page.click("#pc-login")
    page.click("button[name=username][value=dr-alice]")
    page.wait_for_url(f"{live_app.url}/public-client/")  # the code left the address bar
    status = page.locator("#pc-status")
    status.filter(has_text="Logged in as Alice Peeters").wait_for()
    claims = page.locator("#pc-claims").inner_text()
    assert '"azp": "ehbox-webapp-public"' in claims and '"alg": "RS256"' in claims
    checks = page.locator("#pc-checks li")
    checks.first.wait_for()
    assert any("exchanged for the eHealthBox audience" in c for c in checks.all_inner_texts())

    page.click("#pc-list")
    page.locator("#pc-messages tr").first.wait_for()
    assert page.locator("#pc-messages tr").count() == 25
    assert re.search(r"\d+ messages in the inbox", status.inner_text())
    page.locator("#pc-messages button").first.click()
    page.locator("#pc-message-from").filter(has_text="From").wait_for()

    page.fill("#pc-to-id", "79031545695")
    page.fill("#pc-to-quality", "NURSE")
    page.fill("#pc-title", "Vanuit de browser")
    page.fill("#pc-text", "Met PKCE en een Bearer-token")
    page.click("#pc-send button[type=submit]")
    page.locator("#pc-send-result").filter(has_text="Sent: message").wait_for()
    # The token lived in memory only: nothing in storage or cookies carries it.
    storage = page.evaluate("() => JSON.stringify(Object.assign({}, localStorage, sessionStorage))")
    assert "eyJ" not in storage
    assert all("eyJ" not in c["value"] for c in page.context.cookies())
    assert page.js_errors == []  # no script error, no CSP violation
