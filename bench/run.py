"""`python -m bench.run`: start the servers, run the seven measures, print one table.

Order matters: the realm calls are counted first, on a fresh server; the box
that grows to 100,000 messages (nurse-bram) is not the one the overhead and
throughput measures list (dr-alice, 118 seeded messages). The overhead is
measured twice: on bare loopback (the strict rows), then on a second server
where every sandbox eHealthBox call first waits --latency-ms (default 20 ms,
bench/wsgi.py), as a call to the real eHealth over the internet does.
Everything runs in a throw-away folder (keystore, instance, logs) removed at
the end unless --keep.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from . import measures, measures_io, round_trips
from .context import EHBOX_API, Bench
from .harness import ROOT, Server, make_keystore, start_bare, start_pair
from .measures_io import SIZE_SETTINGS
from .report import NA, OVER, Row, table, write_json, write_png
from .speed import after_idle_us, reference_ms, speed_row, wake_row

DOCS = ROOT / "docs"


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--samples", type=int, default=200, help="timed calls per latency figure (default 200)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=8.0,
        help="throughput measuring time per server (default 8)",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=4,
        help="concurrent connections for throughput (default 4)",
    )
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=20,
        help="simulated eHealth latency for the second overhead measure (default 20; 0: skip)",
    )
    parser.add_argument(
        "--out", type=Path, default=DOCS, help="where bench.json and bench.png go (default docs/)"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the work folder (logs, instance) and print its path",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a budget is OVER (default: only on errors)",
    )
    return parser.parse_args(argv)


def guarded(item: int, name: str, measure: Callable[[], list[Row]]) -> list[Row]:
    """Run one measure; an error becomes an n/a row instead of ending the bench."""
    started = time.monotonic()
    print(f"  {item}. {name} ...", end="", flush=True)
    try:
        rows = measure()
    except Exception as exc:  # noqa: BLE001 - reported in the table, with its traceback
        print(" error")
        traceback.print_exc()
        return [
            Row(
                item,
                name,
                "-",
                f"error: {type(exc).__name__}: {exc}"[:160],
                NA,
                details={"error": "".join(traceback.format_exception(exc))[-2000:]},
            )
        ]
    print(f" {time.monotonic() - started:.0f} s")
    return rows


def overhead(
    workdir: Path, keystore: Path, instance: Path, args: argparse.Namespace, latency_ms: int = 0
) -> list[Row]:
    """The overhead rows, on an app whose eHealthBox is a server of its own (one worker each).

    With `latency_ms`, that server makes every eHealthBox request wait so long first
    (bench/wsgi.py): the app's calls and the direct ones alike.
    """
    name = f"latency-{latency_ms}ms" if latency_ms else "overhead"
    upstream, app = start_pair(
        workdir, name, keystore=keystore, instance=instance, latency_ms=latency_ms
    )
    bare = None
    try:
        bench = Bench(app, instance, samples=args.samples, upstream=upstream)
        # The floor: a bare Flask view making the same call to the same server (as the
        # throughput ceiling does), timed in the same rounds.
        bare = start_bare(
            workdir,
            f"{name}-bare",
            bench.ehealthbox_url + EHBOX_API,
            bench.direct.token("dr-alice"),
        )
        return measures.overhead(bench, bare.url, latency_ms)
    finally:
        if bare is not None:
            bare.stop()
        app.stop()
        upstream.stop()


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="ehbox-bench-"))
    keystore, instance = make_keystore(workdir), workdir / "instance"
    rows: list[Row] = []
    print(f"ehbox-webapp bench (work folder {workdir})")
    speed_at_start = reference_ms()
    try:
        server = Server.start(
            "bench.wsgi:app",
            workdir,
            "app",
            workers=1,
            keystore=keystore,
            instance=instance,
            **SIZE_SETTINGS,
        )
        print(f"  app under gunicorn (1 worker) at {server.url}")
        bench = Bench(server, instance, samples=args.samples)
        try:
            rows += guarded(2, "calls to the realm", lambda: measures.realm_calls(bench))
            # Before any other page view: the users' kept counts and box info are not there yet.
            rows += guarded(
                7, "round trips per user action", lambda: round_trips.rows(server.url, server)
            )
            rows += guarded(3, "box size", lambda: measures.box_size(bench))
            rows += guarded(4, "memory", lambda: measures_io.memory(bench, workdir))
            rows += guarded(6, "login", lambda: measures_io.login(bench))
        finally:
            server.stop()
        rows += guarded(1, "overhead", lambda: overhead(workdir, keystore, instance, args))
        if args.latency_ms:
            rows += guarded(
                1,
                f"overhead with {args.latency_ms} ms simulated eHealth latency",
                lambda: overhead(workdir, keystore, instance, args, args.latency_ms),
            )
        rows += guarded(
            5,
            "throughput",
            lambda: measures_io.throughput_rows(
                workdir, keystore, instance, args.seconds, args.connections
            ),
        )
    finally:
        if args.keep:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    rows.append(speed_row(speed_at_start, reference_ms()))
    if args.latency_ms:
        rows.append(wake_row(args.latency_ms, *after_idle_us(args.latency_ms)))
    rows.sort(key=lambda r: r.item)
    elapsed = time.monotonic() - started
    print()
    print(table(rows))
    context = {
        "seconds": round(elapsed, 1),
        "samples": args.samples,
        "throughput_seconds": args.seconds,
        "connections": args.connections,
        "server": "gunicorn -c gunicorn.conf.py (gthread); 1 worker, 2 for throughput",
        "simulated_ehealth_latency_ms": args.latency_ms,
    }
    write_json(rows, args.out / "bench.json", context)
    skipped = write_png(rows, args.out / "bench.png")
    print(
        f"\nwritten: {args.out / 'bench.json'}"
        + (f"; {skipped}" if skipped else f", {args.out / 'bench.png'}")
        + f" ({elapsed:.0f} s)"
    )
    if any(r.details.get("error") for r in rows):
        return 1
    return 1 if args.strict and any(r.verdict == OVER for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
