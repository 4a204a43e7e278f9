"""Key-value stores for sessions, cached tokens and one-time values.

`MemoryStore` serves one process. Several instances behind a load balancer
need a shared store (Redis) so that a login started on one finishes on another.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Protocol

SESSION_PREFIX = "session:"  # the web sessions' records: SESSION_PREFIX + session id
SESSION_TTL = 8 * 3600


class SessionStore(Protocol):
    """Where sessions and one-time values live; keys are opaque strings."""

    def get(self, key: str) -> dict | None: ...
    def set(self, key: str, value: dict, ttl: int) -> None: ...
    def delete(self, key: str) -> None: ...
    def pop(self, key: str) -> dict | None:
        """Read and delete in one step: what makes a value one-time."""

    def add(self, key: str, value: dict, ttl: int) -> bool:
        """Store only if absent; True when stored (idempotency keys, replay checks)."""

    def ping(self) -> bool:
        """True when the store answers (readiness)."""


class MemoryStore:
    """A thread-safe in-process store with expiry. One process only.

    Bounded: past `max_entries` (anonymous visitors get a session for their CSRF token,
    so a flood of requests must not grow memory without end) the entries closest to
    expiry are dropped first.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self._data: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()
        self.max_entries = max_entries
        self._next_sweep = 10_000

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
            self._make_room()
            self._data[key] = (time.monotonic() + ttl, dict(value))

    def _make_room(self) -> None:
        """Sweep when the store has doubled since the last sweep; evict past the cap."""
        if len(self._data) < self._next_sweep:
            return
        self._sweep()
        if len(self._data) >= self.max_entries:
            by_expiry = sorted(self._data, key=lambda k: self._data[k][0])
            for key in by_expiry[: len(by_expiry) - self.max_entries * 9 // 10]:
                del self._data[key]
        self._next_sweep = max(10_000, min(self.max_entries, 2 * len(self._data)))

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
            self._make_room()
            self._data[key] = (time.monotonic() + ttl, dict(value))
            return True

    def _sweep(self) -> None:
        now = time.monotonic()
        for key in [k for k, (exp, _) in self._data.items() if exp <= now]:
            del self._data[key]

    def ping(self) -> bool:
        return True


class RedisStore:
    """A store shared by every instance behind a load balancer (`REDIS_URL`).

    Values are JSON; every key expires. `pop` is GETDEL and `add` is SET NX, so
    one-time values stay one-time across instances.
    """

    def __init__(self, url: str, prefix: str = "ehbox:"):
        import redis  # only needed when configured

        self._redis = redis.Redis.from_url(
            url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30
        )
        self._prefix = prefix

    def _k(self, key: str) -> str:
        return self._prefix + key

    @staticmethod
    def _load(raw: bytes | None) -> dict | None:
        return None if raw is None else json.loads(raw)

    def get(self, key: str) -> dict | None:
        return self._load(self._redis.get(self._k(key)))

    def set(self, key: str, value: dict, ttl: int) -> None:
        self._redis.set(self._k(key), json.dumps(value), ex=max(1, int(ttl)))

    def delete(self, key: str) -> None:
        self._redis.delete(self._k(key))

    def pop(self, key: str) -> dict | None:
        return self._load(self._redis.getdel(self._k(key)))

    def add(self, key: str, value: dict, ttl: int) -> bool:
        return bool(self._redis.set(self._k(key), json.dumps(value), ex=max(1, int(ttl)), nx=True))

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            return False


def store_from_url(url: str | None) -> SessionStore:
    """`MemoryStore` without a URL, `RedisStore` for redis:// and rediss:// URLs."""
    if not url:
        return MemoryStore()
    return RedisStore(url)
