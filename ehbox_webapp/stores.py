"""Key-value stores for sessions, cached tokens and one-time values.

`MemoryStore` serves one process. Several instances behind a load balancer
need a shared store (Redis) so that a login started on one finishes on another.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class SessionStore(Protocol):
    """Where sessions and one-time values live; keys are opaque strings."""

    def get(self, key: str) -> dict | None: ...
    def set(self, key: str, value: dict, ttl: int) -> None: ...
    def delete(self, key: str) -> None: ...
    def pop(self, key: str) -> dict | None:
        """Read and delete in one step: what makes a value one-time."""
    def add(self, key: str, value: dict, ttl: int) -> bool:
        """Store only if absent; True when stored (idempotency keys, replay checks)."""


class MemoryStore:
    """A thread-safe in-process store with expiry. One process only."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> dict | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[0] <= now:
            del self._data[key]
            return None
        return item[1]

    def get(self, key: str) -> dict | None:
        with self._lock:
            value = self._live(key, time.monotonic())
            return dict(value) if value is not None else None

    def set(self, key: str, value: dict, ttl: int) -> None:
        with self._lock:
            if len(self._data) > 10_000:
                self._sweep()
            self._data[key] = (time.monotonic() + ttl, dict(value))

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def pop(self, key: str) -> dict | None:
        with self._lock:
            value = self._live(key, time.monotonic())
            self._data.pop(key, None)
            return value

    def add(self, key: str, value: dict, ttl: int) -> bool:
        with self._lock:
            if self._live(key, time.monotonic()) is not None:
                return False
            self._data[key] = (time.monotonic() + ttl, dict(value))
            return True

    def _sweep(self) -> None:
        now = time.monotonic()
        for key in [k for k, (exp, _) in self._data.items() if exp <= now]:
            del self._data[key]
