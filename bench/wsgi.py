"""The app as gunicorn serves it (`app:app`), wrapped to count requests: `bench.wsgi:app`.

The wrapper sits outside the app, so it sees every request that reaches the
server: the load generator's, and the app's own calls to the embedded sandbox
(the realm and the eHealthBox are mounted on the same server, and the app
reaches them over HTTP as it would reach eHealth). Requests are counted by kind
of path. Bench-only endpoints, under /_bench/:

- GET  /_bench/counts        -> {"pid": worker pid, "counts": {kind: n}}
- POST /_bench/reset         -> counts back to zero
- POST /_bench/sandbox-limit -> {"bytes": n}: the sandbox eHealthBox's message size limit

Counts are per worker process: read them from a one-worker server.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from app import app as flask_app

REALM = "/sandbox/auth/realms/"
KINDS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("realm.token", lambda p: p.startswith(REALM) and p.endswith("/openid-connect/token")),
    ("realm.jwks", lambda p: p.startswith(REALM) and p.endswith("/openid-connect/certs")),
    (
        "realm.discovery",
        lambda p: p.startswith(REALM) and p.endswith("/.well-known/openid-configuration"),
    ),
    ("realm.other", lambda p: p.startswith(REALM)),
    ("ehealthbox", lambda p: p.startswith("/sandbox/ehealthbox/")),
    ("sandbox.other", lambda p: p.startswith("/sandbox/")),
    ("app.jwks", lambda p: p == "/.well-known/jwks.json"),
    ("app.api", lambda p: p.startswith("/api/")),
    ("app.other", lambda p: True),
)

StartResponse = Callable[..., Any]


def kind_of(path: str) -> str:
    """The counting bucket of a request path."""
    return next(name for name, matches in KINDS if matches(path))


class CountingMiddleware:
    """Counts requests by kind of path and answers the /_bench/ endpoints."""

    def __init__(self, wrapped: Callable[[dict, StartResponse], Iterable[bytes]]):
        self.wrapped = wrapped
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_bench/"):
            return self.control(environ, start_response, path)
        with self.lock:
            self.counts[kind_of(path)] += 1
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
        elif path == "/_bench/sandbox-limit" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            wanted = int(json.loads(environ["wsgi.input"].read(length))["bytes"])
            body = {"pid": os.getpid(), "max_message_bytes": set_sandbox_limit(wanted)}
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not a bench endpoint"]
        data = json.dumps(body).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        )
        return [data]


def set_sandbox_limit(max_message_bytes: int) -> int:
    """Change the embedded sandbox eHealthBox's size limit in this worker (bench only).

    The sandbox's limit is SANDBOX_MAX_MESSAGE_MB (default 20 MB), not derived from
    the app's MAX_UPLOAD_MB: the memory measure first sends 50 MB with the app's own
    configuration, then raises the limit here to measure the 50 MB send and download.
    """
    sandbox = flask_app.extensions["sandbox_app"]
    context = sandbox.extensions["sandbox_ehealthbox"]
    context.settings = dataclasses.replace(context.settings, max_message_bytes=max_message_bytes)
    return context.settings.max_message_bytes


app = CountingMiddleware(flask_app)
