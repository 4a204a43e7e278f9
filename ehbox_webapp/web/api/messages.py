"""/api/v1 resources: box info, messages, documents and annexes, send, move, delete."""

from __future__ import annotations

import json
from typing import Any

from flask import g, jsonify, request, url_for

from ...ehealth.ehealthbox import models
from ...ehealth.ehealthbox.identifiers import check_recipient, clean, is_valid_inss
from ..downloads import stream_download
from ..ehbox import ehealthbox
from ..extensions import services
from ..limits import action_limit, send_limit
from . import bp, encrypted
from .openapi import openapi_document
from .problems import ApiProblem
from .serialize import to_json

MAX_PAGE_SIZE = 100
IDEMPOTENCY_TTL = 24 * 3600


def _folder(default: str = "INBOX") -> str:
    folder = request.args.get("folder", default).upper()
    if folder not in models.FOLDERS:
        raise ApiProblem(
            400,
            "Unknown folder",
            f"folder must be one of {', '.join(models.FOLDERS)}.",
            invalidParams=[{"name": "folder", "reason": "unknown folder"}],
        )
    return folder


def _positive_int(name: str, default: int, maximum: int | None = None) -> int:
    raw = request.args.get(name, str(default))
    if not raw.isdigit() or int(raw) < 1 or (maximum and int(raw) > maximum):
        bound = f" at most {maximum}" if maximum else ""
        raise ApiProblem(
            400,
            "Bad paging",
            f"{name} must be a whole number from 1{bound}.",
            invalidParams=[{"name": name, "reason": "out of range"}],
        )
    return int(raw)


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/box")
def box_info():
    return jsonify(to_json(ehealthbox().box_info()))


@bp.get("/messages")
def list_messages():
    folder = _folder()
    page = _positive_int("page", 1)
    size = _positive_int("pageSize", 25, MAX_PAGE_SIZE)
    start = (page - 1) * size + 1
    result = ehealthbox().list_messages(folder, start, start + size - 1)
    body: dict[str, Any] = {
        "folder": folder,
        "page": page,
        "pageSize": size,
        "total": result.total,
        "unread": result.unread,
        "messages": to_json(list(result.messages)),
    }
    if result.total is not None and start + size - 1 < result.total:
        body["next"] = url_for("api.list_messages", folder=folder, page=page + 1, pageSize=size)
    return jsonify(body)


@bp.get("/messages/<message_id>")
def get_message(message_id: str):
    client, folder = ehealthbox(), _folder()
    message = client.get_message(message_id, folder)
    if not message.content_specification.is_encrypted:
        return jsonify(to_json(message))
    opened = encrypted.open_message(client, message, folder)
    return jsonify({**to_json(opened.shown()), "sealed": encrypted.sealed_json(opened)})


@bp.get("/messages/<message_id>/document")
def document(message_id: str):
    return _download(message_id, None)


@bp.get("/messages/<message_id>/annexes/<int:index>")
def annex(message_id: str, index: int):
    return _download(message_id, index)


def _download(message_id: str, index: int | None):
    """Stream a part; a sealed part is opened first (it must be whole to be verified)."""
    client, folder = ehealthbox(), _folder()
    message = client.get_message(message_id, folder)
    if message.content_specification.is_encrypted:
        return encrypted.opened_download(client, message, folder, index)
    if index is None:
        return stream_download(client.open_document(message_id, folder))
    return stream_download(client.open_annex(message_id, index, folder))


@bp.get("/messages/<message_id>/acknowledgments")
def acknowledgments(message_id: str):
    rows = ehealthbox().acknowledgments(message_id)
    return jsonify({"messageId": message_id, "acknowledgments": to_json(rows)})


@bp.post("/messages")
@send_limit
def send():
    """Send a message: multipart with a `message` JSON part, `document` and `annex` files.

    A retried send is delivered once: the same `Idempotency-Key` (or the same
    `publicationId`) always maps to the same eHealthBox PublicationId, on which
    the platform de-duplicates.
    """
    spec = _message_json()
    message = _new_message(spec)
    message.publication_id = _publication_id(spec, message.publication_id)
    client = ehealthbox()
    send_with = encrypted.send if spec.get("encrypted") else type(client).send
    result = send_with(client, message)
    body = to_json(result)
    return jsonify(body), 200 if result.replayed else 201


def _message_json() -> dict:
    raw = request.form.get("message")
    if raw is None and "message" in request.files:  # browsers send a JSON Blob as a file part
        raw = request.files["message"].read(1024 * 1024).decode("utf-8", "replace")
    if raw is None and request.is_json:
        return request.get_json(silent=True) or {}
    if raw is None:
        raise ApiProblem(
            415,
            "Multipart expected",
            "Send multipart/form-data with a "
            "'message' part holding the JSON description of the message.",
        )
    try:
        spec = json.loads(raw)
    except ValueError:
        raise ApiProblem(400, "Bad JSON", "The 'message' part is not valid JSON.") from None
    if not isinstance(spec, dict):
        raise ApiProblem(400, "Bad JSON", "The 'message' part must be a JSON object.")
    return spec


