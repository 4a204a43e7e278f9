"""Stored rows as the JSON of the modelled REST contract (see openapi.yaml).

The sandbox implements the contract on its own: it must not import the
client's `rest.py`, so that it stays the reference when `rest.py` is adapted.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .store import box_json, iso

SPEC_SUMMARY_FIELDS = ("contentType", "isImportant", "isEncrypted", "applicationName")


def _load(value: str | None, default: Any = None) -> Any:
    return json.loads(value) if value else default


def public_part(part: dict[str, Any]) -> dict[str, Any]:
    """A stored document/annex without the internal blob reference."""
    return {k: v for k, v in part.items() if k != "blob"}


def message_info(row: sqlite3.Row) -> dict[str, Any]:
    info = {"publicationDate": iso(row["published_us"]), "size": row["size"]}
    if row["expires_us"]:
        info["expirationDate"] = iso(row["expires_us"])
    return info


def summary(row: sqlite3.Row, box: sqlite3.Row) -> dict[str, Any]:
    """A folder-listing row (SOAP getMessagesList `Message`, plus the inferred `read`)."""
    document = _load(row["document_json"], {})
    spec = _load(row["spec_json"], {})
    content_info: dict[str, Any] = {
        "title": document.get("title", ""),
        "mimeType": document.get("mimeType", "text/plain"),
        "hasFreeInformations": bool(row["free_json"]),
        "hasAnnex": bool(_load(row["annexes_json"], [])),
    }
    if row["patient_inss"]:
        content_info["patientInss"] = row["patient_inss"]
    data = {
        "messageId": row["message_id"],
        "sender": _load(row["sender_json"]),
        "destination": box_json(box),
        "messageInfo": message_info(row),
        "contentInfo": content_info,
        "contentSpecification": {k: spec[k] for k in SPEC_SUMMARY_FIELDS if k in spec},
        "customMetas": _load(row["metas_json"], []),
        "read": row["read_us"] is not None,
    }
    if row["publication_id"]:
        data["publicationId"] = row["publication_id"]
    return data


def full_message(row: sqlite3.Row) -> dict[str, Any]:
    """A full message (SOAP getFullMessage `Message`)."""
    content: dict[str, Any] = {}
    if row["document_json"]:
        content["document"] = public_part(_load(row["document_json"]))
    if row["free_json"]:
        content["freeInformations"] = _load(row["free_json"])
    if row["patient_inss"]:
        content["patientInss"] = row["patient_inss"]
    content["annexes"] = [public_part(a) for a in _load(row["annexes_json"], [])]
    if row["ack_json"]:
        content["acknowledgment"] = _load(row["ack_json"])
    if row["error_json"]:
        content["error"] = _load(row["error_json"])
    data = {
        "messageId": row["message_id"],
        "sender": _load(row["sender_json"]),
        "destinationContexts": _load(row["destinations_json"], []),
        "messageInfo": message_info(row),
        "contentContext": {
            "content": content,
            "contentSpecification": _load(row["spec_json"], {}),
            "customMetas": _load(row["metas_json"], []),
        },
        "copyMailTo": _load(row["copy_mail_to_json"], []),
        "read": row["read_us"] is not None,
    }
    if row["publication_id"]:
        data["publicationId"] = row["publication_id"]
    return data


def out_of_office(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["ooo_id"],
        "startDate": row["start_date"],
        "endDate": row["end_date"],
        "substitutes": _load(row["substitutes_json"], []),
    }


def receipt(row: sqlite3.Row) -> dict[str, Any]:
    data: dict[str, Any] = {"recipient": _load(row["recipient_json"])}
    for field, column in (
        ("published", "published_us"),
        ("received", "received_us"),
        ("read", "read_us"),
    ):
        if row[column] is not None:
            data[field] = iso(row[column])
    return data
