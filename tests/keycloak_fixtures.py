"""Fixtures: the app against a real Keycloak 26 set up as I.AM Connect's realms.

Keycloak is the one `make keycloak` runs (deploy/keycloak/keycloak.py: pinned, checked,
cached), started once per test session. It takes most of a minute, so it is started in
the background as soon as collection shows a test that needs it, and the other tests run
meanwhile. Its realms name the app by URL (redirect URI, JWKS URL, back-channel logout),
so the app's port is bound first, with a placeholder, and the app is served on it later;
a test may serve another build of the app on the same port for a while (`serving`).

On a machine without Java 21+ or Maven the tests skip, saying which is missing; in CI
(tests/conftest.py) a skip is a failure.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import hashlib
import importlib.util
import io
import secrets
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
from conftest import Browser, LiveApp, page_forms, sandbox_environ
from requests.cookies import RequestsCookieJar
from werkzeug.serving import make_server

from ehbox_webapp import create_app

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = "real_keycloak"


def _load_runner():
    spec = importlib.util.spec_from_file_location(
        "local_keycloak", ROOT / "deploy" / "keycloak" / "keycloak.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


runner = _load_runner()


# -- the session's Keycloak, started in the background -----------------------------------
@dataclass
class Startup:
    """What the background start did: the app's bound port, Keycloak, or why not."""

    thread: threading.Thread | None = None
    server: Any = None
    keycloak: Any = None
    missing: str | None = None  # Java or Maven is not installed: the skip reason
    error: BaseException | None = None


_startup = Startup()


def _placeholder(environ, start_response):
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


def _start_in_background() -> None:
    try:
        home = runner.fetch(log=lambda line: None)
        java_home = runner.find_java()
        server = make_server("127.0.0.1", 0, _placeholder, threaded=True)
        _startup.server = server
        app_url = f"http://127.0.0.1:{server.server_port}"
        with socket.socket() as probe:  # a free port for Keycloak, closed just before its start
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        _startup.keycloak = runner.start(
            app_url,
            port=port,
            home=home,
            java_home=java_home,
            log_path=ROOT / "tests" / "artifacts" / "keycloak.log",
        )
        atexit.register(_startup.keycloak.stop)
        # Waited for here, beside the other tests, so that `ready_after` is Keycloak's own
        # start time and not the time until the first test asked for it.
        runner.wait_ready(_startup.keycloak)
    except runner.MissingTool as exc:
        _startup.missing = str(exc)
    except BaseException as exc:  # reported by the fixture, in the test that needs it
        _startup.error = exc


def pytest_collection_finish(session) -> None:
    """Start Keycloak now if a selected test needs it: it starts while other tests run."""
    start_if_needed(session.items)


def start_if_needed(items) -> None:
    if _startup.thread is None and any(FIXTURE in getattr(i, "fixturenames", ()) for i in items):
        _startup.thread = threading.Thread(
            target=_start_in_background, daemon=True, name="keycloak-start"
        )
        _startup.thread.start()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """How long the session's Keycloak took to start (it ran beside the other tests)."""
    keycloak = _startup.keycloak
    if keycloak is not None and keycloak.ready_after is not None:
        terminalreporter.write_line(
            f"real Keycloak {runner.pinned()[0]}: both realms ready {keycloak.ready_after:.0f} s "
            "after its start (log: tests/artifacts/keycloak.log)"
        )
    elif _startup.missing:
        terminalreporter.write_line(f"real Keycloak not started: {_startup.missing}")


@dataclass
class RealKeycloak:
    """Keycloak (`kc`), the app's bound server, and what the app under test is."""

    kc: Any
    server: Any
    url: str  # the app's PUBLIC_URL, as the realms know it
    started_in: float  # seconds from Keycloak's start to both realms answering
    jwks_hits: list[float] = field(default_factory=list)  # when the app's JWKS URL was read
    logout_tokens: list[str] = field(default_factory=list)  # posted to its back-channel URI
    _app: Any = None

    @property
    def persona_password(self) -> str:
        return self.kc.persona_password

    def issuer(self, realm: str = "healthcare") -> str:
        return self.kc.issuer(realm)

    def admin(self):
        return runner.Admin(self.kc)

    def wsgi(self, environ, start_response):
        path = environ.get("PATH_INFO")
        if path == "/.well-known/jwks.json":
            self.jwks_hits.append(time.time())
        elif path == "/auth/backchannel-logout" and environ.get("REQUEST_METHOD") == "POST":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            self.logout_tokens += parse_qs(body.decode()).get("logout_token", [])
            environ["wsgi.input"] = io.BytesIO(body)
        return self._app(environ, start_response)

    @contextlib.contextmanager
    def serving(self, app) -> Iterator[None]:
        """Serve another build of the app on the same port, then the previous one again."""
        previous, self._app = self._app, app
        try:
            yield
        finally:
            self._app = previous

    def environ(self, keystore: Path, **extra: str) -> dict[str, str]:
        """The app's settings against this Keycloak: README's lines, nothing else."""
        return sandbox_environ(
            self.url,
            keystore,
            IAM_ISSUER=self.issuer("healthcare"),
            IAM_M2M_ISSUER=self.issuer("M2M"),
            HTTP_TIMEOUT="10",
            **extra,
        )


