"""The sandbox eHealthBox's SQLite store: boxes, messages, receipts, out-of-office, faults.

A message's content (sender, document, annexes, ...) is stored once in
`contents`; each box that holds it has its own row in `messages` (one per
recipient INBOX, one in the sender's SENTBOX), with its own MessageId, folder
and read state. Blobs live on disk (`blobs.py`).

What a box's size must not change: the cost of its first page. Listing walks
the (box, folder, published_us) index backwards (the index ends with the rowid,
so `ORDER BY published_us DESC, rowid DESC` needs no sort: see `PAGE_SQL` and
tests/test_sandbox_store_counters.py), and the totals a listing and boxInfo
answer come from `folder_counts`, one row per (box, folder) kept by triggers on
`messages`. Triggers rather than calls in each write path: every write (send,
delivery, stand-by release, move, delete, mark received/read, the seed, a bench
filling the file with plain SQL) updates them in its own transaction, and no
future write path can forget to.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import string
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..first_start import exclusive
from .blobs import BlobStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS boxes (
    box_key TEXT PRIMARY KEY, id TEXT NOT NULL, type TEXT NOT NULL, sub_type TEXT,
    quality TEXT NOT NULL, name TEXT NOT NULL, first_name TEXT, max_size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS boxes_by_id ON boxes(type, id);
CREATE TABLE IF NOT EXISTS contents (
    content_id INTEGER PRIMARY KEY, publication_id TEXT, sender_box TEXT,
    sender_json TEXT NOT NULL, destinations_json TEXT NOT NULL, spec_json TEXT NOT NULL,
    document_json TEXT, free_json TEXT, patient_inss TEXT,
    annexes_json TEXT NOT NULL DEFAULT '[]', ack_json TEXT, error_json TEXT,
    metas_json TEXT NOT NULL DEFAULT '[]', copy_mail_to_json TEXT NOT NULL DEFAULT '[]',
    size INTEGER NOT NULL, published_us INTEGER NOT NULL, expires_us INTEGER,
    sent_message_id TEXT, about_message_id TEXT
);
CREATE INDEX IF NOT EXISTS contents_about ON contents(about_message_id);
CREATE TABLE IF NOT EXISTS messages (
    message_id TEXT PRIMARY KEY, box TEXT NOT NULL, folder TEXT NOT NULL,
    content_id INTEGER NOT NULL REFERENCES contents(content_id), size INTEGER NOT NULL,
    published_us INTEGER NOT NULL, received_us INTEGER, read_us INTEGER
);
CREATE INDEX IF NOT EXISTS messages_listing ON messages(box, folder, published_us);
CREATE TABLE IF NOT EXISTS folder_counts (
    box TEXT NOT NULL, folder TEXT NOT NULL, total INTEGER NOT NULL DEFAULT 0,
    unread INTEGER NOT NULL DEFAULT 0, size INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (box, folder)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS messages_count_insert AFTER INSERT ON messages BEGIN
    INSERT OR IGNORE INTO folder_counts(box, folder) VALUES (NEW.box, NEW.folder);
    UPDATE folder_counts SET total = total + 1, unread = unread + (NEW.read_us IS NULL),
        size = size + NEW.size WHERE box = NEW.box AND folder = NEW.folder;
END;
CREATE TRIGGER IF NOT EXISTS messages_count_delete AFTER DELETE ON messages BEGIN
    UPDATE folder_counts SET total = total - 1, unread = unread - (OLD.read_us IS NULL),
        size = size - OLD.size WHERE box = OLD.box AND folder = OLD.folder;
END;
CREATE TRIGGER IF NOT EXISTS messages_count_update
AFTER UPDATE OF box, folder, size, read_us ON messages BEGIN
    UPDATE folder_counts SET total = total - 1, unread = unread - (OLD.read_us IS NULL),
        size = size - OLD.size WHERE box = OLD.box AND folder = OLD.folder;
    INSERT OR IGNORE INTO folder_counts(box, folder) VALUES (NEW.box, NEW.folder);
    UPDATE folder_counts SET total = total + 1, unread = unread + (NEW.read_us IS NULL),
        size = size + NEW.size WHERE box = NEW.box AND folder = NEW.folder;
END;
CREATE TABLE IF NOT EXISTS publications (
    sender_box TEXT NOT NULL, publication_id TEXT NOT NULL, response_json TEXT NOT NULL,
    PRIMARY KEY (sender_box, publication_id)
);
CREATE TABLE IF NOT EXISTS receipts (
    content_id INTEGER NOT NULL, recipient_box TEXT NOT NULL, recipient_json TEXT NOT NULL,
    published_us INTEGER, received_us INTEGER, read_us INTEGER,
    PRIMARY KEY (content_id, recipient_box)
);
CREATE TABLE IF NOT EXISTS out_of_office (
    ooo_id TEXT PRIMARY KEY, box TEXT NOT NULL, start_date TEXT NOT NULL,
    end_date TEXT NOT NULL, substitutes_json TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS out_of_office_box ON out_of_office(box);
CREATE TABLE IF NOT EXISTS faults (
    fault_id INTEGER PRIMARY KEY, operation TEXT NOT NULL, delay REAL NOT NULL DEFAULT 0,
    status INTEGER, code TEXT, retry_after INTEGER, times_left INTEGER NOT NULL
);
"""

