"""Key-value stores for sessions, cached tokens and one-time values.

`MemoryStore` serves one process. Several instances behind a load balancer
need a shared store (Redis) so that a login started on one finishes on another.

Only what a logged-in user does writes here: an anonymous visitor gets no session (the
login in progress travels in a sealed cookie, `web/login_state.py`), so no flood of
anonymous requests can push a user's session out. A store that cannot be reached raises
:class:`StoreUnavailable`, which the web layer answers with its own 503.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Protocol

SESSION_PREFIX = "session:"  # the web sessions' records: SESSION_PREFIX + session id
SESSION_TTL = 8 * 3600
MAX_ENTRIES = 100_000  # the in-process store's bound (`SESSION_STORE_MAX_ENTRIES`)


class StoreUnavailable(Exception):
    """The shared store did not answer (Redis stopped, unreachable or refusing)."""


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

    Bounded: past `max_entries` the entries closest to expiry are dropped first, down to
    nine tenths of the bound. Only logged-in users write entries (anonymous visitors get no
    session), so what is dropped is never dropped for anonymous traffic.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._data: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()
        self.max_entries = max_entries
        self._next_sweep = min(10_000, max_entries)

    def __len__(self) -> int:
        return len(self._data)

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
            if key not in self._data:
                self._make_room()
            self._data[key] = (time.monotonic() + ttl, dict(value))

    def _make_room(self) -> None:
        """Sweep the expired entries when the store has grown to the next mark; past the
        bound, drop those closest to expiry."""
        if len(self._data) < self._next_sweep:
            return
        self._sweep()
        if len(self._data) >= self.max_entries:
            by_expiry = sorted(self._data, key=lambda k: self._data[k][0])
            for key in by_expiry[: len(by_expiry) - self.max_entries * 9 // 10]:
                del self._data[key]
        self._next_sweep = min(self.max_entries, max(10_000, 2 * len(self._data)))

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

    When Redis does not answer, a call raises :class:`StoreUnavailable`: at once when it
    refuses connections, within a few seconds when it hangs (one quick retry, for the
    connection a restarted Redis closed), and for the next `PAUSE` seconds at once, without
    trying: no request waits on the timeouts of the one before.
    """

    PAUSE = 1.0  # seconds without trying after a failure

    def __init__(self, url: str, prefix: str = "ehbox:"):
        import redis  # only needed when configured
        from redis.backoff import ConstantBackoff
        from redis.retry import Retry

        self._redis = redis.Redis.from_url(
            url,
            socket_timeout=2,
            socket_connect_timeout=1,
            health_check_interval=30,
            retry=Retry(ConstantBackoff(0.05), 1),
        )
        self._errors = (redis.RedisError, OSError)
        self._prefix = prefix
        self._paused_until = 0.0

    def _k(self, key: str) -> str:
        return self._prefix + key

    def _call(self, method: str, *args, **kwargs):
        if time.monotonic() < self._paused_until:
            raise StoreUnavailable("the shared store did not answer a moment ago")
        try:
            return getattr(self._redis, method)(*args, **kwargs)
        except self._errors as exc:
            self._paused_until = time.monotonic() + self.PAUSE
            what = type(exc).__name__
            raise StoreUnavailable(f"the shared store did not answer ({what})") from None

    @staticmethod
    def _load(raw: bytes | None) -> dict | None:
        return None if raw is None else json.loads(raw)

    def get(self, key: str) -> dict | None:
        return self._load(self._call("get", self._k(key)))

    def set(self, key: str, value: dict, ttl: int) -> None:
        self._call("set", self._k(key), json.dumps(value), ex=max(1, int(ttl)))

    def delete(self, key: str) -> None:
        self._call("delete", self._k(key))

    def pop(self, key: str) -> dict | None:
        return self._load(self._call("getdel", self._k(key)))

    def add(self, key: str, value: dict, ttl: int) -> bool:
        return bool(
            self._call("set", self._k(key), json.dumps(value), ex=max(1, int(ttl)), nx=True)
        )

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except self._errors:
            return False


def store_from_url(url: str | None, max_entries: int = MAX_ENTRIES) -> SessionStore:
    """`MemoryStore` (of at most `max_entries`) without a URL, `RedisStore` for redis://,
    rediss:// and unix:// URLs."""
    if not url:
        return MemoryStore(max_entries)
    return RedisStore(url)
