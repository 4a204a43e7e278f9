"""Measures 4-6: memory with a 50 MB annex, throughput against a bare handler, login."""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from .context import EHBOX_API, Bench, get
from .harness import BENCH_AGENT, BENCH_FROM, Redis, Server, free_port, start_bare
from .identity import DirectTokens, browser, browser_login, public_client_token
from .load import Throughput, throughput
from .procmem import PeakRss
from .report import INFO, OVER, Row, verdict

MB = 1024 * 1024
ANNEX_BYTES = 50 * MB
MEMORY_LIMIT = 2  # peak RSS <= 2 x the annex size above idle
# The server's size settings for this measure (set by run.py when it starts the server).
SIZE_SETTINGS = {"MAX_UPLOAD_MB": "60", "SANDBOX_MAX_MESSAGE_MB": "60"}
CHLOE = {"type": "INSS", "id": "90010178911", "quality": "DOCTOR"}
# The app allows 20 logins a minute per address (RATE_LIMIT_LOGIN's default): the
# overhead measure's login, one warm-up and 15 timed ones stay under it.
LOGINS = 15


# -- 4. Memory ------------------------------------------------------------------------------
def memory(b: Bench, workdir: Path) -> list[Row]:
    """Peak RSS of the worker while Alice sends Chloé a 50 MB annex and Chloé downloads it.

    The server runs with MAX_UPLOAD_MB=60 and SANDBOX_MAX_MESSAGE_MB=60 (run.py,
    `SIZE_SETTINGS`): the app takes uploads up to 60 MB and the sandbox eHealthBox
    accepts messages that size, as configured, with nothing changed at run time.
    """
    pid = int(b.server.counts()["pid"])
    annex = workdir / "annex-50mb.bin"
    with open(annex, "wb") as out:
        for _ in range(ANNEX_BYTES // MB):
            out.write(os.urandom(MB))
    api = b.api_session("dr-alice")
    title = f"bench 50 MB {uuid.uuid4().hex[:8]}"
    spec = {"recipients": [CHLOE], "title": title, "text": "Annexe de 50 MB"}
    with PeakRss(pid) as send_peak, open(annex, "rb") as data:
        answer = api.post(
            f"{b.url}/api/v1/messages",
            timeout=300,
            files={
                "message": (None, json.dumps(spec), "application/json"),
                "annex": ("annex-50mb.bin", data, "application/octet-stream"),
            },
        )
    sent_status = answer.status_code
    sent_body = answer.json() if "json" in answer.headers.get("Content-Type", "") else {}
    settings = {k: b.server.env.get(k, "unset") for k in SIZE_SETTINGS}
    rows = [_accepted_row(sent_status, sent_body, settings)]
    budget = f"<= {MEMORY_LIMIT * ANNEX_BYTES // MB} MB above idle (2x the annex)"
    rows.append(
        _memory_row(
            "send a 50 MB annex",
            budget,
            send_peak,
            sent_status == 201,
            {"status": sent_status, "settings": settings, "answer": _short(sent_body)},
        )
    )
    chloe = b.api_session("dr-chloe")
    newest = get(chloe, f"{b.url}/api/v1/messages?folder=INBOX&pageSize=1").json()["messages"]
    received = newest[0] if newest and newest[0].get("title") == title else None
    if received is None:
        rows.append(
            Row(
                4,
                "download the 50 MB annex",
                budget,
                "n/a: the 50 MB message did not arrive",
                "n/a",
            )
        )
        return rows
    url = f"{b.url}/api/v1/messages/{received['messageId']}/annexes/1?folder=INBOX"
    size = 0
    with PeakRss(pid) as download_peak, chloe.get(url, stream=True, timeout=300) as answer:
        status = answer.status_code
        for chunk in answer.iter_content(256 * 1024):
            size += len(chunk)
    rows.append(
        _memory_row(
            "download the 50 MB annex",
            budget,
            download_peak,
            status == 200 and size == ANNEX_BYTES,
            {"status": status, "bytes": size},
        )
    )
    return rows


def _short(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in ("status", "code", "title", "detail", "messageId") if k in body}


def _accepted_row(status: int, body: dict[str, Any], settings: dict[str, str]) -> Row:
    accepted = status == 201
    figure = (
        f"accepted (HTTP {status})"
        if accepted
        else f"refused: HTTP {status} {body.get('code', '')} {body.get('title', '')}".strip()
    )
    named = ", ".join(f"{k}={v}" for k, v in settings.items())
    return Row(
        4,
        f"send 50 MB with {named}",
        "accepted",
        figure,
        "within" if accepted else OVER,
        1.0 if accepted else 1.05,
        {"status": status, "answer": _short(body), "settings": settings},
    )


def _memory_row(measure: str, budget: str, peak: PeakRss, ok: bool, details: dict[str, Any]) -> Row:
    used = peak.above_idle / (MEMORY_LIMIT * ANNEX_BYTES)
    figure = (
        f"+{peak.above_idle / MB:.1f} MB over idle {peak.idle / MB:.0f} MB "
        f"(peak {peak.peak / MB:.0f} MB)"
    )
    if not ok:
        figure += f"; the call failed ({details.get('status')})"
    return Row(
        4,
        measure,
        budget,
        figure,
        verdict(used) if ok else "n/a",
        used,
        {
            "peak_bytes": peak.peak,
            "idle_bytes": peak.idle,
            "method": peak.method,
            "process": "the gunicorn worker (app + embedded sandbox)",
            **details,
        },
    )


# -- 5. Throughput --------------------------------------------------------------------------
THROUGHPUT_FLOOR = 0.6  # the app >= 0.6 x the same-upstream-call ceiling
ROUNDS = 2  # app and ceiling measured in turn, this many times each


def throughput_rows(
    workdir: Path, keystore: Path, instance: Path, seconds: float, connections: int
) -> list[Row]:
    """Inbox JSON req/s, 2 workers each: the app against a bare view making the same call.

    As eHealth runs elsewhere than the app, the sandbox eHealthBox here runs in a
    server of its own (2 workers; its public URL is the app's, so the app's realm
    issues the tokens it accepts). The app (2 workers, its EHBOX_API_URL pointing at
    that server) and the ceiling, a bare Flask view under the same gunicorn that makes
    the same one upstream call to the same server and writes the answer as JSON
    (bench/bare_app.py), are measured in turn, ROUNDS times each.
    """
    redis = Redis.start(workdir)
    redis_url = redis.url if redis else ""
    path = "/api/v1/messages?folder=INBOX&pageSize=25"
    app_url = f"http://127.0.0.1:{(app_port := free_port())}"
    servers: list[Server] = []
    runs: dict[str, list[Throughput]] = {"app": [], "bare": []}
    try:
        upstream = Server.start(
            "bench.wsgi:app",
            workdir,
            "sandbox-2-workers",
            workers=2,
            keystore=keystore,
            instance=instance,
            redis_url=redis_url,
            public_url=app_url,
        )
        servers.append(upstream)
        ehealthbox = upstream.url + EHBOX_API
        app = Server.start(
            "bench.wsgi:app",
            workdir,
            "app-2-workers",
            workers=2,
            keystore=keystore,
            instance=instance,
            redis_url=redis_url,
            port=app_port,
            EHBOX_API_URL=ehealthbox,
        )
        servers.append(app)
        token = public_client_token(app.url, "dr-alice")
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        direct = DirectTokens(instance, app.url).token("dr-alice")
        bare = start_bare(workdir, "bare-2-workers", ehealthbox, direct, workers=2)
        servers.append(bare)
        with browser() as session:
            app_body = get(session, app.url + path, headers=headers).content
            bare_body = get(session, bare.url + path, headers=headers).content
        for _ in range(ROUNDS):
            for name, server in (("app", app), ("bare", bare)):
                runs[name].append(
                    throughput(
                        server.url + path,
                        headers,
                        seconds=seconds / ROUNDS,
                        connections=connections,
                    )
                )
        sandbox_alone = throughput(
            f"{ehealthbox}/messages?source=INBOX&startIndex=1&endIndex=25",
            {
                "Authorization": f"Bearer {direct}",
                "User-Agent": BENCH_AGENT,
                "From": BENCH_FROM,
                "Accept": "application/json",
            },
            seconds=seconds / 2,
            connections=connections,
        )
    finally:
        for server in reversed(servers):
            server.stop()
        if redis:
            redis.stop()
    through_app = _mean_rps(runs["app"])
    ceiling = _mean_rps(runs["bare"])
    ratio = through_app / ceiling
    figure = (
        f"{through_app:.0f} req/s vs {ceiling:.0f} req/s for a bare view making the same "
        f"call = {ratio:.2f} of the ceiling (the sandbox alone: "
        f"{sandbox_alone.requests_per_second:.0f} req/s)"
    )
    used = THROUGHPUT_FLOOR / ratio if ratio > 0 else 2.0
    failures = {name: [r.failures for r in results] for name, results in runs.items()}
    return [
        Row(
            5,
            "inbox JSON (25), 2 workers, app vs bare view, same upstream call",
            f">= {THROUGHPUT_FLOOR} of the ceiling",
            figure,
            verdict(used),
            used,
            {
                "app_rps": round(through_app, 1),
                "bare_rps": round(ceiling, 1),
                "rounds": {
                    name: [round(r.requests_per_second, 1) for r in results]
                    for name, results in runs.items()
                },
                "sandbox_direct_rps": round(sandbox_alone.requests_per_second, 1),
                "failures": {**failures, "sandbox": sandbox_alone.failures},
                "ratio": round(ratio, 4),
                "tool": runs["app"][0].tool,
                "connections": connections,
                "seconds": seconds,
                "upstream": "the sandbox eHealthBox in its own gunicorn (2 workers)",
                "session_store": "redis" if redis else "memory (no redis-server)",
                "app_body_bytes": len(app_body),
                "bare_body_bytes": len(bare_body),
            },
        )
    ]


def _mean_rps(results: list[Throughput]) -> float:
    total = sum(r.requests_per_second * r.seconds for r in results)
    return total / sum(r.seconds for r in results)


# -- 6. Login -------------------------------------------------------------------------------
def login(b: Bench) -> list[Row]:
    """The web login through the sandbox: browser round trips, realm calls, median time."""
    # One warm-up login: keys, discovery, the realm's cache of the app's JWKS.
    browser_login(b.url, "dr-alice").session.close()
    b.server.reset_counts()
    logins = []
    for _ in range(LOGINS):
        done = browser_login(b.url, "dr-alice")
        done.session.close()
        logins.append(done)
    counts = b.server.counts()["counts"]
    failed = sum(not x.ok for x in logins)
    times = sorted(x.seconds * 1000 for x in logins)
    trips = statistics.median(x.round_trips for x in logins)
    server_side = {
        k: round(v / LOGINS, 2)
        for k, v in counts.items()
        if k in ("realm.token", "realm.jwks", "realm.discovery", "app.jwks")
    }
    to_realm = sum(v for k, v in server_side.items() if k.startswith("realm."))
    bearer_started = time.perf_counter()
    public_client_token(b.url, "dr-alice")
    bearer_ms = (time.perf_counter() - bearer_started) * 1000
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return [
        Row(
            6,
            "web login: browser HTTP round trips",
            "(reported)",
            f"{trips:.0f} browser round trips + {to_realm:g} app-to-realm call(s) ("
            + ", ".join(f"{k} {v:g}" for k, v in sorted(server_side.items()))
            + ")",
            INFO,
            None,
            {"counts_for_all_logins": counts, "logins": LOGINS, "failed": failed},
        ),
        Row(
            6,
            "web login: median time",
            "(reported)",
            f"{statistics.median(times):.0f} ms (p95 {p95:.0f} ms, n={LOGINS}"
            + (f", {failed} failed" if failed else "")
            + ")",
            INFO,
            None,
            {
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(p95, 1),
                "public_client_login_ms": round(bearer_ms, 1),
                "public_client_round_trips": 4,
            },
        ),
    ]