INBOX_SIDE = ("INBOX", "BININBOX")
SENT_SIDE = ("SENTBOX", "BINSENTBOX")
STANDBY = "STANDBY"  # an internal folder: received while the box was full
# PRAGMA user_version: 1 = folder_counts exists and was filled from `messages` once.
SCHEMA_VERSION = 1
# The listing query (EXPLAIN QUERY PLAN: "SEARCH m USING INDEX messages_listing (box=? AND
# folder=?)" and no "USE TEMP B-TREE FOR ORDER BY"): it reads the page's rows, not the box.
PAGE_SQL = (
    "SELECT m.*, c.* FROM messages m JOIN contents c ON c.content_id = m.content_id "
    "WHERE m.box=? AND m.folder=? ORDER BY m.published_us DESC, m.rowid DESC "
    "LIMIT ? OFFSET ?"
)
RECOUNT_SQL = (
    "SELECT box, folder, COUNT(*), COUNT(*) - COUNT(read_us), COALESCE(SUM(size), 0) "
    "FROM messages GROUP BY box, folder"
)
_ALPHANUMERIC = string.ascii_letters + string.digits


def now_us() -> int:
    return time.time_ns() // 1000


def iso(us: int | None) -> str | None:
    if us is None:
        return None
    return datetime.fromtimestamp(us / 1_000_000, UTC).isoformat(timespec="seconds")


def new_message_id() -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(13))


def box_key(box: dict[str, Any]) -> str:
    return "|".join((box["type"], box.get("subType") or "", box["id"], box["quality"]))


def box_json(row: sqlite3.Row) -> dict[str, Any]:
    """A box row as the contract's BoxId."""
    data = {"id": row["id"], "type": row["type"], "quality": row["quality"]}
    if row["sub_type"]:
        data["subType"] = row["sub_type"]
    return data


