"""Read operations: box info, folder listing, full message, downloads, receipts, history."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from flask import Response, g, request, send_file

from . import faults
from .api import bp, check_message_id, ctx, folder_param
from .delivery import mark_read, mark_received
from .platform import MAX_MESSAGES_PER_CALL as MAX_PAGE
from .platform import is_index
from .problems import ApiProblem, json_response
from .render import full_message, receipt, summary
from .store import INBOX_SIDE, SENT_SIDE, box_json, now_us


@bp.get("/boxInfo")
def box_info() -> Response:
    store = ctx().store
    faults.before(store, "boxInfo")
    with store.connect() as conn:
        box = store.box(conn, g.box_key)
        current, standby = store.usage(conn, g.box_key)
    return json_response(
        {
            "boxId": box_json(box),
            "nbrMessagesInStandBy": standby,
            "currentSize": current,
            "maxSize": box["max_size"],
        }
    )


def _index(name: str, default: int) -> int:
    raw = request.args.get(name, str(default))
    if not is_index(raw, 1):
        raise ApiProblem(
            400,
            f"{name} must be a whole number from 1.",
            invalidParams=[{"in": "query", "name": name, "reason": "an integer >= 1"}],
        )
    return int(raw)


@bp.get("/messages")
def list_messages() -> Response:
    store = ctx().store
    folder = folder_param()
    start, end = _index("startIndex", 1), _index("endIndex", MAX_PAGE)
    if end < start or end - start + 1 > MAX_PAGE:
        raise ApiProblem(
            400,
            f"A page holds 1 to {MAX_PAGE} messages (endIndex - startIndex + 1).",
            code="807" if end < start else "808",
            invalidParams=[
                {
                    "in": "query",
                    "name": "endIndex",
                    "reason": f"from startIndex to startIndex + {MAX_PAGE - 1}",
                }
            ],
        )
    faults.before(store, "list")
    with store.read() as conn:
        rows = store.page(conn, g.box_key, folder, start, end)
        total, unread = store.counts(conn, g.box_key, folder)
        box = store.box(conn, g.box_key)
    # Listing is "receiving" (RECEIVED receipts): a write, only when the page holds
    # messages not received yet (mark_received changes only those).
    if folder == "INBOX" and any(r["received_us"] is None for r in rows):
        with store.write() as conn:
            mark_received(conn, store, rows, now_us())
    return json_response(
        {
            "source": folder,
            "startIndex": start,
            "endIndex": start + len(rows) - 1,
            "total": total,
            "unread": unread,
            "messages": [summary(r, box) for r in rows],
        }
    )


def _copy(message_id: str, folders: tuple[str, ...]) -> Any:
    store = ctx().store
    with store.connect() as conn:
        row = store.copy(conn, g.box_key, folders, check_message_id(message_id))
    if row is None:
        raise ApiProblem(404, f"No message {message_id} in {' or '.join(folders)}.", code="806")
    return row


@bp.get("/messages/<message_id>")
def get_message(message_id: str) -> Response:
    store = ctx().store
    folder = folder_param()
    check_message_id(message_id)
    faults.before(store, "get")
    with store.connect() as conn:
        row = store.copy(conn, g.box_key, (folder,), message_id)
    if row is None:
        raise ApiProblem(404, f"No message {message_id} in {folder}.", code="806")
    # Reading is what triggers the READ receipt: a write, only for a message not read yet.
    if folder in INBOX_SIDE and (row["read_us"] is None or row["received_us"] is None):
        with store.write() as conn:
            mark_read(conn, store, row, now_us())
            row = store.copy(conn, g.box_key, (folder,), message_id)
        if row is None:  # moved or deleted meanwhile
            raise ApiProblem(404, f"No message {message_id} in {folder}.", code="806")
    return json_response(full_message(row))


def _send_part(part: dict[str, Any]) -> Response:
    store = ctx().store
    path = store.blobs.path(part["blob"])
    # Streamed from disk by the WSGI file wrapper, never read whole.
    # The part goes back under the name and type it was sent with, as the platform keeps them;
    # only what an HTTP header cannot carry (CR, LF, NUL...) is encoded or left out.
    mime_type = part["mimeType"]
    if not _HEADER_SAFE.fullmatch(mime_type or ""):
        mime_type = "application/octet-stream"
    response = send_file(path, mimetype=mime_type, etag=part["blob"], conditional=True, max_age=0)
    name = quote(part["downloadFileName"], safe="")
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    response.headers["Digest"] = f"SHA-256={part['digest']}"
    return response


_HEADER_SAFE = re.compile(r"[\x20-\x7e]+")


@bp.get("/messages/<message_id>/document")
def download_document(message_id: str) -> Response:
    folder = folder_param()
    faults.before(ctx().store, "download")
    row = _copy(message_id, (folder,))
    document = json.loads(row["document_json"] or "null")
    if not document:
        raise ApiProblem(404, "This message has no document.")
    return _send_part(document)


@bp.get("/messages/<message_id>/annexes/<int:index>")
def download_annex(message_id: str, index: int) -> Response:
    folder = folder_param()
    faults.before(ctx().store, "download")
    row = _copy(message_id, (folder,))
    annexes = json.loads(row["annexes_json"] or "[]")
    annex = next((a for a in annexes if a["index"] == index), None)
    if annex is None:
        raise ApiProblem(404, f"This message has no annex {index}.")
    return _send_part(annex)


@bp.get("/messages/<message_id>/acknowledgments")
def acknowledgments(message_id: str) -> Response:
    faults.before(ctx().store, "acknowledgments")
    store = ctx().store
    with store.connect() as conn:
        row = store.copy(conn, g.box_key, SENT_SIDE, check_message_id(message_id))
        received = row is None and store.copy(conn, g.box_key, INBOX_SIDE, message_id)
    if received:  # in this box, but sent by someone else
        raise ApiProblem(
            403, f"Message {message_id} was not sent by this box: no receipts.", code="809"
        )
    row = row or _copy(message_id, SENT_SIDE)
    with ctx().store.connect() as conn:
        rows = conn.execute(
            "SELECT * FROM receipts WHERE content_id=? ORDER BY rowid", (row["content_id"],)
        ).fetchall()
    return json_response({"messageId": message_id, "acknowledgments": [receipt(r) for r in rows]})


@bp.get("/messages/<message_id>/history")
def history(message_id: str) -> Response:
    folder = folder_param()
    _copy(message_id, (folder,))
    with ctx().store.connect() as conn:
        related = ctx().store.related(conn, g.box_key, message_id)
    return json_response({"messageId": message_id, "messageIds": [message_id, *related]})
