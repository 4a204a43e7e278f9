"""The floor: bare Flask views that make the app's upstream calls, and nothing else.

`GET /api/v1/messages` asks the sandbox eHealthBox (`BENCH_UPSTREAM`, the same
separate server the app calls) for the first page (25) of the inbox;
`GET /api/v1/messages/<id>` asks it for one INBOX message. Each call goes over a
pooled keep-alive connection from the app's own outgoing session
(`ehbox_webapp.ehealth.http.build_session`), with an eHealthBox token
(`BENCH_UPSTREAM_TOKEN`), and the answer is written again as JSON: the least any
Flask view in front of eHealthBox does. Served by the same gunicorn with the
same gunicorn.conf.py as the app (`bench.bare_app:app`). The overhead rows are
stated above these views (the floor); the throughput row's ceiling is the list.
"""

from __future__ import annotations

import os

from flask import Flask, Response, jsonify

from ehbox_webapp.ehealth.http import build_session

from .harness import BENCH_AGENT, BENCH_FROM

app = Flask(__name__)
UPSTREAM = os.environ.get("BENCH_UPSTREAM", "").rstrip("/")
HEADERS = {
    "Authorization": f"Bearer {os.environ.get('BENCH_UPSTREAM_TOKEN', '')}",
    "Accept": "application/json",
}
PAGE = {"source": "INBOX", "startIndex": "1", "endIndex": "25"}
session = build_session(BENCH_AGENT, BENCH_FROM, timeout=30, pool_size=16)


@app.get("/api/v1/messages")
def messages() -> Response:
    answer = session.get(f"{UPSTREAM}/messages", params=PAGE, headers=HEADERS)
    answer.raise_for_status()
    return jsonify(answer.json())


@app.get("/api/v1/messages/<message_id>")
def message(message_id: str) -> Response:
    answer = session.get(
        f"{UPSTREAM}/messages/{message_id}", params={"source": "INBOX"}, headers=HEADERS
    )
    answer.raise_for_status()
    return jsonify(answer.json())


@app.get("/healthz")
def healthz() -> Response:
    return Response(b'{"status": "ok"}', mimetype="application/json")
