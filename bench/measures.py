"""Measures 1-3: overhead over direct calls, calls to the realm, box size.

Every function takes the running one-worker app (`Bench`) and returns table rows.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from .context import EHBOX_API, Bench, CallFailed, caller, direct_list, get
from .fill import fill_inbox
from .identity import browser, browser_login
from .load import Stats, timed
from .report import INFO, NA, Row, verdict

# The app's own cost per request: median through the app minus median of the same
# eHealthBox calls made directly, on loopback (ms); the HTML pages also render a page.
OWN_COST_MS = {"api": 2.5, "html": 4.0}
LATENCY_LIMIT = 1.15  # with simulated eHealth latency: through the app <= 1.15 x direct
BOX_SIZE_LIMIT = 1.5  # the 100,000-message box's first page <= 1.5 x the 10-message one
PAGE = 25  # the HTML folder page's page size; the API lists as many
OTHER_FOLDERS = ("SENTBOX", "BININBOX", "BINSENTBOX")
REALM_CALLS = 1000
REALM_CONNECTIONS = 4
BOX_SIZES = (10, 1_000, 100_000)
BOX_PERSONA = "nurse-bram"  # one box, grown 10 -> 1,000 -> 100,000 between measures


def ratio_row(
    item: int, measure: str, app: Stats, ref: Stats, ref_name: str, **details: Any
) -> Row:
    """Through the app <= LATENCY_LIMIT x the direct calls, at the median."""
    ratio = app.median / ref.median
    figure = (
        f"{app.median:.1f} ms vs {ref.median:.1f} ms {ref_name} = {ratio:.2f}x "
        f"(p95 {app.p95:.1f} vs {ref.p95:.1f} ms)"
    )
    used = ratio / LATENCY_LIMIT
    return Row(
        item,
        measure,
        f"<= {LATENCY_LIMIT}x {ref_name} (median)",
        figure,
        verdict(used),
        used,
        {"app": app.as_dict(), ref_name: ref.as_dict(), "ratio": round(ratio, 3), **details},
    )


def _own_cost(name: str, served: Stats, ref: Stats) -> tuple[str, dict[str, Any]]:
    """The figure and details of `served` against the direct calls `ref`, at the median."""
    own, ratio = served.median - ref.median, served.median / ref.median
    figure = (
        f"{served.median:.1f} ms vs {ref.median:.1f} ms direct: own cost {own:.1f} ms "
        f"= {ratio:.2f}x (p95 {served.p95:.1f} vs {ref.p95:.1f} ms)"
    )
    details = {
        name: served.as_dict(),
        "direct": ref.as_dict(),
        "own_cost_ms": round(own, 2),
        "ratio": round(ratio, 3),
    }
    return figure, details


def floor_row(bare: Stats, direct: Stats) -> Row:
    """The bare view's listing against the direct one: reported, without a budget."""
    figure, details = _own_cost("bare", bare, direct)
    measure = f"list a page ({PAGE}), a bare Flask view making the same call (the floor)"
    return Row(1, measure, "(reported)", figure, INFO, None, details)


def own_cost_row(
    item: int, measure: str, app: Stats, ref: Stats, limit_ms: float, **details: Any
) -> Row:
    """The app's own cost: median through the app minus median direct <= limit_ms."""
    figure, own_details = _own_cost("app", app, ref)
    used = max(own_details["own_cost_ms"], 0.0) / limit_ms
    return Row(
        item,
        measure,
        f"own cost <= {limit_ms:g} ms (median app - median direct)",
        figure,
        verdict(used),
        used,
        {**own_details, **details},
    )


# -- 1. Overhead ----------------------------------------------------------------------------
def overhead(b: Bench, latency_ms: int = 0, bare_url: str = "") -> list[Row]:
    """App vs direct at the median, for the API and the HTML pages.

    With `latency_ms`, the server was started with BENCH_EHEALTH_LATENCY_MS (bench/wsgi.py):
    every sandbox eHealthBox call, the app's and the direct ones, waits that long first.
    With `bare_url` (bench/bare_app.py, the least a Flask view in front of eHealthBox
    does), that view's listing is timed in the same rounds and reported beside the rows:
    the part of each budget that no app under this server and client can go below.
    """
    rows = _overhead(b, latency_ms, bare_url)
    if latency_ms:
        for row in rows:
            row.measure += f", with {latency_ms} ms simulated eHealth latency"
            row.details["simulated_ehealth_latency_ms"] = latency_ms
    return rows


