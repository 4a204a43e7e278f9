"""`python -m bench.profile`: where the app's own time goes, sampled under the bench's load.

Starts the app as the overhead measure of `make bench` does (gunicorn, one gthread
worker, its eHealthBox in a server of its own), logs in, then loops the four
overhead calls (list and fetch through /api/v1, the folder and message pages)
while py-spy samples the app's worker (every thread, idle ones left out: a
thread waiting on the socket costs nothing). It writes a flame graph (`--svg`)
and a text summary (`--summary`): the functions holding the most samples,
inclusive and self. Needs py-spy (the `bench` extra) and permission to trace
the worker (root, or ptrace_scope 0).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from .context import Bench, caller, direct_list, get
from .harness import ROOT, Server, make_keystore, start_pair
from .measures import PAGE, html_session, pdf_message

SANDBOX = "ehbox_webapp/sandbox/"
# Where a sample of the app's request handling is, by the first of these on its stack.
KINDS = (
    ("outgoing HTTP (requests, urllib3, http.client)", ("requests/", "urllib3/", "http/client")),
    ("templates (Jinja2, Babel formats)", ("jinja2/", "babel/", "flask_babel/")),
    ("logging", ("logging/", "ehbox_webapp/logs.py")),
    ("sessions and the store", ("web/sessions.py", "ehbox_webapp/stores.py", "redis/")),
    ("JSON", ("json/",)),
    ("tokens (validation, exchange)", ("ehealth/iam.py", "joserfc/")),
    ("eHealthBox models (JSON to models and back)", ("ehealthbox/rest.py", "api/serialize.py")),
    ("OpenAPI request check (openapi-core)", ("openapi_core/", "jsonschema", "web/api/openapi.py")),
    ("request handling (gunicorn, Werkzeug, Flask)", ("gunicorn/", "werkzeug/", "flask/")),
)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--seconds", type=int, default=20, help="sampling time (default 20)")
    parser.add_argument("--rate", type=int, default=250, help="samples per second (default 250)")
    parser.add_argument("--svg", type=Path, default=ROOT / "docs" / "profile.svg")
    parser.add_argument("--summary", type=Path, default=ROOT / "docs" / "profile.txt")
    parser.add_argument("--top", type=int, default=30, help="functions listed (default 30)")
    parser.add_argument("--raw", type=Path, help="also keep py-spy's collapsed stacks here")
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=0,
        help="simulated eHealth latency, as in make bench's second overhead measure (default 0)",
    )
    return parser.parse_args(argv)


def frame_name(frame: str) -> str:
    """`fn (path/to/module.py:12)` -> `fn (module path relative to the project or site)`."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3", str(ROOT) + "/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where})"


def summarise(raw: Path, top: int, rounds: int = 0, rate: int = 0) -> str:
    """The collapsed stacks py-spy wrote (`frame;frame;... count`) as a text summary.

    With the `rounds` of the four calls made while sampling at `rate`, each kind is
    also given in milliseconds of GIL time per round (comparable between runs).
    """
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    parts: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        if frames and frames[0].startswith("thread "):
            frames = frames[1:]
        total += n
        if SANDBOX in stack:
            parts["the embedded sandbox (realm)"] += n
        else:
            kind = next((k for k, marks in KINDS if any(m in stack for m in marks)), "other")
            parts[kind] += n
        for name in {frame_name(f) for f in frames}:
            inclusive[name] += n
        if frames:
            own[frame_name(frames[-1])] += n
    if not total:
        return "no samples\n"
    per_round = 1000 / rate / rounds if rounds and rate else 0.0
    lines = [f"{total} samples of the app worker's threads holding the GIL"]
    if per_round:
        lines.append(
            f"{rounds} rounds of the four calls: {total * per_round:.2f} ms of GIL time a round"
            f" (list + fetch through /api/v1, folder + message page)"
        )
    lines.append("")
    lines += [
        f"{n / total:6.1%}  " + (f"{n * per_round:5.2f} ms  " if per_round else "") + what
        for what, n in parts.most_common()
    ]
    lines += ["", f"top {top} functions, inclusive (share of samples with it on the stack):"]
    lines += [f"{n / total:6.1%}  {what}" for what, n in inclusive.most_common(top)]
    lines += ["", f"top {top} functions, self (share of samples running it):"]
    lines += [f"{n / total:6.1%}  {what}" for what, n in own.most_common(top)]
    return "\n".join(lines) + "\n"


ROUNDS = [0]  # rounds of the four calls done so far (read by main)


def load(b: Bench, stop: threading.Event) -> None:
    """The overhead measure's four calls, in turn, until `stop`."""
    api, direct = b.api_session("dr-alice"), b.direct_session("dr-alice")
    message_id = pdf_message(get(direct, b.ehealthbox_url + direct_list(1, PAGE)).json())
    html, why_not = html_session(b, message_id)
    calls = [
        caller(api, f"{b.url}/api/v1/messages?folder=INBOX&pageSize={PAGE}"),
        caller(api, f"{b.url}/api/v1/messages/{message_id}?folder=INBOX"),
    ]
    if html is not None:
        calls += [
            caller(html, f"{b.url}/box/INBOX"),
            caller(html, f"{b.url}/box/INBOX/{message_id}"),
        ]
    else:
        print(f"HTML pages left out: {why_not}", file=sys.stderr)
    while not stop.is_set():
        for call in calls:
            call()
        ROUNDS[0] += 1


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("py-spy is not installed (pip install -e '.[bench]')", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="ehbox-profile-"))
    try:
        keystore, instance = make_keystore(workdir), workdir / "instance"
        Server.start(  # the first start seeds the sandbox
            "bench.wsgi:app", workdir, "seed", keystore=keystore, instance=instance
        ).stop()
        upstream, server = start_pair(
            workdir, "app", keystore=keystore, instance=instance, latency_ms=args.latency_ms
        )
        try:
            (pid,) = server.worker_pids()
            b = Bench(server, instance, upstream=upstream)
            stop = threading.Event()
            loader = threading.Thread(target=load, args=(b, stop), daemon=True)
            loader.start()
            time.sleep(3)  # logins and warm-up before sampling starts
            raw = workdir / "profile.raw"
            rounds_before = ROUNDS[0]
            common = [
                spy,
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(args.rate),
                "--nonblocking",
                "--gil",
            ]
            seconds = ["--duration", str(args.seconds)]
            subprocess.run(  # noqa: S603 - our own command line
                [*common, *seconds, "--format", "raw", "--output", str(raw)],
                check=True,
                capture_output=True,
            )
            rounds = ROUNDS[0] - rounds_before
            args.svg.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(  # noqa: S603 - our own command line
                [*common, "--duration", "10", "--format", "flamegraph", "--output", str(args.svg)],
                check=True,
                capture_output=True,
            )
            stop.set()
            loader.join(30)
        finally:
            server.stop()
            upstream.stop()
        if args.raw:
            shutil.copyfile(raw, args.raw)
        summary = summarise(raw, args.top, rounds, args.rate)
        args.summary.write_text(summary)
        print(summary)
        print(f"written: {args.summary}, {args.svg}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
