"""The app as gunicorn serves it (`app:app`), wrapped to count requests: `bench.wsgi:app`.

The wrapper sits outside the app, so it sees every request that reaches the
server: the load generator's, and the app's own calls to the embedded sandbox
(the realm and the eHealthBox are mounted on the same server, and the app
reaches them over HTTP as it would reach eHealth). Requests are counted by kind
of path. Bench-only endpoints, under /_bench/:

- GET  /_bench/counts        -> {"pid": worker pid, "counts": {kind: n}}
- POST /_bench/reset         -> counts back to zero

Counts are per worker process: read them from a one-worker server. Requests to the
sandbox that the app itself makes (any User-Agent but the bench's) are also counted as
`edge.<upstream>` (bench/round_trips.py): the app's round trips to its upstreams.

With BENCH_EHEALTH_LATENCY_MS=n in the environment, every request to the
sandbox eHealthBox (/sandbox/ehealthbox/) waits n ms before it is served: the
round trip to the real eHealth over the internet, which loopback does not have.
The app's calls and the bench's direct calls wait alike. Bench only: the app
knows nothing of it.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from app import app as flask_app

from .harness import BENCH_AGENT, LATENCY_ENV
from .round_trips import upstream_of

REALM = "/sandbox/auth/realms/"
EHEALTHBOX = "/sandbox/ehealthbox/"
KINDS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("realm.token", lambda p: p.startswith(REALM) and p.endswith("/openid-connect/token")),
    ("realm.jwks", lambda p: p.startswith(REALM) and p.endswith("/openid-connect/certs")),
    (
        "realm.discovery",
        lambda p: p.startswith(REALM) and p.endswith("/.well-known/openid-configuration"),
    ),
    ("realm.other", lambda p: p.startswith(REALM)),
    ("ehealthbox", lambda p: p.startswith(EHEALTHBOX)),
    ("sandbox.other", lambda p: p.startswith("/sandbox/")),
    ("app.jwks", lambda p: p == "/.well-known/jwks.json"),
    ("app.api", lambda p: p.startswith("/api/")),
    ("app.other", lambda p: True),
)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict, StartResponse], Iterable[bytes]]


def kind_of(path: str) -> str:
    """The counting bucket of a request path."""
    return next(name for name, matches in KINDS if matches(path))


class CountingMiddleware:
    """Counts requests by kind of path and answers the /_bench/ endpoints."""

    def __init__(self, wrapped: WsgiApp):
        self.wrapped = wrapped
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_bench/"):
            return self.control(environ, start_response, path)
        from_app = path.startswith("/sandbox/") and environ.get("HTTP_USER_AGENT") != BENCH_AGENT
        with self.lock:
            self.counts[kind_of(path)] += 1
            if from_app:
                self.counts[f"edge.{upstream_of(path)}"] += 1
        return self.wrapped(environ, start_response)

    def control(self, environ: dict, start_response: StartResponse, path: str) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/_bench/counts" and method == "GET":
            with self.lock:
                body: dict[str, Any] = {"pid": os.getpid(), "counts": dict(self.counts)}
        elif path == "/_bench/reset" and method == "POST":
            with self.lock:
                self.counts.clear()
            body = {"pid": os.getpid(), "counts": {}}
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not a bench endpoint"]
        data = json.dumps(body).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        )
        return [data]


class LatencyMiddleware:
    """Waits `seconds` before each sandbox eHealthBox request: eHealth's internet round trip."""

    def __init__(self, wrapped: WsgiApp, seconds: float):
        self.wrapped = wrapped
        self.seconds = seconds

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(EHEALTHBOX):
            time.sleep(self.seconds)  # a gthread worker thread waits, as on a network read
        return self.wrapped(environ, start_response)


def latency_seconds() -> float:
    """BENCH_EHEALTH_LATENCY_MS as seconds (0 when unset)."""
    return float(os.environ.get(LATENCY_ENV) or 0) / 1000


_latency = latency_seconds()
app = CountingMiddleware(LatencyMiddleware(flask_app, _latency) if _latency else flask_app)