def _overhead(b: Bench, latency_ms: int, bare_url: str = "") -> list[Row]:
    def row(measure: str, app: Stats, ref: Stats, kind: str, **details: Any) -> Row:
        if latency_ms:
            return ratio_row(1, measure, app, ref, "direct", **details)
        return own_cost_row(1, measure, app, ref, OWN_COST_MS[kind], **details)

    api, direct = b.api_session("dr-alice"), b.direct_session("dr-alice")
    page = get(direct, b.ehealthbox_url + direct_list(1, PAGE)).json()
    message_id = pdf_message(page)
    calls = {
        "api list": caller(api, f"{b.url}/api/v1/messages?folder=INBOX&pageSize={PAGE}"),
        "direct list": caller(direct, b.ehealthbox_url + direct_list(1, PAGE)),
        "api fetch": caller(api, f"{b.url}/api/v1/messages/{message_id}?folder=INBOX"),
        "direct fetch": caller(
            direct, f"{b.ehealthbox_url}{EHBOX_API}/messages/{message_id}?source=INBOX"
        ),
    }
    if bare_url:
        calls["bare list"] = caller(browser(), f"{bare_url}/api/v1/messages")
    html, why_not = html_session(b, message_id)
    upstream: dict[str, int] = {}
    if html is not None:
        upstream = {
            "html list": upstream_calls(b, html, "/box/INBOX"),
            "html fetch": upstream_calls(b, html, f"/box/INBOX/{message_id}"),
        }
        calls["html list"] = caller(html, f"{b.url}/box/INBOX")
        calls["direct page calls"] = lambda: folder_page_calls(b, direct)
        calls["html fetch"] = caller(html, f"{b.url}/box/INBOX/{message_id}")
    stats = timed(calls, b.samples)
    rows = [
        row(
            f"list a page ({PAGE}), /api/v1 Bearer", stats["api list"], stats["direct list"], "api"
        ),
        row("fetch a message, /api/v1 Bearer", stats["api fetch"], stats["direct fetch"], "api"),
    ]
    if bare_url:
        rows.append(floor_row(stats["bare list"], stats["direct list"]))
    if html is None:
        budget = (
            f"<= {LATENCY_LIMIT}x direct (median)"
            if latency_ms
            else f"own cost <= {OWN_COST_MS['html']:g} ms"
        )
        for what in (f"list a page ({PAGE}), HTML /box/INBOX", "fetch a message, HTML page"):
            rows.append(Row(1, what, budget, f"n/a: {why_not}", NA))
        return rows
    # Compare the page with the eHealthBox calls it really makes: one listing when the
    # other folders' counts and the box info are in the app's 30 s cache, five otherwise.
    cached = upstream["html list"] <= 1
    rows.append(
        row(
            f"list a page ({PAGE}), HTML /box/INBOX",
            stats["html list"],
            stats["direct list"] if cached else stats["direct page calls"],
            "html",
            direct_equivalent=(
                f"the page's 1 call (list {PAGE}; counts and box info cached for 30 s)"
                if cached
                else f"the page's {1 + len(OTHER_FOLDERS) + 1} calls in a row: "
                f"list {PAGE} + list 1 of {', '.join(OTHER_FOLDERS)} + boxInfo"
            ),
            upstream_calls_per_page=upstream["html list"],
            vs_one_direct_list_ratio=round(
                stats["html list"].median / stats["direct list"].median, 3
            ),
        )
    )
    rows.append(
        row(
            "fetch a message, HTML page",
            stats["html fetch"],
            stats["direct fetch"],
            "html",
            upstream_calls_per_page=upstream["html fetch"],
        )
    )
    return rows


def pdf_message(page: dict[str, Any]) -> str:
    """A DOCUMENT message with a PDF: its page shows the PDF in a frame (one upstream call)."""
    for message in page["messages"]:
        if (
            message["contentSpecification"].get("contentType") == "DOCUMENT"
            and message["contentInfo"].get("mimeType") == "application/pdf"
        ):
            return str(message["messageId"])
    return str(page["messages"][0]["messageId"])


def html_session(b: Bench, message_id: str) -> tuple[requests.Session | None, str]:
    """A logged-in browser if the mailbox pages answer, else (None, why)."""
    login = browser_login(b.url, "dr-alice")
    if not login.ok:
        return None, "the web login did not finish"
    for path in ("/box/INBOX", f"/box/INBOX/{message_id}"):
        page = login.session.get(b.url + path, timeout=60, allow_redirects=False)
        if page.status_code != 200:
            return None, f"{path} answered {page.status_code} (mailbox pages not there yet?)"
    return login.session, ""


def upstream_calls(b: Bench, session: requests.Session, path: str) -> int:
    """How many eHealthBox calls the app makes to serve one page."""
    get(session, b.url + path)  # warm
    b.ehealthbox_server.reset_counts()
    get(session, b.url + path)
    return int(b.ehealthbox_server.counts()["counts"].get("ehealthbox", 0))


