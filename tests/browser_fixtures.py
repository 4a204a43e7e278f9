"""A real browser: Debian's Chromium driven by Playwright for Python.

Playwright never downloads a browser here: it launches the system Chromium
(`CHROMIUM` or /usr/bin/chromium). The tests skip, with the reason, only when
Playwright or Chromium is missing on a developer's machine; CI installs both.
Each test leaves a screenshot of its last page in tests/artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).parent / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    candidate = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return candidate if Path(candidate).exists() else None


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright for Python is not installed"
    )
    path = chromium_path()
    if path is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, request) -> Iterator[object]:
    """A fresh browser context (no cookies) whose last page is saved as a screenshot."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.js_errors = errors  # type: ignore[attr-defined]  (script errors, CSP violations)
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def login_in_browser(page, live, persona: str = "dr-alice", lang: str | None = "en") -> None:
    """Log a sandbox persona in through the app's login and the sandbox login page.

    Then pick `lang` in the header's language switcher (the personas' tokens say nl or
    fr; None keeps the token's language).
    """
    page.goto(f"{live.url}/")
    page.click("a.button:has-text('Log in with I.AM Connect')")
    page.click(f"button[name=username][value={persona}]")
    page.wait_for_url(f"{live.url}/**")
    if lang is not None:
        with page.expect_navigation():
            page.click(f"form.languages button[value={lang}]")


def click_settled(page, locator) -> None:
    """Scroll `locator` into view, let the page settle, then click it.

    Chromium routes a click to an out-of-process frame (the message page's sandboxed
    preview) by a hit-test map it refreshes shortly after a scroll; a click sent in the
    same instant as the scroll can land in the frame's old place and be lost. A person
    never clicks that fast; a test waits the moment a person would.
    """
    locator.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    locator.click()
