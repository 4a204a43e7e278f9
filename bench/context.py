"""What every measure needs: the server under test, and ways in as a persona."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from .harness import EHEALTHBOX_API, Server
from .identity import DirectTokens, browser, public_client_token

TOKEN_REUSE_SECONDS = 200  # sandbox access tokens live 300 s; the app's margin is 30 s
EHBOX_API = EHEALTHBOX_API


class CallFailed(RuntimeError):
    """A call under measurement did not answer as expected."""


@dataclass
class Bench:
    server: Server
    instance: Path
    samples: int = 200
    upstream: Server | None = None  # the eHealthBox's own server, when not the app's
    _direct: DirectTokens | None = None
    _bearers: dict[str, tuple[str, float]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def ehealthbox_server(self) -> Server:
        """The server that answers the eHealthBox calls (the app's and the direct ones)."""
        return self.upstream or self.server

    @property
    def ehealthbox_url(self) -> str:
        return self.ehealthbox_server.url

    @property
    def direct(self) -> DirectTokens:
        if self._direct is None:
            self._direct = DirectTokens(self.instance, self.url)
        return self._direct

    def bearer(self, persona: str, *, fresh: bool = False) -> str:
        """A public-client access token for /api/v1 (reused while young)."""
        token, at = self._bearers.get(persona, ("", 0.0))
        if fresh or not token or time.monotonic() - at > TOKEN_REUSE_SECONDS:
            token = public_client_token(self.url, persona)
            self._bearers[persona] = (token, time.monotonic())
        return token

    def api_session(self, persona: str, *, fresh: bool = False) -> requests.Session:
        """Calls /api/v1 with `Authorization: Bearer` (a keep-alive session)."""
        session = browser()
        session.headers.update(
            {
                "Authorization": f"Bearer {self.bearer(persona, fresh=fresh)}",
                "Accept": "application/json",
            }
        )
        return session

    def direct_session(self, persona: str) -> requests.Session:
        """Calls the sandbox eHealthBox directly, with a token for its audience."""
        session = browser()
        session.headers.update(
            {"Authorization": f"Bearer {self.direct.token(persona)}", "Accept": "application/json"}
        )
        return session


def get(session: requests.Session, url: str, **kwargs: Any) -> requests.Response:
    """GET that must answer 200 (the body is read: the full call is timed)."""
    response = session.get(url, timeout=60, **kwargs)
    if response.status_code != 200:
        raise CallFailed(f"GET {url} answered {response.status_code}: {response.text[:300]}")
    return response


def caller(session: requests.Session, url: str) -> Callable[[], requests.Response]:
    """A thunk for `load.timed`: one GET of `url`."""
    return lambda: get(session, url)


def direct_list(start: int, end: int, folder: str = "INBOX") -> str:
    return f"{EHBOX_API}/messages?source={folder}&startIndex={start}&endIndex={end}"
