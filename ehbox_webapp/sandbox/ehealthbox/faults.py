"""Injected faults: delays and error answers on demand, for tests and acceptance demos.

`POST /ehealthbox/_faults` {"operation": "send"|"list"|"get"|...|"*", "delay": s,
"status": 503, "code": "...", "retryAfter": s, "times": N} adds a fault that
fires on the next N matching calls; `DELETE /ehealthbox/_faults` clears them.
Faults live in the SQLite store, so every server thread sees them.

A delay on `send` is applied AFTER the message is stored: the answer is lost,
not the request. That is how a lost-answer resend is tested.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, request

from ..json_input import json_body
from .problems import ApiProblem, bad_request, json_response, problem_response
from .store import Store

OPERATIONS = (
    "boxInfo",
    "list",
    "get",
    "download",
    "acknowledgments",
    "send",
    "move",
    "delete",
    "outOfOffice",
    "*",
)
MAX_DELAY = 120.0

faults_bp = Blueprint("ehealthbox_faults", __name__)


@dataclass(frozen=True)
class Fault:
    operation: str
    delay: float
    status: int | None
    code: str | None
    retry_after: int | None

    def problem(self) -> ApiProblem:
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        problem = ApiProblem(self.status or 500, "Fault injected by the sandbox.", headers=headers)
        if self.code:
            problem.body["code"] = self.code
        return problem


ARMED_SQL = "SELECT 1 FROM faults WHERE operation IN (?, '*') AND times_left > 0 LIMIT 1"


def take(store: Store, operation: str) -> Fault | None:
    """The next fault for this operation, counted as used; None when there is none.

    Every call asks, so the common case is a plain read: the write transaction that
    counts a fault as used is opened only when one is armed for this operation.
    """
    with store.connect() as conn:
        if conn.execute(ARMED_SQL, (operation,)).fetchone() is None:
            return None
    with store.write() as conn:
        row = conn.execute(
            "SELECT * FROM faults WHERE operation IN (?, '*') AND times_left > 0 "
            "ORDER BY fault_id LIMIT 1",
            (operation,),
        ).fetchone()
        if row is None:
            return None
        conn.execute(
            "UPDATE faults SET times_left = times_left - 1 WHERE fault_id=?", (row["fault_id"],)
        )
    return Fault(row["operation"], row["delay"], row["status"], row["code"], row["retry_after"])


def before(store: Store, operation: str) -> Fault | None:
    """Apply a fault before the operation runs. A send's delay is left for `after`."""
    fault = take(store, operation)
    if fault is None:
        return None
    if fault.status is not None or operation != "send":
        time.sleep(fault.delay)
    if fault.status is not None:
        raise fault.problem()
    return fault


def after(fault: Fault | None) -> None:
    """The delay of a send fault: the message is stored, the answer comes too late."""
    if fault is not None and fault.status is None:
        time.sleep(fault.delay)


def _store() -> Store:
    return current_app.extensions["sandbox_ehealthbox"].store


@faults_bp.post("")
def add_fault() -> Response:
    data = json_body(request)
    try:
        if not isinstance(data, dict):
            raise bad_request("Send a JSON object.", ("body", "a JSON object"))
        operation = data.get("operation", "*")
        delay = float(data.get("delay", 0))
        status = data.get("status")
        times = int(data.get("times", 1))
        retry_after = data.get("retryAfter")
        if operation not in OPERATIONS:
            raise bad_request("Unknown operation.", ("operation", " | ".join(OPERATIONS)))
        if not 0 <= delay <= MAX_DELAY or not 1 <= times <= 1000:
            raise bad_request(
                "Out of range.", ("delay", f"0 to {MAX_DELAY}"), ("times", "1 to 1000")
            )
        if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
            raise bad_request("Bad status.", ("status", "an HTTP error status 400-599"))
        if status is None and delay == 0:
            raise bad_request("A fault needs a delay or a status.", ("status", "required"))
    except (TypeError, ValueError):
        return problem_response(bad_request("Bad fault.", ("body", "numbers where expected")))
    except ApiProblem as problem:
        return problem_response(problem)
    with _store().write() as conn:
        cursor = conn.execute(
            "INSERT INTO faults(operation, delay, status, code, retry_after, times_left) "
            "VALUES (?,?,?,?,?,?)",
            (
                operation,
                delay,
                status,
                str(data["code"]) if data.get("code") else None,
                int(retry_after) if retry_after is not None else None,
                times,
            ),
        )
    return json_response(
        {
            "id": cursor.lastrowid,
            "operation": operation,
            "delay": delay,
            "status": status,
            "times": times,
        },
        201,
    )


@faults_bp.get("")
def list_faults() -> Response:
    with _store().connect() as conn:
        rows = conn.execute("SELECT * FROM faults WHERE times_left > 0").fetchall()
    return json_response({"faults": [dict(r) for r in rows]})


@faults_bp.delete("")
def clear_faults() -> Response:
    with _store().write() as conn:
        conn.execute("DELETE FROM faults")
    return Response(status=204)
