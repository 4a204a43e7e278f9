"""Publishing a validated message: one transaction, delivered at most once per PublicationId."""

from __future__ import annotations

import json
from typing import Any

from .delivery import (
    YEAR_US,
    deliver,
    out_of_office_outcomes,
    record_receipt,
    resolve_destinations,
)
from .problems import ApiProblem
from .store import Store, box_json, now_us

SPEC_DEFAULTS = {
    "isImportant": False,
    "isEncrypted": False,
    "publicationReceipt": False,
    "receivedReceipt": False,
    "readReceipt": False,
}


def publish(
    store: Store,
    sender_key: str,
    sender: dict[str, Any],
    msg: dict[str, Any],
    document: dict[str, Any],
    annexes: list[dict[str, Any]],
    size: int,
) -> tuple[int, dict[str, Any]]:
    """Deliver a message; returns (HTTP status, answer).

    A PublicationId the sender already used returns the first answer with 200
    and delivers nothing: that is what makes resending after a lost answer safe.
    """
    now = now_us()
    publication_id = msg["publicationId"]
    with store.write() as conn:
        previous = conn.execute(
            "SELECT response_json FROM publications WHERE sender_box=? AND publication_id=?",
            (sender_key, publication_id),
        ).fetchone()
        if previous is not None:
            return 200, json.loads(previous[0])

        destinations = msg["destinationContexts"]
        keys = resolve_destinations(conn, store, destinations)
        outcomes, unprocessed = out_of_office_outcomes(conn, store, destinations, keys)
        if unprocessed:
            raise ApiProblem(
                409,
                "Some recipients are out of office. Nothing was delivered: resend with "
                "ooOProcessed=true for them, and add their substitutes if you wish.",
                code="826",
                recipients=unprocessed,
            )

        content = msg["content"]
        spec = dict(SPEC_DEFAULTS, **msg["contentSpecification"])
        content_id = store.insert_content(
            conn,
            publication_id=publication_id,
            sender_box=sender_key,
            sender_json=sender,
            destinations_json=[box_json(store.box(conn, k)) for k in keys],
            spec_json=spec,
            document_json=document,
            free_json=content.get("freeInformations"),
            patient_inss=content.get("patientInss"),
            annexes_json=annexes,
            metas_json=msg.get("customMetas", []),
            copy_mail_to_json=msg.get("copyMailTo", []),
            size=size,
            published_us=now,
            expires_us=now + YEAR_US,
        )
        sent_id = store.insert_copy(
            conn, sender_key, "SENTBOX", content_id, size, now, read_us=now, received_us=now
        )
        conn.execute(
            "UPDATE contents SET sent_message_id=? WHERE content_id=?", (sent_id, content_id)
        )
        content_row = conn.execute(
            "SELECT * FROM contents WHERE content_id=?", (content_id,)
        ).fetchone()

        recipients: list[dict[str, Any]] = []
        delivered: set[str] = set()
        for outcome, key in zip(outcomes, keys, strict=True):
            if key in delivered:  # the same box twice gets one copy
                continue
            delivered.add(key)
            _, standby = deliver(conn, store, key, content_id, size, now)
            if standby:
                outcome["standBy"] = True
            conn.execute(
                "INSERT INTO receipts(content_id, recipient_box, recipient_json) VALUES (?,?,?)",
                (content_id, key, json.dumps(box_json(store.box(conn, key)))),
            )
            record_receipt(conn, store, content_row, key, "PUBLISHED", now)
            recipients.append(outcome)

        answer = {"messageId": sent_id, "publicationId": publication_id, "recipients": recipients}
        conn.execute(
            "INSERT INTO publications(sender_box, publication_id, response_json) VALUES (?,?,?)",
            (sender_key, publication_id, json.dumps(answer, ensure_ascii=False)),
        )
    return 201, answer
