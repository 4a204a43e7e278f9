"""Who the load generator is: a Bearer token, a logged-in browser, a direct sandbox token.

- `public_client_token`: the public PKCE client's login, step by step, as
  static/public-client.js does it (ehbox_webapp/sandbox/loopback.py, as the tests do).
- `browser_login`: the web login through the sandbox login page (session cookie).
- `DirectTokens`: tokens for the sandbox eHealthBox itself (aud=sandbox-ehealthbox),
  minted with the sandbox realm key in the instance folder (as tests/ehbox_fixtures.py).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from ehbox_webapp.sandbox import loopback
from ehbox_webapp.sandbox.loopback import page_forms

from .harness import BENCH_AGENT, BENCH_FROM

EHBOX_AUDIENCE = "sandbox-ehealthbox"


def browser() -> requests.Session:
    """A keep-alive HTTP client that identifies itself (the sandbox refuses library UAs)."""
    session = requests.Session()
    session.headers.update({"User-Agent": BENCH_AGENT, "From": BENCH_FROM})
    return session


def public_client_token(base: str, persona: str) -> str:
    """Log `persona` in as the public client; return its access token (for /api/v1)."""
    with browser() as http:
        return loopback.public_client_token(http, base, persona)


@dataclass
class Login:
    """A finished web login: the browser (with its session cookie) and what it took."""

    session: requests.Session
    round_trips: int
    seconds: float
    ok: bool
    page: requests.Response | None = None  # where the login landed


def browser_login(base: str, persona: str, next_path: str = "/") -> Login:
    """The web login: /login, the sandbox login page, its form, the callback, `next_path`."""
    http = browser()
    http.headers["Accept"] = "text/html"
    started = time.perf_counter()
    page = http.get(f"{base}/login?next={next_path}", timeout=30)
    trips = len(page.history) + 1
    forms = [
        f
        for f in page_forms(page.text)
        if "request_id" in f["fields"] or "csrf_token" in f["fields"]
    ] or page_forms(page.text)
    done = http.post(
        urljoin(page.url, forms[0]["action"]),
        data={**forms[0]["fields"], "username": persona},
        timeout=30,
    )
    trips += len(done.history) + 1
    seconds = time.perf_counter() - started
    # Logged in: back on one of the app's own pages (home, or the inbox it leads to).
    landed = urlsplit(done.url)
    ok = (
        done.status_code == 200
        and done.url.startswith(base.rstrip("/") + "/")
        and not landed.path.startswith(("/login", "/auth/", "/sandbox/"))
    )
    return Login(session=http, round_trips=trips, seconds=seconds, ok=ok, page=done)


class DirectTokens:
    """Tokens for calling the sandbox eHealthBox directly, as the app's exchange yields."""

    def __init__(self, instance: Path, base: str):
        from ehbox_webapp.sandbox.tokens import RealmSigner

        self.signer = RealmSigner(instance / "sandbox-realm-key.pem")
        self.issuer = f"{base}/sandbox/auth/realms/healthcare"

    def token(self, persona_id: str, lifetime: int = 900) -> str:
        from ehbox_webapp.sandbox.personas import persona

        person = persona(persona_id)
        if person is None:
            raise ValueError(f"no sandbox persona {persona_id!r}")
        now = int(time.time())
        return self.signer.sign(
            {
                "iss": self.issuer,
                "aud": [EHBOX_AUDIENCE],
                "exp": now + lifetime,
                "iat": now,
                "jti": uuid.uuid4().hex,
                "typ": "Bearer",
                "azp": "ehbox-webapp",
                "sub": person.id,
                "ssin": person.ssin,
                "given_name": person.first_name,
                "family_name": person.last_name,
                "userProfile": {person.profession: {"recognised": True, "nihii11": person.nihii11}},
            }
        )
