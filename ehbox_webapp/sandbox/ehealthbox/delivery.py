"""The sandbox's business rules for publishing: recipients, out-of-office, quota, receipts.

Run inside one `Store.write()` transaction so that a send is all or nothing and
a PublicationId cannot be used twice by concurrent requests.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from .platform import TITLE_MAX
from .problems import ApiProblem
from .recipients import BROADCAST_ID, RecipientProblem, check_recipient
from .store import STANDBY, Store, box_json, box_key, iso

YEAR_US = 365 * 24 * 3600 * 1_000_000
# The eHealth platform itself (CBE 0809.394.427) sends the system messages.
SYSTEM_SENDER = {"id": "0809394427", "type": "CBE", "quality": "INSTITUTION", "name": "eHealthBox"}
RECEIPT_FLAGS = {
    "PUBLISHED": "publicationReceipt",
    "RECEIVED": "receivedReceipt",
    "READ": "readReceipt",
}
RECEIPT_COLUMNS = {"PUBLISHED": "published_us", "RECEIVED": "received_us", "READ": "read_us"}
ACK_TEXT = {
    "PUBLISHED": "Uw bericht werd gepubliceerd. / Votre message a été publié.",
    "RECEIVED": "Uw bericht werd ontvangen. / Votre message a été reçu.",
    "READ": "Uw bericht werd gelezen. / Votre message a été lu.",
}


def deliver(
    conn: sqlite3.Connection, store: Store, key: str, content_id: int, size: int, published_us: int
) -> tuple[str, bool]:
    """Put a copy in a box's INBOX, or in stand-by when it does not fit the quota."""
    box = store.box(conn, key)
    current, _ = store.usage(conn, key)
    standby = box is not None and current + size > box["max_size"]
    message_id = store.insert_copy(
        conn, key, STANDBY if standby else "INBOX", content_id, size, published_us
    )
    return message_id, standby


def release_standby(conn: sqlite3.Connection, store: Store, key: str) -> None:
    """Move waiting messages into the INBOX, oldest first, while they fit the quota."""
    box = store.box(conn, key)
    if box is None:
        return
    current, _ = store.usage(conn, key)
    waiting = conn.execute(
        "SELECT message_id, size FROM messages WHERE box=? AND folder=? ORDER BY published_us",
        (key, STANDBY),
    ).fetchall()
    for row in waiting:
        if current + row["size"] > box["max_size"]:
            break
        conn.execute("UPDATE messages SET folder='INBOX' WHERE message_id=?", (row["message_id"],))
        current += row["size"]


def system_message(
    conn: sqlite3.Connection,
    store: Store,
    to_key: str,
    *,
    title: str,
    text: str,
    now: int,
    ack: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    about: str | None = None,
) -> str:
    """An ACKNOWLEDGMENT or ERROR message from the platform, in a box's INBOX."""
    blob = store.blobs.put_bytes(text.encode("utf-8"))
    box = store.box(conn, to_key)
    document = {
        "title": title,
        "downloadFileName": "ehealthbox.txt",
        "mimeType": "text/plain",
        "digest": blob.digest,
        "size": blob.size,
        "blob": blob.sha256_hex,
    }
    spec = {
        "contentType": "ERROR" if error else "ACKNOWLEDGMENT",
        "isImportant": False,
        "isEncrypted": False,
        "publicationReceipt": False,
        "receivedReceipt": False,
        "readReceipt": False,
    }
    content_id = store.insert_content(
        conn,
        sender_json=SYSTEM_SENDER,
        destinations_json=[box_json(box)] if box else [],
        spec_json=spec,
        document_json=document,
        ack_json=ack,
        error_json=error,
        size=blob.size,
        published_us=now,
        expires_us=now + YEAR_US,
        about_message_id=about,
    )
    message_id, _ = deliver(conn, store, to_key, content_id, blob.size, now)
    return message_id