def folder_page_calls(b: Bench, direct: requests.Session) -> None:
    """What web/pages/folders.py:folder asks eHealthBox for, made directly."""
    get(direct, b.ehealthbox_url + direct_list(1, PAGE))
    for folder in OTHER_FOLDERS:
        get(direct, b.ehealthbox_url + direct_list(1, 1, folder))
    get(direct, f"{b.ehealthbox_url}{EHBOX_API}/boxInfo")


# -- 2. Calls to the realm --------------------------------------------------------------------
def realm_calls(b: Bench) -> list[Row]:
    """Realm requests made by the server while it serves 1,000 API calls for one user.

    Run first, on a fresh server: the window then holds the first exchange and
    the first JWKS fetch, which the budget allows. The login that yields the
    token (and the discovery fetch of the /public-client/ page) comes before it.
    """
    rows = []
    for connections in (1, REALM_CONNECTIONS):
        session_token = b.bearer("dr-alice", fresh=True)  # a new user token: a new exchange
        url = f"{b.url}/api/v1/messages?folder=INBOX&pageSize=10"
        b.server.reset_counts()
        started = time.perf_counter()
        _api_calls(url, session_token, REALM_CALLS, connections)
        seconds = time.perf_counter() - started
        counts = b.server.counts()["counts"]
        token, jwks = counts.get("realm.token", 0), counts.get("realm.jwks", 0)
        others = counts.get("realm.discovery", 0) + counts.get("realm.other", 0)
        within = token <= 1 and jwks <= 1 and others == 0
        total = token + jwks + others
        how = "one connection" if connections == 1 else f"{connections} connections at once"
        rows.append(
            Row(
                2,
                f"realm calls for {REALM_CALLS} API calls, {how}",
                "<= 1 token exchange + 1 JWKS fetch, nothing else",
                f"{total} (token {token}, JWKS {jwks}, discovery {counts.get('realm.discovery', 0)}"
                f", other {counts.get('realm.other', 0)})",
                "within" if within else "OVER",
                max(total / 2, 0.0 if within else 1.05),
                {
                    "counts": counts,
                    "api_calls": REALM_CALLS,
                    "connections": connections,
                    "seconds": round(seconds, 2),
                    "note": "app.jwks: the sandbox realm fetching the app's JWKS",
                },
            )
        )
    return rows


def _api_calls(url: str, token: str, total: int, connections: int) -> None:
    barrier = threading.Barrier(connections)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def run(share: int) -> None:
        from .identity import browser

        with browser() as session:
            session.headers.update(headers)
            barrier.wait()
            for _ in range(share):
                get(session, url)

    shares = [total // connections + (i < total % connections) for i in range(connections)]
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(run, shares))


# -- 3. Box size ----------------------------------------------------------------------------
def box_size(b: Bench) -> list[Row]:
    """The first page of one box as it grows 10 -> 1,000 -> 100,000 messages."""
    samples = max(30, b.samples // 2)
    api_url = f"{b.url}/api/v1/messages?folder=INBOX&pageSize={PAGE}"
    measured: list[tuple[int, Stats, Stats, float]] = []
    for target in BOX_SIZES:
        started = time.perf_counter()
        held = fill_inbox(b.instance, BOX_PERSONA, target)
        filled = time.perf_counter() - started
        api, direct = b.api_session(BOX_PERSONA), b.direct_session(BOX_PERSONA)
        total = get(direct, b.url + direct_list(1, 1)).json()["total"]
        if total != held:  # the sandbox's folder counters must follow the bulk fill
            raise CallFailed(f"the sandbox lists {total} messages, the box holds {held}")
        stats = timed(
            {"api": caller(api, api_url), "direct": caller(direct, b.url + direct_list(1, PAGE))},
            samples,
            10,
        )
        measured.append((held, stats["api"], stats["direct"], filled))
    base = measured[0][1]
    rows = []
    for held, app, direct, filled in measured:
        ratio = app.median / base.median
        details = {
            "messages": held,
            "app": app.as_dict(),
            "direct": direct.as_dict(),
            "ratio_to_smallest": round(ratio, 3),
            "fill_seconds": round(filled, 2),
            "persona": BOX_PERSONA,
        }
        figure = (
            f"{app.median:.1f} ms (p95 {app.p95:.1f}; direct {direct.median:.1f} ms)"
            f" = {ratio:.2f}x the {measured[0][0]}-message time"
        )
        name = f"first page ({PAGE}) of a {held:,}-message box, /api/v1"
        if held == measured[0][0]:
            rows.append(Row(3, name, "baseline", figure, INFO, None, details))
        elif held >= 100_000:
            used = ratio / BOX_SIZE_LIMIT
            rows.append(
                Row(
                    3,
                    name,
                    f"<= {BOX_SIZE_LIMIT}x the {measured[0][0]}-message time",
                    figure,
                    verdict(used),
                    used,
                    details,
                )
            )
        else:
            rows.append(Row(3, name, "(reported)", figure, INFO, None, details))
    return rows