@pytest.fixture(scope="session")
def real_keycloak() -> Iterator[RealKeycloak]:
    """The session's Keycloak with both realms, ready (started during collection)."""
    if _startup.thread is None:  # not collected through the hook (a direct call)
        start_if_needed([type("Item", (), {"fixturenames": [FIXTURE]})])
    _startup.thread.join()
    if _startup.missing:
        pytest.skip(_startup.missing)
    if _startup.error is not None:
        raise _startup.error
    keycloak = _startup.keycloak  # ready: the start thread waited for both realms
    server = _startup.server
    world = RealKeycloak(
        kc=keycloak,
        server=server,
        url=f"http://127.0.0.1:{server.server_port}",
        started_in=keycloak.ready_after,
        _app=_placeholder,
    )
    server.app = world.wsgi
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="app-for-keycloak")
    thread.start()
    try:
        yield world
    finally:
        server.shutdown()
        server.server_close()
        keycloak.stop()


def build_app(world: RealKeycloak, instance: Path, keystore: Path, **extra: str):
    return create_app(
        {"INSTANCE_PATH": str(instance), "TESTING": True},
        environ=world.environ(keystore, **extra),
    )


@pytest.fixture(scope="session")
def kc_app(real_keycloak, tmp_path_factory, sandbox_keystore) -> LiveApp:
    """The app configured for the real Keycloak, served on the port its realms know."""
    instance = tmp_path_factory.mktemp("keycloak-app") / "instance"
    app = build_app(real_keycloak, instance, sandbox_keystore)
    real_keycloak._app = app
    return LiveApp(
        url=real_keycloak.url,
        app=app,
        server=real_keycloak.server,
        thread=threading.current_thread(),
        instance_path=instance,
        environ=real_keycloak.environ(sandbox_keystore),
    )


# -- a browser for Keycloak's pages --------------------------------------------------------
class LoopbackCookies(RequestsCookieJar):
    """Keycloak marks its cookies `Secure`; browsers send them to loopback over http, so do we."""

    def set_cookie(self, cookie, *args, **kwargs):
        if cookie.domain in ("127.0.0.1", "localhost", "localhost.local"):
            cookie.secure = False
        return super().set_cookie(cookie, *args, **kwargs)


class KeycloakBrowser(Browser):
    """A cookie-keeping HTTP client that signs personas in on Keycloak's login page."""

    def __init__(self, live: LiveApp, password: str):
        super().__init__(live)
        self.password = password
        self.cookies = LoopbackCookies()

    def sign_in(self, page, persona: str, allow_redirects: bool = True):
        """Fill in Keycloak's login form on `page` (its username and password fields)."""
        forms = [f for f in page_forms(page.text) if "password" in f["fields"]]
        assert forms, page.text[:800]
        payload = {**forms[0]["fields"], "username": persona, "password": self.password}
        return self.post(
            urljoin(page.url, forms[0]["action"]),
            data=payload,
            timeout=15,
            allow_redirects=allow_redirects,
        )

    def login(self, persona: str = "dr-alice", next_path: str = "/", lang: str | None = "en"):
        page = self.get(self.url(f"/login?next={next_path}"), timeout=15)
        assert page.status_code == 200, page.text[:500]
        landed = self.sign_in(page, persona)
        assert landed.status_code == 200, landed.text[:800]
        if lang is None or not any(f["action"] == "/language" for f in page_forms(landed.text)):
            return landed
        return self.submit(landed, "lang", {}, button=("lang", lang))

    def authorize(self, endpoint: str, persona: str | None = "dr-alice", **query: str) -> dict:
        """An authorization request as a client would send it; where it ended.

        Returns {"status", "location", "query", "page"}: the redirect back to the client
        (not followed: the code stays unused) or the error page Keycloak showed.
        """
        response = self.get(f"{endpoint}?{urlencode(query)}", timeout=15, allow_redirects=False)
        while True:
            if response.status_code in (301, 302, 303):
                location = urljoin(response.url, response.headers["Location"])
                if location.startswith(query.get("redirect_uri", "\0")):
                    parts = urlsplit(location)
                    params = parse_qs(parts.fragment or parts.query)
                    return {
                        "status": response.status_code,
                        "location": location,
                        "query": {k: v[0] for k, v in params.items()},
                        "page": "",
                    }
                response = self.get(location, timeout=15, allow_redirects=False)
            elif persona and any("password" in f["fields"] for f in page_forms(response.text)):
                response = self.sign_in(response, persona, allow_redirects=False)
                persona = None
            elif persona and (picker := self._persona_picker(response)):
                # The sandbox realm's login page: one button per persona, no password.
                response = self.post(
                    urljoin(response.url, picker["action"]),
                    data={**picker["fields"], "username": persona},
                    timeout=15,
                    allow_redirects=False,
                )
                persona = None
            else:
                return {
                    "status": response.status_code,
                    "location": "",
                    "query": {},
                    "page": response.text,
                }

    @staticmethod
    def _persona_picker(response) -> dict | None:
        forms = page_forms(response.text) if response.status_code == 200 else []
        return next((f for f in forms if any(b[0] == "username" for b in f["buttons"])), None)


def pkce() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def assertion(identity, client_id: str, audience: str, **claims) -> str:
    """A `private_key_jwt` client assertion signed by `identity`, with `claims` changed."""
    now = int(time.time())
    return identity.sign_jwt(
        {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "jti": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 60,
            **claims,
        }
    )
