"""Who the load generator is: a Bearer token, a logged-in browser, a direct sandbox token.

- `public_client_token`: the public PKCE client's login, step by step, as
  static/public-client.js does it (and tests/test_api.py's `public_client_token`).
- `browser_login`: the web login through the sandbox login page (session cookie).
- `DirectTokens`: tokens for the sandbox eHealthBox itself (aud=sandbox-ehealthbox),
  minted with the sandbox realm key in the instance folder (as tests/ehbox_fixtures.py).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

from .harness import BENCH_AGENT, BENCH_FROM

EHBOX_AUDIENCE = "sandbox-ehealthbox"


class _Forms(HTMLParser):
    """The forms of a page: action, method and the values of their inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append({"action": values.get("action") or "", "fields": {}})
        elif tag == "input" and self.forms and values.get("name"):
            kind = values.get("type")
            if kind not in ("radio", "checkbox", "submit") or "checked" in values:
                self.forms[-1]["fields"][values["name"]] = values.get("value") or ""


def page_forms(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def browser() -> requests.Session:
    """A keep-alive HTTP client that identifies itself (the sandbox refuses library UAs)."""
    session = requests.Session()
    session.headers.update({"User-Agent": BENCH_AGENT, "From": BENCH_FROM})
    return session


def public_client_token(base: str, persona: str) -> str:
    """Log `persona` in as the public client; return its access token (for /api/v1)."""
    with browser() as http:
        page = http.get(f"{base}/public-client/", timeout=30)
        page.raise_for_status()
        cfg = {k: unescape(v) for k, v in re.findall(r'data-([a-z-]+)="([^"]*)"', page.text)}
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        state = secrets.token_urlsafe(16)
        query = urlencode(
            {
                "client_id": cfg["client-id"],
                "redirect_uri": cfg["redirect-uri"],
                "response_type": "code",
                "scope": cfg["scope"],
                "state": state,
                "nonce": secrets.token_urlsafe(16),
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        login = http.get(f"{cfg['authorization-endpoint']}?{query}", timeout=30)
        form = page_forms(login.text)[0]
        answer = http.post(
            urljoin(login.url, form["action"]),
            data={**form["fields"], "username": persona},
            allow_redirects=False,
            timeout=30,
        )
        params = parse_qs(urlsplit(answer.headers["Location"]).query)
        if params.get("state") != [state]:
            raise RuntimeError("the public client login came back with another state")
        tokens = http.post(
            cfg["token-endpoint"],
            data={
                "grant_type": "authorization_code",
                "client_id": cfg["client-id"],
                "code": params["code"][0],
                "redirect_uri": cfg["redirect-uri"],
                "code_verifier": verifier,
            },
            timeout=30,
        )
        tokens.raise_for_status()
        return str(tokens.json()["access_token"])


@dataclass
class Login:
    """A finished web login: the browser (with its session cookie) and what it took."""

    session: requests.Session
    round_trips: int
    seconds: float
    ok: bool


def browser_login(base: str, persona: str) -> Login:
    """The web login: /login, the sandbox login page, its form, the callback, home."""
    http = browser()
    http.headers["Accept"] = "text/html"
    started = time.perf_counter()
    page = http.get(f"{base}/login?next=/", timeout=30)
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
    ok = done.status_code == 200 and done.url.rstrip("/") == base.rstrip("/")
    return Login(session=http, round_trips=trips, seconds=seconds, ok=ok)


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
