"""The in-process store: expiry, one-time values, counters, and a bound on memory."""

import time

from ehbox_webapp.stores import MemoryStore


def test_values_expire_and_one_time_values_are_one_time():
    store = MemoryStore()
    store.set("a", {"v": 1}, ttl=1)
    assert store.get("a") == {"v": 1}
    assert store.add("once", {"v": 1}, ttl=60) is True
    assert store.add("once", {"v": 2}, ttl=60) is False
    assert store.pop("once") == {"v": 1} and store.pop("once") is None
    time.sleep(1.05)
    assert store.get("a") is None


def test_a_flood_of_sessions_cannot_grow_memory_without_end():
    store = MemoryStore(max_entries=20_000)
    for i in range(50_000):
        store.set(f"session:{i}", {"csrf_token": "x"}, ttl=3600)
    assert len(store._data) <= 20_000
    assert store.get("session:49999") == {"csrf_token": "x"}  # the newest are kept
