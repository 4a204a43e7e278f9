"""The throughput ceiling: a bare Flask handler that returns the inbox JSON, nothing else.

Served by the same gunicorn with the same gunicorn.conf.py as the app
(`bench.bare_app:app`). `BENCH_BARE_JSON` names a file holding the exact body
the app answered for the same request, so both servers send the same bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

app = Flask(__name__)
BODY = (
    Path(os.environ["BENCH_BARE_JSON"]).read_bytes()
    if "BENCH_BARE_JSON" in os.environ
    else b'{"messages": []}'
)


@app.get("/api/v1/messages")
def messages() -> Response:
    return Response(BODY, mimetype="application/json")


@app.get("/healthz")
def healthz() -> Response:
    return Response(b'{"status": "ok"}', mimetype="application/json")
