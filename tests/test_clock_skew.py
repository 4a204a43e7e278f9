"""Clock skew (issue 25): this machine's clock 45 s off the realm's breaks no login.

The app's clock is shifted by patching its time source (`ehealth.iam.now`, which every
token check, the client assertion and the doctor read) before the app starts; the sandbox
realm in the same process keeps the true time. Without the leeway and the assertion dated
by the realm's clock, +45 s had the realm refuse the assertion (issued in the future) and
-45 s had the app refuse the ID token (issued in the future).
"""

from __future__ import annotations

import time

import pytest
import requests
from conftest import Browser
from test_api import public_client_token

from ehbox_webapp.config import Settings
from ehbox_webapp.ehealth import iam
from ehbox_webapp.onboarding.doctor import WARNING, run_checks

ROOT = iam.__file__.rsplit("/ehbox_webapp/", 1)[0]


@pytest.fixture(params=[45, -45], ids=["45s-ahead", "45s-behind"])
def skewed_app(request, monkeypatch, make_live_app):
    skew = request.param
    monkeypatch.setattr(iam, "now", lambda: time.time() + skew)
    return skew, make_live_app()


def test_the_web_login_and_the_api_work_with_a_skewed_clock(skewed_app):
    _, live = skewed_app
    with Browser(live) as browser:
        browser.login("dr-alice")  # client assertion, code exchange, ID token checks
        assert "Alice Peeters" in browser.get(browser.url("/box/INBOX"), timeout=15).text
    token = public_client_token(live, "nurse-bram")
    answer = requests.get(
        f"{live.url}/api/v1/box",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=15,
    )  # the Bearer token's checks, then its exchange (client assertion again)
    assert answer.status_code == 200, answer.text


def test_the_doctor_reports_the_skew(skewed_app):
    skew, live = skewed_app
    from pathlib import Path

    results = {r.check: r for r in run_checks(Settings.from_env(live.environ), Path(ROOT))}
    clock = results["clock"]
    assert clock.status == WARNING, clock.line()
    direction = "ahead of" if skew > 0 else "behind"
    assert f"s {direction} the healthcare realm's" in clock.found
    measured = float(clock.found.split("our clock is ")[1].split(" s ")[0])
    assert abs(measured - abs(skew)) < 2.5, clock.found
    # ... and the client assertions it makes are accepted all the same.
    assert results["client assertion (healthcare)"].status == "ok", report(results)


def report(results: dict) -> str:
    return "\n".join(r.line() for r in results.values())
