"""The sandbox eHealthBox's per-folder counters (folder_counts) and its listing query.

The counters answer a listing's total/unread and boxInfo's size without reading the
box; they are kept by triggers on `messages`. Here: after a random sequence of sends
(with receipts and stand-by), listings, reads, moves and deletes through the API, the
counters equal a full recount, and so do the totals the API answers. The listing and
counting queries use their indexes (EXPLAIN QUERY PLAN), and a file made before the
counters existed gets them filled when it is opened.
"""

from __future__ import annotations

import random
import sqlite3
from contextlib import closing
from pathlib import Path

import ehbox_fixtures
from ehbox_fixtures import Sandbox, recipient

from ehbox_webapp.ehealth.ehealthbox import ContentSpecification, NewMessage
from ehbox_webapp.sandbox.ehealthbox.seed import seed
from ehbox_webapp.sandbox.ehealthbox.store import PAGE_SQL, STANDBY, Store

sandbox = ehbox_fixtures.sandbox

PEOPLE = ("dr-alice", "nurse-bram", "dr-chloe")
MOVES = {"INBOX": "BININBOX", "BININBOX": "INBOX", "SENTBOX": "BINSENTBOX", "BINSENTBOX": "SENTBOX"}
STEPS = 120


def assert_counters_match(store: Store, where: str = "") -> None:
    with store.connect() as conn:
        assert store.counters(conn) == store.recount(conn), where


def ids_in(store: Store, box: str, folder: str) -> list[str]:
    with store.connect() as conn:
        rows = conn.execute(
            "SELECT message_id FROM messages WHERE box=? AND folder=? ORDER BY message_id",
            (box, folder),
        ).fetchall()
    return [r[0] for r in rows]


def test_seeded_store_counters_equal_a_recount(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3", tmp_path / "blobs", 10_000_000)
    seed(store)
    assert_counters_match(store, "after the seed")
    with store.connect() as conn:
        assert sum(total for total, _, _ in store.counters(conn).values()) > 100


def test_random_sends_moves_reads_deletes_keep_counters_exact(sandbox: Sandbox) -> None:
    rng = random.Random(20261128)
    store = sandbox.store
    clients = {who: sandbox.client(who) for who in PEOPLE}
    keys = {who: sandbox.box_key(who) for who in PEOPLE}
    assert_counters_match(store, "after the seed")
    released = 0  # deletes that let stand-by mail in (delivery.release_standby)
    for step in range(STEPS):
        who = rng.choice(PEOPLE)
        key, client = keys[who], clients[who]
        action = rng.choice(("send", "send", "list", "read", "move", "delete", "quota"))
        if action == "send":
            to = rng.sample([p for p in PEOPLE if p != who], rng.randint(1, 2))
            receipts = rng.random() < 0.5  # system messages (ACKs) land in the sender's INBOX
            spec = ContentSpecification(
                publication_receipt=receipts, received_receipt=receipts, read_receipt=receipts
            )
            client.send(
                NewMessage(
                    recipients=[recipient(p) for p in to],
                    title=f"counter test {step}",
                    text="x" * rng.randint(1, 3000),
                    content_specification=spec,
                )
            )
        elif action == "list":
            client.list_messages(rng.choice(tuple(MOVES)), 1, 20)
        elif action == "read":
            folder = rng.choice(("INBOX", "BININBOX"))
            if ids := ids_in(store, key, folder):
                client.get_message(rng.choice(ids), folder)
        elif action == "move":
            source = rng.choice(tuple(MOVES))
            if ids := ids_in(store, key, source):
                chosen = rng.sample(ids, min(len(ids), rng.randint(1, 3)))
                assert client.move(chosen + ["AAAAAAAAAAAAA"], source, MOVES[source]) == [
                    "AAAAAAAAAAAAA"
                ]
        elif action == "delete":
            source = rng.choice(tuple(MOVES))
            if ids := ids_in(store, key, source):
                waiting = len(ids_in(store, key, STANDBY))
                assert client.delete(rng.sample(ids, min(len(ids), 2)), source) == []
                released += len(ids_in(store, key, STANDBY)) < waiting
        else:  # a full box puts new mail in stand-by; a delete lets it in again
            with store.connect() as conn:
                used, _ = store.usage(conn, key)
            store.set_max_size(key, used + rng.choice((0, 2000, 10_000_000)))
        assert_counters_match(store, f"step {step}: {who} {action}")

    with store.connect() as conn:
        counted = store.recount(conn)
        standby = sum(counted.get((k, STANDBY), (0, 0, 0))[0] for k in keys.values())
    assert standby > 0 and released > 0, "the sequence should use and release stand-by"
    for who, client in clients.items():
        for folder in MOVES:
            page = client.list_messages(folder, 1, 1)
            total, unread, _ = counted.get((keys[who], folder), (0, 0, 0))
            assert (page.total, page.unread) == (total, unread), (who, folder)
        info = client.box_info()
        size = sum(v[2] for (box, f), v in counted.items() if box == keys[who] and f != STANDBY)
        assert info.current_size == size


def test_listing_and_counting_use_their_indexes(tmp_path: Path) -> None:
    """The first page reads the page's rows (no sort of the folder); counts read one row."""
    store = Store(tmp_path / "s.sqlite3", tmp_path / "blobs", 10_000_000)
    with store.connect() as conn:
        page = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + PAGE_SQL, ("b", "INBOX", 25, 0))]
        counts = [
            r[3]
            for r in conn.execute(
                "EXPLAIN QUERY PLAN SELECT total, unread FROM folder_counts WHERE box=? AND "
                "folder=?",
                ("b", "INBOX"),
            )
        ]
    assert any("USING INDEX messages_listing (box=? AND folder=?)" in d for d in page), page
    assert not any("TEMP B-TREE" in d for d in page), page
    assert counts == ["SEARCH folder_counts USING PRIMARY KEY (box=? AND folder=?)"], counts


def test_a_file_made_before_the_counters_gets_them_filled(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    store = Store(db, tmp_path / "blobs", 10_000_000)
    seed(store)
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        for trigger in ("messages_count_insert", "messages_count_delete", "messages_count_update"):
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute("DROP TABLE folder_counts")
        conn.execute("PRAGMA user_version=0")
        conn.execute("DELETE FROM messages WHERE rowid % 3 = 0")  # written by the old code
    reopened = Store(db, tmp_path / "blobs", 10_000_000)
    assert_counters_match(reopened, "after the migration")
    with reopened.connect() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