def _new_message(spec: dict) -> models.NewMessage:
    invalid: list[dict] = []
    recipients = []
    for i, r in enumerate(spec.get("recipients") or []):
        if not isinstance(r, dict):
            invalid.append({"name": f"recipients[{i}]", "reason": "must be an object"})
            continue
        box_type, identifier = str(r.get("type", "")).upper(), clean(str(r.get("id", "")))
        quality, sub_type = str(r.get("quality", "")).upper(), r.get("subType") or None
        for problem in check_recipient(box_type, identifier, quality, sub_type):
            invalid.append({"name": f"recipients[{i}].{problem.field}", "reason": problem.message})
        recipients.append(
            models.Recipient(
                id=identifier,
                type=box_type,
                quality=quality,
                sub_type=sub_type,
                ooo_processed=bool(r.get("ooOProcessed")),
            )
        )
    if not recipients:
        invalid.append({"name": "recipients", "reason": "at least one recipient is needed"})
    title = str(spec.get("title") or "").strip()
    if not 1 <= len(title) <= 400:
        invalid.append({"name": "title", "reason": "1 to 400 characters"})
    patient = clean(str(spec.get("patientInss") or "")) or None
    if patient and not is_valid_inss(patient):
        invalid.append({"name": "patientInss", "reason": "not a valid INSS (check digits)"})
    upload = request.files.get("document")
    text = spec.get("text")
    if (upload is None) == (text is None):
        invalid.append(
            {
                "name": "document",
                "reason": "send exactly one of a 'document' file part or a 'text' field",
            }
        )
    if invalid:
        raise ApiProblem(
            422, "Invalid message", "Some fields are not valid.", invalidParams=invalid
        )
    receipts = set(spec.get("receipts") or [])
    free_text = spec.get("freeText")
    return models.NewMessage(
        recipients=recipients,
        title=title,
        document=_attachment(upload, title) if upload is not None else None,
        text=str(text) if text is not None else None,
        free_information=models.FreeInformation(text=str(free_text)) if free_text else None,
        patient_inss=patient,
        annexes=[_attachment(f) for f in request.files.getlist("annex")],
        content_specification=models.ContentSpecification(
            is_important=bool(spec.get("important")),
            publication_receipt="publication" in receipts,
            received_receipt="received" in receipts,
            read_receipt="read" in receipts,
        ),
    )


def _attachment(upload, title: str | None = None) -> models.Attachment:
    filename = (upload.filename or "file").rsplit("/", 1)[-1][:255]
    mime_type = upload.mimetype or "application/octet-stream"
    return models.Attachment(upload.stream, filename, mime_type, title=title)


def _publication_id(spec: dict, fresh: str) -> str:
    """The PublicationId for this send: given, remembered for the Idempotency-Key, or new."""
    given = spec.get("publicationId")
    if given is not None:
        given = str(given)
        if not 1 <= len(given) <= 13 or not given.isalnum():
            raise ApiProblem(
                422,
                "Invalid publicationId",
                "publicationId is 1 to 13 letters or digits.",
                invalidParams=[{"name": "publicationId", "reason": "1-13 alphanumerics"}],
            )
        return given
    key = request.headers.get("Idempotency-Key")
    if not key:
        return fresh
    if not 8 <= len(key) <= 200:
        raise ApiProblem(400, "Bad Idempotency-Key", "Use 8 to 200 characters, e.g. a UUID.")
    store = services().store
    slot = f"idempotency:{g.api_caller}:{key}"
    if store.add(slot, {"publicationId": fresh}, IDEMPOTENCY_TTL):
        return fresh
    return (store.get(slot) or {}).get("publicationId", fresh)


@bp.post("/messages/move")
@action_limit
def move():
    body = request.get_json(silent=True) or {}
    source = str(body.get("folder", "")).upper()
    destination = str(body.get("destination", "")).upper()
    ids = _ids(body)
    if (source, destination) not in models.ALLOWED_MOVES:
        raise ApiProblem(
            422,
            "Move not allowed",
            "Messages move only between INBOX and BININBOX, or between SENTBOX and BINSENTBOX.",
            invalidParams=[{"name": "destination", "reason": "not allowed"}],
        )
    not_moved = ehealthbox().move(ids, source, destination)
    return jsonify({"notMoved": not_moved})


@bp.post("/messages/delete")
@action_limit
def delete_many():
    body = request.get_json(silent=True) or {}
    folder = str(body.get("folder", "")).upper()
    if folder not in models.FOLDERS:
        raise ApiProblem(
            422,
            "Unknown folder",
            f"folder must be one of {', '.join(models.FOLDERS)}.",
            invalidParams=[{"name": "folder", "reason": "unknown folder"}],
        )
    not_deleted = ehealthbox().delete(_ids(body), folder)
    return jsonify({"notDeleted": not_deleted})


@bp.delete("/messages/<message_id>")
@action_limit
def delete_one(message_id: str):
    not_deleted = ehealthbox().delete([message_id], _folder())
    if not_deleted:
        raise ApiProblem(404, "Not found", "No such message in that folder.")
    return "", 204


def _ids(body: dict) -> list[str]:
    ids = body.get("messageIds")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ApiProblem(
            422,
            "Invalid messageIds",
            "messageIds must be a non-empty list of message ids.",
            invalidParams=[{"name": "messageIds", "reason": "non-empty list"}],
        )
    if len(ids) > 100:
        raise ApiProblem(
            422,
            "Too many messageIds",
            "At most 100 message ids per call.",
            invalidParams=[{"name": "messageIds", "reason": "at most 100"}],
        )
    return ids
