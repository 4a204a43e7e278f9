"""Fixtures: the app served on a real loopback port with its embedded sandbox.

`live_app` is the app as `make run` serves it: a real HTTP server on 127.0.0.1,
the sandbox mounted at /sandbox, and the app reaching the sandbox over HTTP.
`browser` is a requests session that follows redirects like a browser and can
log a sandbox persona in through the real login page.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from werkzeug.serving import make_server

from ehbox_webapp import create_app
from ehbox_webapp.config import SANDBOX_KEYSTORE_PASSWORD
from ehbox_webapp.ehealth.keystore import generate_keystore

# The browser fixtures (one Chromium for the whole run) and the real Keycloak (one per run,
# started in the background at collection) are shared by several modules.
pytest_plugins = ["browser_fixtures", "keycloak_fixtures"]

# The sandbox's fault injection is off unless whoever starts it says otherwise: the tests do,
# for the apps they serve here and for every server they start as a process.
os.environ.setdefault("SANDBOX_FAULTS", "on")


@pytest.fixture(scope="session")
def sandbox_keystore(tmp_path_factory) -> Path:
    """One sandbox keystore for the whole run (key generation is the slow part)."""
    path = tmp_path_factory.mktemp("certs") / "sandbox.acc-p12"
    return generate_keystore(
        path,
        SANDBOX_KEYSTORE_PASSWORD,
        identifier="0899999949",
        identifier_type="CBE",
        name="Sandbox Medical Software NV",
    )


def sandbox_environ(url: str, keystore: Path, **extra: str) -> dict[str, str]:
    return {
        "EHBOX_ENV": "sandbox",
        "PUBLIC_URL": url,
        "ETEE_KEYSTORE": str(keystore),
        "HTTP_TIMEOUT": "5",
        "SANDBOX_FAULTS": "on",
        **extra,
    }


@dataclass
class LiveApp:
    """The app served on a loopback port; `url` is its PUBLIC_URL."""

    url: str
    app: object
    server: object
    thread: threading.Thread
    instance_path: Path
    environ: dict = field(default_factory=dict)

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)

    def sandbox(self, path: str = "") -> str:
        return f"{self.url}/sandbox{path}"


def serve(
    tmp_path: Path,
    keystore: Path,
    environ: Mapping[str, str] | None = None,
    test_config: Mapping[str, object] | None = None,
) -> LiveApp:
    """Start the app on a free loopback port (learned before the app is built)."""

    def placeholder(environ, start_response):
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"starting"]

    server = make_server("127.0.0.1", 0, placeholder, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    env = sandbox_environ(url, keystore, **(environ or {}))
    instance = tmp_path / "instance"
    app = create_app(
        {"INSTANCE_PATH": str(instance), "TESTING": True, **(test_config or {})}, environ=env
    )
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return LiveApp(
        url=url, app=app, server=server, thread=thread, instance_path=instance, environ=env
    )


@pytest.fixture
def make_live_app(tmp_path, sandbox_keystore) -> Iterator:
    """Start as many live apps as a test needs; all are stopped at its end."""
    started: list[LiveApp] = []

    def start(environ: Mapping[str, str] | None = None, sub: str = "a", **test_config) -> LiveApp:
        live = serve(tmp_path / sub, sandbox_keystore, environ, test_config)
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


@pytest.fixture
def live_app(make_live_app) -> LiveApp:
    return make_live_app()


@pytest.fixture
def app(live_app):
    """The Flask app behind `live_app` (for `client` and `runner`)."""
    return live_app.app


class _Forms(HTMLParser):
    """Collects the forms of a page: action, method and input values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "action": attrs.get("action", ""),
                    "method": (attrs.get("method") or "get").lower(),
                    "fields": {},
                    "buttons": [],
                }
            )
        elif tag in ("input", "button") and self.forms and attrs.get("name"):
            if tag == "button" or attrs.get("type") == "submit":
                self.forms[-1]["buttons"].append((attrs["name"], attrs.get("value", "")))
            elif attrs.get("type") not in ("radio", "checkbox") or "checked" in attrs:
                self.forms[-1]["fields"][attrs["name"]] = attrs.get("value", "")


