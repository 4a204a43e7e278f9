"""Upstream round trips per user action: each at most its minimum (bench/round_trips.py).

The app serves the pages on a loopback port and reaches its embedded sandbox over HTTP, as
`make run` does; every request the app sends (to the realm, the eHealthBox, the AddressBook,
the key directory) passes through its one outgoing adapter, and is counted there. The
actions and their minimums are the bench's (`make bench` reports the same rows); a count is
not a timing, so it is a test. docs/performance.md says why each minimum is what it is.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from bench import round_trips


class AdapterEdge:
    """Counts the requests the app's outgoing adapter sends, by upstream."""

    def __init__(self, live_app):
        self.adapter = live_app.app.extensions["services"].http.get_adapter("https://")
        self.calls: Counter[str] = Counter()
        self.urls: list[str] = []
        self.lock = threading.Lock()
        send = self.adapter.send

        def counted(request, *args, **kwargs):
            with self.lock:
                self.calls[round_trips.upstream_of(request.url)] += 1
                self.urls.append(f"{request.method} {request.url}")
            return send(request, *args, **kwargs)

        self.adapter.send = counted

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.urls.clear()

    def read(self) -> dict[str, int]:
        with self.lock:
            return dict(self.calls)

    def close(self) -> None:
        del self.adapter.send  # the class's own again


@pytest.fixture
def counted(live_app):
    edge = AdapterEdge(live_app)
    yield edge
    edge.close()


def test_each_action_makes_at_most_its_minimum_of_upstream_calls(live_app, counted):
    results = round_trips.run(live_app.url, counted)
    assert [r.action for r in results if r.minimum is not None] == list(round_trips.ACTIONS)
    over = [
        f"{r.action}: {r.total} calls {r.calls}, minimum {r.minimum} ({r.why})"
        for r in results
        if r.minimum is not None and r.total > r.minimum
    ]
    assert over == [], over


def test_the_app_edge_sees_the_realm_calls_of_a_login(live_app, counted):
    """The token calls go through the login's own OAuth client, over the same adapter."""
    results = round_trips.run(live_app.url, counted)
    login = next(r for r in results if r.action == "login to the inbox")
    assert login.calls.get("realm") == 2, login.calls  # the code, the token exchange
