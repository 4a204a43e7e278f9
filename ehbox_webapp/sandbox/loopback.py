"""The app and its sandbox on loopback, as the bench and the tests run them.

Starting gunicorn with the container's own settings (gunicorn.conf.py), a
throw-away redis-server, waiting for a server to answer, and the public PKCE
client's login driven step by step as static/public-client.js does it: one
copy for `bench/` and `tests/` (the bench does not import the tests). Nothing
here is used by the app itself.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, seconds: float = 60, process: subprocess.Popen | None = None) -> None:
    """Wait until `url` answers 200; fail early if `process` exits meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before {url} answered")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within {seconds:.0f} s")


def start_gunicorn(
    target: str, port: int, env: dict[str, str], *, cwd: Path, log: IO[bytes] | int
) -> subprocess.Popen:
    """gunicorn from this virtualenv serving `target` on 127.0.0.1:`port` (gunicorn.conf.py)."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        raise FileNotFoundError(
            "gunicorn is not installed in this virtualenv (pip install gunicorn)"
        )
    return subprocess.Popen(  # noqa: S603 - our own command line
        [str(gunicorn), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", target],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


def start_redis(directory: Path) -> tuple[str, subprocess.Popen] | None:
    """A throw-away redis-server on loopback, no persistence: (URL, process), None if absent."""
    server = shutil.which("redis-server")
    if server is None:
        return None
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [
            server,
            *("--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(directory)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return f"redis://127.0.0.1:{port}/0", process
        time.sleep(0.05)
    process.terminate()
    process.wait(10)
    return None


class _Forms(HTMLParser):
    """The forms of a page: action and the values of their (checked) inputs."""

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


def public_client_token(http: requests.Session, base: str, persona: str) -> str:
    """Log `persona` in as the public client with `http` (a browser); its access token."""
    return str(public_client_login(http, base, persona)["access_token"])


def public_client_login(http: requests.Session, base: str, persona: str) -> dict[str, Any]:
    """Log `persona` in as the public client with `http` (a browser); the token response.

    What the /public-client/ page's script does: read its configuration, PKCE S256,
    the sandbox login form, the code back with the same state, the code for tokens.
    """
    page = http.get(f"{base}/public-client/", timeout=30)
    page.raise_for_status()
    cfg = {k: unescape(v) for k, v in re.findall(r'data-([a-z-]+)="([^"]*)"', page.text)}
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
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
    if tokens.status_code != 200:
        raise RuntimeError(f"the token endpoint answered {tokens.status_code}: {tokens.text[:300]}")
    return dict(tokens.json())