def page_forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class Browser(requests.Session):
    """A cookie-keeping HTTP client that follows redirects and fills sandbox forms."""

    def __init__(self, live: LiveApp):
        super().__init__()
        self.live = live
        self.headers["Accept"] = "text/html"

    def url(self, path: str) -> str:
        return urljoin(self.live.url + "/", path.lstrip("/"))

    def submit(
        self,
        response: requests.Response,
        field_name: str,
        data: dict,
        button: tuple[str, str] | None = None,
    ) -> requests.Response:
        """Submit the form of `response` that has an input called `field_name`."""
        forms = [
            f
            for f in page_forms(response.text)
            if field_name in f["fields"]
            or any(b[0] == field_name for b in f["buttons"])
            or field_name in data
        ]
        assert forms, f"no form with {field_name!r} on {response.url}"
        form = forms[0]
        payload = {**form["fields"], **data}
        if button:
            payload[button[0]] = button[1]
        action = urljoin(response.url, form["action"] or response.url)
        return self.request(form["method"].upper(), action, data=payload, timeout=10)

    def login(
        self, persona: str = "dr-alice", next_path: str = "/", lang: str | None = "en"
    ) -> requests.Response:
        """Log a sandbox persona in through the real login page.

        Then pick `lang` in the page's language switcher, as a user would: the personas'
        tokens say nl or fr, and most tests read the English pages. None keeps the token's.
        """
        page = self.get(self.url(f"/login?next={next_path}"), timeout=10)
        assert page.status_code == 200, page.text[:500]
        landed = self.submit(page, "username", {"username": persona})
        if lang is None or not any(f["action"] == "/language" for f in page_forms(landed.text)):
            return landed
        return self.submit(landed, "lang", {}, button=("lang", lang))

    def csrf_token(self, path: str = "/") -> str:
        html = self.get(self.url(path), timeout=10).text
        for form in page_forms(html):
            if "csrf_token" in form["fields"]:
                return form["fields"]["csrf_token"]
        raise AssertionError(f"no CSRF token on {path}")

    def logout(self) -> requests.Response:
        return self.post(self.url("/logout"), data={"csrf_token": self.csrf_token()}, timeout=10)


@pytest.fixture
def browser(live_app) -> Iterator[Browser]:
    with Browser(live_app) as b:
        yield b


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI every optional tool is installed, so a skip there is a failure."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped in CI, where every tool is installed: {reason}"


SUITES = {  # module -> what it runs against, for the closing summary
    "test_oidc_provider.py": "against oidc-provider (certified OpenID provider)",
    "test_browser.py": "in the browser (Chromium)",
    "test_browser_mailbox.py": "in the browser (Chromium)",
    "test_browser_pages.py": "in the browser (Chromium, with axe-core)",
    "test_browser_day.py": "in the browser (Chromium, with axe-core)",
    "test_browser_reading.py": "in the browser (Chromium, with axe-core)",
    "test_api_reference.py": "in the browser (Chromium, with axe-core)",
    "test_api_fuzz.py": "against schemathesis (the API's own OpenAPI document)",
    "test_keycloak_js.py": "keycloak-js 26 in the browser (Chromium)",
    "test_real_keycloak.py": "against a real Keycloak 26",
    "test_real_keycloak_sessions.py": "against a real Keycloak 26",
    "test_real_keycloak_differential.py": "against a real Keycloak 26",
}


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say how many tests ran against third-party software, and how many skipped."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") not in ("call", "setup"):
                continue
            if outcome == "passed" and report.when != "call":
                continue
            module = report.nodeid.split("::")[0].rsplit("/", 1)[-1]
            suite = SUITES.get(module)
            if suite:
                counts.setdefault(suite, {}).setdefault(outcome, 0)
                counts[suite][outcome] += 1
    terminalreporter.section("third-party suites")
    for suite in sorted(set(SUITES.values())):
        tally = counts.get(suite, {})
        terminalreporter.write_line(
            f"{suite}: {tally.get('passed', 0)} passed, {tally.get('failed', 0)} failed, "
            f"{tally.get('skipped', 0)} skipped"
        )
    skipped = len(terminalreporter.stats.get("skipped", []))
    terminalreporter.write_line(f"skipped tests in this run: {skipped}")


@pytest.fixture(scope="session", autouse=True)
def compiled_translations() -> None:
    """The .mo catalogs the app reads (`make` compiles them; a bare pytest run may not have)."""
    from ehbox_webapp.web.i18n import TRANSLATIONS

    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            from babel.messages.mofile import write_mo
            from babel.messages.pofile import read_po

            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            with mo.open("wb") as target:
                write_mo(target, catalog)