class Store:
    def __init__(self, db_path: Path, blob_dir: Path, default_max_size: int):
        self.db_path = db_path
        self.blobs = BlobStore(blob_dir)
        self.default_max_size = default_max_size
        self._local = threading.local()
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with self.first_start():
            with self.connect() as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(SCHEMA)
            self._migrate()

    def first_start(self) -> AbstractContextManager[None]:
        """One process at a time creates the schema or seeds (gunicorn workers start together)."""
        return exclusive(self.db_path.with_name(self.db_path.name + ".lock"))

    def _migrate(self) -> None:
        """Fill folder_counts once for a file made before it existed (no-op on a new file)."""
        with self.write() as conn:
            if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
                return
            conn.execute("DELETE FROM folder_counts")
            conn.executemany(
                "INSERT INTO folder_counts(box, folder, total, unread, size) VALUES (?,?,?,?,?)",
                conn.execute(RECOUNT_SQL).fetchall(),
            )
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=10, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode: the calling thread's own, kept between calls.

        Opening a connection costs more than most of the sandbox's queries, so each
        server thread keeps one (per process: a forked worker opens its own). A
        connection asked for while the thread's is in use (nested) is a fresh one,
        closed after. No transaction outlives the block.
        """
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is None or local.pid != os.getpid():
            conn = local.conn = self._open()
            local.pid, local.busy = os.getpid(), False
        if local.busy:
            nested = self._open()
            try:
                yield nested
            finally:
                nested.close()
            return
        local.busy = True
        try:
            yield conn
        finally:
            local.busy = False
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction (one consistent snapshot; takes no write lock)."""
        with self.connect() as conn:
            conn.execute("BEGIN DEFERRED")
            yield conn
            conn.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken up front, so check-then-insert cannot race."""
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def is_empty(self) -> bool:
        with self.connect() as conn:
            return conn.execute("SELECT 1 FROM boxes LIMIT 1").fetchone() is None

    # --- boxes -------------------------------------------------------------------------------
    def ensure_box(
        self,
        conn: sqlite3.Connection,
        box: dict[str, Any],
        name: str,
        first_name: str | None = None,
    ) -> str:
        key = box_key(box)
        conn.execute(
            "INSERT OR IGNORE INTO boxes(box_key, id, type, sub_type, quality, name, first_name,"
            " max_size) VALUES (?,?,?,?,?,?,?,?)",
            (
                key,
                box["id"],
                box["type"],
                box.get("subType"),
                box["quality"],
                name,
                first_name,
                self.default_max_size,
            ),
        )
        return key

    @staticmethod
    def box(conn: sqlite3.Connection, key: str) -> sqlite3.Row | None:
        return conn.execute("SELECT * FROM boxes WHERE box_key=?", (key,)).fetchone()

    @staticmethod
    def boxes_with_id(
        conn: sqlite3.Connection, box_type: str, sub_type: str | None, identifier: str
    ) -> list[sqlite3.Row]:
        rows = conn.execute(
            "SELECT * FROM boxes WHERE type=? AND id=?", (box_type, identifier)
        ).fetchall()
        return [r for r in rows if (r["sub_type"] or None) == (sub_type or None)]

    def set_max_size(self, key: str, max_size: int) -> None:
        """Change a box's quota (tests and demos of the stand-by rule)."""
        with self.write() as conn:
            conn.execute("UPDATE boxes SET max_size=? WHERE box_key=?", (max_size, key))

    @staticmethod
    def usage(conn: sqlite3.Connection, key: str) -> tuple[int, int]:
        """(CurrentSize, NbrMessagesInStandBy) of a box, from its few folder_counts rows."""
        row = conn.execute(
            "SELECT COALESCE(SUM(CASE WHEN folder != ? THEN size END), 0), "
            "COALESCE(SUM(CASE WHEN folder = ? THEN total END), 0) "
            "FROM folder_counts WHERE box=?",
            (STANDBY, STANDBY, key),
        ).fetchone()
        return int(row[0]), int(row[1])

    # --- messages ----------------------------------------------------------------------------
    @staticmethod
    def insert_content(conn: sqlite3.Connection, **columns: Any) -> int:
        for name in (
            "sender_json",
            "destinations_json",
            "spec_json",
            "document_json",
            "free_json",
            "annexes_json",
            "ack_json",
            "error_json",
            "metas_json",
            "copy_mail_to_json",
        ):
            if name in columns and columns[name] is not None:
                columns[name] = json.dumps(columns[name], ensure_ascii=False)
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        # Column names come from this module's callers, never from a request.
        cursor = conn.execute(
            f"INSERT INTO contents({names}) VALUES ({marks})",  # noqa: S608
            tuple(columns.values()),
        )
        return int(cursor.lastrowid or 0)

    @staticmethod
    def insert_copy(
        conn: sqlite3.Connection,
        key: str,
        folder: str,
        content_id: int,
        size: int,
        published_us: int,
        *,
        message_id: str | None = None,
        read_us: int | None = None,
        received_us: int | None = None,
    ) -> str:
        message_id = message_id or new_message_id()
        conn.execute(
            "INSERT INTO messages(message_id, box, folder, content_id, size, "
            "published_us, received_us, read_us) VALUES (?,?,?,?,?,?,?,?)",
            (message_id, key, folder, content_id, size, published_us, received_us, read_us),
        )
        return message_id

    @staticmethod
    def page(
        conn: sqlite3.Connection, key: str, folder: str, start: int, end: int
    ) -> list[sqlite3.Row]:
        """Rows start..end (1 = newest) of a folder, joined with their content."""
        return conn.execute(PAGE_SQL, (key, folder, end - start + 1, start - 1)).fetchall()

    @staticmethod
    def counts(conn: sqlite3.Connection, key: str, folder: str) -> tuple[int, int]:
        """(total, unread) of a folder: one folder_counts row, whatever the folder holds."""
        row = conn.execute(
            "SELECT total, unread FROM folder_counts WHERE box=? AND folder=?", (key, folder)
        ).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    @staticmethod
    def counters(conn: sqlite3.Connection) -> dict[tuple[str, str], tuple[int, int, int]]:
        """Every non-empty folder's (total, unread, size) as kept in folder_counts."""
        rows = conn.execute(
            "SELECT box, folder, total, unread, size FROM folder_counts "
            "WHERE total != 0 OR unread != 0 OR size != 0"
        ).fetchall()
        return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows}

    @staticmethod
    def recount(conn: sqlite3.Connection) -> dict[tuple[str, str], tuple[int, int, int]]:
        """The same figures counted from `messages` (reads every row: checks and migration)."""
        return {(r[0], r[1]): (r[2], r[3], r[4]) for r in conn.execute(RECOUNT_SQL)}

    @staticmethod
    def copy(
        conn: sqlite3.Connection, key: str, folders: tuple[str, ...], message_id: str
    ) -> sqlite3.Row | None:
        if not 1 <= len(folders) <= 2:
            raise ValueError("one or two folders")
        return conn.execute(
            "SELECT m.*, c.* FROM messages m JOIN contents c ON c.content_id = m.content_id "
            "WHERE m.message_id=? AND m.box=? AND m.folder IN (?, ?)",
            (message_id, key, folders[0], folders[-1]),
        ).fetchone()

    @staticmethod
    def related(conn: sqlite3.Connection, key: str, message_id: str) -> list[str]:
        """Ids of this box's system messages about a message (its history)."""
        rows = conn.execute(
            "SELECT m.message_id FROM contents c JOIN messages m ON m.content_id = c.content_id "
            "WHERE c.about_message_id=? AND m.box=? ORDER BY m.published_us",
            (message_id, key),
        ).fetchall()
        return [r[0] for r in rows]

    # --- out of office -----------------------------------------------------------------------
    @staticmethod
    def out_of_offices(conn: sqlite3.Connection, key: str) -> list[sqlite3.Row]:
        return conn.execute(
            "SELECT * FROM out_of_office WHERE box=? ORDER BY start_date", (key,)
        ).fetchall()

    @staticmethod
    def active_out_of_office(conn: sqlite3.Connection, key: str, today: str) -> sqlite3.Row | None:
        return conn.execute(
            "SELECT * FROM out_of_office WHERE box=? AND start_date<=? AND "
            "end_date>=? ORDER BY start_date LIMIT 1",
            (key, today, today),
        ).fetchone()
