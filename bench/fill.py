"""Fill a sandbox box straight in its SQLite store (bulk insert, one transaction).

The schema is the sandbox's own (ehbox_webapp/sandbox/ehealthbox/store.py): a
`contents` row per message and a `messages` row per box copy. The filler copies
the document of a message the box already holds (so its blob exists on disk),
gives every new message a distinct content row, a MessageId `B` + 12 digits and
a publication date older than the seeded mail, and marks them received and
read, so listing them writes no receipts.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from ehbox_webapp.sandbox.ehealthbox.store import box_key, now_us
from ehbox_webapp.sandbox.personas import persona

DB_NAME = "sandbox-ehealthbox.sqlite3"
MINUTE_US = 60 * 1_000_000
SENDER = {
    "id": "71098783",
    "type": "NIHII",
    "subType": "HOSPITAL",
    "quality": "HOSPITAL",
    "name": "CHU de Liège",
}
SPEC = {
    "contentType": "DOCUMENT",
    "isImportant": False,
    "isEncrypted": False,
    "publicationReceipt": False,
    "receivedReceipt": False,
    "readReceipt": False,
}


def persona_box(persona_id: str) -> str:
    person = persona(persona_id)
    if person is None:
        raise ValueError(f"no sandbox persona {persona_id!r}")
    return box_key(person.box)


def inbox_count(instance: Path, persona_id: str) -> int:
    with closing(sqlite3.connect(instance / DB_NAME, timeout=30)) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM messages WHERE box=? AND folder='INBOX'",
            (persona_box(persona_id),),
        ).fetchone()
    return int(row[0])


def fill_inbox(instance: Path, persona_id: str, target: int) -> int:
    """Add messages to the persona's INBOX until it holds `target`; return the count."""
    key = persona_box(persona_id)
    conn = sqlite3.connect(instance / DB_NAME, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        have, oldest = conn.execute(
            "SELECT COUNT(*), MIN(published_us) FROM messages WHERE box=? AND folder='INBOX'",
            (key,),
        ).fetchone()
        missing = target - int(have)
        if missing <= 0:
            conn.execute("ROLLBACK")
            return int(have)
        document_json, destinations_json = conn.execute(
            "SELECT c.document_json, c.destinations_json FROM messages m JOIN contents c "
            "ON c.content_id = m.content_id WHERE m.box=? AND c.document_json IS NOT NULL "
            "LIMIT 1",
            (key,),
        ).fetchone()
        size = int(json.loads(document_json)["size"])
        first_id = (
            int(conn.execute("SELECT COALESCE(MAX(content_id), 0) FROM contents").fetchone()[0]) + 1
        )
        last_number = conn.execute(
            "SELECT COALESCE(MAX(CAST(substr(message_id, 2) AS INTEGER)), -1) "
            "FROM messages WHERE message_id GLOB ?",
            ("B" + "[0-9]" * 12,),
        ).fetchone()[0]
        first_number = int(last_number) + 1
        start = int(oldest or now_us()) - MINUTE_US
        sender, spec = json.dumps(SENDER), json.dumps(SPEC)
        contents, copies = [], []
        for i in range(missing):
            content_id, published = first_id + i, start - i * MINUTE_US
            contents.append(
                (
                    content_id,
                    sender,
                    destinations_json,
                    spec,
                    document_json,
                    size,
                    published,
                    published + 365 * 24 * 60 * MINUTE_US,
                )
            )
            copies.append(
                (
                    f"B{first_number + i:012d}",
                    key,
                    content_id,
                    size,
                    published,
                    published,
                    published,
                )
            )
        conn.executemany(
            "INSERT INTO contents(content_id, sender_json, destinations_json, spec_json, "
            "document_json, size, published_us, expires_us) VALUES (?,?,?,?,?,?,?,?)",
            contents,
        )
        conn.executemany(
            "INSERT INTO messages(message_id, box, folder, content_id, size, published_us, "
            "received_us, read_us) VALUES (?,?,'INBOX',?,?,?,?,?)",
            copies,
        )
        conn.execute("COMMIT")
        return int(have) + missing
    finally:
        conn.close()
