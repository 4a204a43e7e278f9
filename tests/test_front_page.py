"""In the sandbox the front page is the developer's corner too: the personas to log in as,
the onboarding assistant, the public client, the API reference, the last acceptance report."""

from __future__ import annotations

import re
from pathlib import Path

import requests
from test_acceptance import acceptance_environ

from ehbox_webapp import create_app
from ehbox_webapp.sandbox.personas import PERSONAS


def links(html: str) -> set[str]:
    return set(re.findall(r'<a [^>]*href="([^"?]+)', html))


def test_the_sandbox_front_page_shows_the_personas_and_the_ways_in(browser):
    page = browser.get(browser.url("/"), timeout=10)
    assert page.status_code == 200
    for persona in PERSONAS:
        assert f'<code translate="no">{persona.id}</code>' in page.text
        assert persona.name in page.text and persona.ssin in page.text
    assert {"/onboarding", "/public-client/", "/api/v1/reference"} <= links(page.text)
    assert "make token PERSONA=dr-alice" in page.text
    assert "No acceptance report yet" in page.text
    assert "/onboarding/acceptance-report" not in links(page.text)
    assert browser.get(browser.url("/onboarding/acceptance-report"), timeout=10).status_code == 404
    # Logged in, the home page keeps the corner.
    browser.login("nurse-bram")
    assert "/api/v1/reference" in links(browser.get(browser.url("/"), timeout=10).text)


def test_the_last_acceptance_report_is_one_click_away(live_app, browser):
    result = live_app.app.test_cli_runner().invoke(args=["ehbox", "acceptance", "--as", "m2m"])
    assert result.exit_code == 0, result.output

    page = browser.get(browser.url("/"), timeout=10)
    assert "/onboarding/acceptance-report" in links(page.text)
    report = browser.get(browser.url("/onboarding/acceptance-report"), timeout=10)
    assert report.status_code == 200 and "eHealthBox acceptance tests" in report.text
    written = re.search(r"report: (\S+)", result.output).group(1)
    assert report.text == Path(written).read_text(encoding="utf-8")  # the latest run's
    policy = report.headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'none'; style-src 'sha256-")
    assert policy.endswith("frame-ancestors 'none'") and "unsafe" not in policy


def test_outside_the_sandbox_the_front_page_is_the_doctors_only(sandbox_keystore, tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path)}, environ=acceptance_environ(sandbox_keystore))
    page = app.test_client().get("/")
    assert page.status_code == 200
    assert "dr-alice" not in page.text and "/api/v1/reference" not in page.text


def test_the_public_client_page_offers_only_its_own_login(live_app):
    page = requests.get(f"{live_app.url}/public-client/", timeout=10).text
    assert 'id="pc-login"' in page
    assert "/login" not in links(page)  # not the web app's other login in the header
    assert "/login" in links(requests.get(f"{live_app.url}/onboarding", timeout=10).text)