def record_receipt(
    conn: sqlite3.Connection,
    store: Store,
    content: sqlite3.Row,
    recipient_key: str,
    ack_type: str,
    now: int,
) -> None:
    """Note PUBLISHED/RECEIVED/READ for one recipient; tell the sender if they asked."""
    column = RECEIPT_COLUMNS[ack_type]
    # `column` comes from the fixed table above.
    cursor = conn.execute(
        f"UPDATE receipts SET {column}=? WHERE content_id=? AND recipient_box=? "  # noqa: S608
        f"AND {column} IS NULL",
        (now, content["content_id"], recipient_key),
    )
    if cursor.rowcount == 0:
        return
    spec = json.loads(content["spec_json"])
    sender_key = content["sender_box"]
    if not spec.get(RECEIPT_FLAGS[ack_type]) or not sender_key or not store.box(conn, sender_key):
        return
    recipient = conn.execute(
        "SELECT recipient_json FROM receipts WHERE content_id=? AND recipient_box=?",
        (content["content_id"], recipient_key),
    ).fetchone()
    original = json.loads(content["document_json"] or "{}").get("title", "")
    ack = {
        "messageId": content["sent_message_id"],
        "recipient": json.loads(recipient[0]),
        "ackType": ack_type,
        "dateTime": iso(now),
    }
    system_message(
        conn,
        store,
        sender_key,
        title=f"{ack_type}: {original}"[:TITLE_MAX],
        text=ACK_TEXT[ack_type],
        now=now,
        ack=ack,
        about=content["sent_message_id"],
    )


def mark_received(
    conn: sqlite3.Connection, store: Store, rows: list[sqlite3.Row], now: int
) -> None:
    for row in rows:
        cursor = conn.execute(
            "UPDATE messages SET received_us=? WHERE message_id=? AND received_us IS NULL",
            (now, row["message_id"]),
        )
        if cursor.rowcount:
            record_receipt(conn, store, row, row["box"], "RECEIVED", now)


def mark_read(conn: sqlite3.Connection, store: Store, row: sqlite3.Row, now: int) -> None:
    mark_received(conn, store, [row], now)
    cursor = conn.execute(
        "UPDATE messages SET read_us=? WHERE message_id=? AND read_us IS NULL",
        (now, row["message_id"]),
    )
    if cursor.rowcount:
        record_receipt(conn, store, row, row["box"], "READ", now)


def resolve_destinations(
    conn: sqlite3.Connection, store: Store, destinations: list[dict[str, Any]]
) -> list[str]:
    """The box key of every destination, or a 403/422 problem naming the bad ones."""
    keys: list[str] = []
    invalid: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    codes: list[str] = []
    for i, dest in enumerate(destinations):
        problems = check_recipient(dest["type"], dest["id"], dest["quality"], dest.get("subType"))
        if not problems and dest["id"] == BROADCAST_ID:
            raise ApiProblem(
                403,
                f"Broadcast to every {dest['quality']} box is not allowed for this sender.",
                code="814",
                invalidParams=[
                    {
                        "in": "body",
                        "reason": "broadcast not allowed",
                        "name": f"destinationContexts[{i}].id",
                    }
                ],
            )
        if not problems:
            boxes = store.boxes_with_id(conn, dest["type"], dest.get("subType"), dest["id"])
            if not boxes:
                problems = [
                    RecipientProblem("id", f"No eHealthBox exists for {dest['type']} {dest['id']}.")
                ]
            elif not any(b["quality"] == dest["quality"] for b in boxes):
                qualities = ", ".join(sorted(b["quality"] for b in boxes))
                problems = [
                    RecipientProblem(
                        "quality",
                        f"The box {dest['type']} {dest['id']} has "
                        f"quality {qualities}, not {dest['quality']}.",
                    )
                ]
        if problems:
            codes.append(problems[0].code)
            bad.append({k: dest[k] for k in ("id", "type", "subType", "quality") if dest.get(k)})
            invalid += [
                {"in": "body", "name": f"destinationContexts[{i}].{p.field}", "reason": p.message}
                for p in problems
            ]
        else:
            keys.append(box_key(dest))
    if invalid:
        raise ApiProblem(
            422,
            " ".join(p["reason"] for p in invalid),
            code=codes[0],
            invalidParams=invalid,
            recipients=bad,
        )
    return keys


def out_of_office_outcomes(
    conn: sqlite3.Connection, store: Store, destinations: list[dict[str, Any]], keys: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(recipients as answered, absent recipients not yet acknowledged with ooOProcessed)."""
    today = datetime.now(UTC).date().isoformat()
    outcomes, unprocessed = [], []
    for dest, key in zip(destinations, keys, strict=True):
        outcome = box_json(store.box(conn, key))
        ooo = store.active_out_of_office(conn, key, today)
        if ooo is not None:
            outcome.update(
                absentFrom=ooo["start_date"],
                absentTo=ooo["end_date"],
                substitutes=json.loads(ooo["substitutes_json"]),
            )
            if not dest.get("ooOProcessed"):
                unprocessed.append(outcome)
        outcomes.append(outcome)
    return outcomes, unprocessed
