"""Organising a box: move, delete (for good), and out-of-office periods."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from flask import Response, g, request

from ..json_input import json_body
from . import faults
from .api import bp, ctx
from .delivery import release_standby
from .platform import ALLOWED_MOVES, FOLDERS
from .platform import MAX_MESSAGES_PER_CALL as MAX_IDS
from .problems import ApiProblem, bad_request, json_response
from .recipients import check_recipient
from .render import out_of_office


def _body() -> dict[str, Any]:
    data = json_body(request)
    if not isinstance(data, dict):
        raise bad_request("Send a JSON object.", ("body", "a JSON object"))
    return data


def _ids(data: dict[str, Any]) -> list[str]:
    ids = data.get("messageIds")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise bad_request(
            "messageIds must list 1 to 100 message ids.", ("messageIds", "a list of 1 to 100 ids")
        )
    if len(ids) > MAX_IDS:
        raise ApiProblem(
            400,
            f"At most {MAX_IDS} messages per call.",
            code="808",
            invalidParams=[{"in": "body", "name": "messageIds", "reason": f"at most {MAX_IDS}"}],
        )
    return ids


def _folder(data: dict[str, Any], name: str) -> str:
    if data.get(name) not in FOLDERS:
        raise bad_request(f"{name} must be a folder.", (name, " | ".join(FOLDERS)))
    return data[name]


@bp.post("/messages/move")
def move_messages() -> Response:
    data = _body()
    source, destination, ids = _folder(data, "source"), _folder(data, "destination"), _ids(data)
    if {source, destination} == {"INBOX", "SENTBOX"}:
        raise ApiProblem(
            400,
            "Messages cannot move between INBOX and SENTBOX.",
            code="812",
            invalidParams=[{"in": "body", "name": "destination", "reason": "the bin of source"}],
        )
    if (source, destination) not in ALLOWED_MOVES:
        raise bad_request(
            f"Messages cannot move from {source} to {destination}: only "
            "INBOX<->BININBOX and SENTBOX<->BINSENTBOX.",
            ("destination", "the bin of the source, or back"),
        )
    store = ctx().store
    faults.before(store, "move")
    not_moved = []
    with store.write() as conn:
        for message_id in ids:
            cursor = conn.execute(
                "UPDATE messages SET folder=? WHERE message_id=? AND box=? AND folder=?",
                (destination, message_id, g.box_key, source),
            )
            if cursor.rowcount == 0:
                not_moved.append(message_id)
    return json_response(_partial({"notMoved": not_moved}, not_moved, "813"))


@bp.post("/messages/delete")
def delete_messages() -> Response:
    data = _body()
    source, ids = _folder(data, "source"), _ids(data)
    store = ctx().store
    faults.before(store, "delete")
    not_deleted = []
    with store.write() as conn:
        for message_id in ids:
            cursor = conn.execute(
                "DELETE FROM messages WHERE message_id=? AND box=? AND folder=?",
                (message_id, g.box_key, source),
            )
            if cursor.rowcount == 0:
                not_deleted.append(message_id)
        release_standby(conn, store, g.box_key)  # freed space lets waiting mail in
    return json_response(_partial({"notDeleted": not_deleted}, not_deleted, "815"))


def _partial(body: dict[str, Any], left: list[str], code: str) -> dict[str, Any]:
    """A move or delete that did not do everything says so with its code (813, 815)."""
    return {**body, "code": code} if left else body


@bp.get("/outOfOffices")
def list_out_of_offices() -> Response:
    store = ctx().store
    faults.before(store, "outOfOffice")
    with store.connect() as conn:
        rows = store.out_of_offices(conn, g.box_key)
    return json_response({"outOfOffices": [out_of_office(r) for r in rows]})


def _date(data: dict[str, Any], name: str) -> date:
    try:
        return date.fromisoformat(data.get(name) or "")
    except (TypeError, ValueError):
        raise bad_request(f"{name} must be a date (YYYY-MM-DD).", (name, "YYYY-MM-DD")) from None


@bp.post("/outOfOffices")
def add_out_of_office() -> Response:
    data = _body()
    start, end = _date(data, "startDate"), _date(data, "endDate")
    if end < start:
        raise bad_request("endDate is before startDate.", ("endDate", "on or after startDate"))
    substitutes = data.get("substitutes", [])
    if not isinstance(substitutes, list):
        raise bad_request("substitutes must be a list.", ("substitutes", "a list of boxes"))
    clean = []
    for i, sub in enumerate(substitutes):
        ok = isinstance(sub, dict) and all(
            isinstance(sub.get(k), str) for k in ("id", "type", "quality")
        )
        if not ok or check_recipient(sub["type"], sub["id"], sub["quality"], sub.get("subType")):
            raise bad_request(
                "A substitute is not a valid box.",
                (f"substitutes[{i}]", "a valid {id, type, subType?, quality}"),
            )
        clean.append({k: sub[k] for k in ("id", "type", "subType", "quality") if sub.get(k)})
    store = ctx().store
    ooo_id = uuid.uuid4().hex[:16]
    with store.write() as conn:
        conn.execute(
            "INSERT INTO out_of_office(ooo_id, box, start_date, end_date, "
            "substitutes_json) VALUES (?,?,?,?,?)",
            (
                ooo_id,
                g.box_key,
                start.isoformat(),
                end.isoformat(),
                json.dumps(clean, ensure_ascii=False),
            ),
        )
        row = conn.execute("SELECT * FROM out_of_office WHERE ooo_id=?", (ooo_id,)).fetchone()
    return json_response(out_of_office(row), 201)


@bp.delete("/outOfOffices/<ooo_id>")
def delete_out_of_office(ooo_id: str) -> Response:
    store = ctx().store
    with store.write() as conn:
        cursor = conn.execute(
            "DELETE FROM out_of_office WHERE ooo_id=? AND box=?", (ooo_id, g.box_key)
        )
    if cursor.rowcount == 0:
        raise ApiProblem(404, "No such out-of-office period in this box.")
    return Response(status=204)
