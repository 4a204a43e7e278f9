"""`python -m bench.compare BASE`: this checkout's own cost against BASE's, in one run.

The machine the figures of docs/performance.md come from changes speed by up to 2x within
minutes (the machine-speed row of `make bench`), so own costs taken by two runs of
`make bench` are no before and after of each other. Here both versions of the app serve
at once, against one sandbox eHealthBox server, and every round makes the calls of both
and the direct ones in a new random order: a slow moment slows both alike, and neither
always follows the other.

BASE is another checkout of the project (a folder) or a git revision (`main`, `HEAD~3`),
checked out for the run in a temporary worktree. Both apps run as the overhead measure
runs them (gunicorn with gunicorn.conf.py, one worker, `EHBOX_ENV=sandbox`), share one
PUBLIC_URL (the sandbox realm's issuer) and one Redis for sessions, so that one login and
one token serve both; redis-server must be installed. `--latency-ms` makes every
eHealthBox call wait first, as `make bench` does for its second overhead measure.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from .context import Bench, caller, direct_list, get
from .harness import (
    EHEALTHBOX_API,
    ROOT,
    Redis,
    Server,
    free_port,
    latency_env,
    make_keystore,
)
from .load import Stats
from .measures import PAGE, html_session, pdf_message

CALLS = ("api list", "api fetch", "html list", "html fetch")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("base", help="a folder holding another checkout, or a git revision")
    parser.add_argument("--samples", type=int, default=300, help="timed rounds (default 300)")
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="simulated eHealth latency (default 0)"
    )
    return parser.parse_args(argv)


@contextmanager
def checkout(base: str) -> Iterator[Path]:
    """The folder of BASE: as given, or a temporary worktree of the revision."""
    folder = Path(base)
    if folder.is_dir():
        yield folder.resolve()
        return
    where = Path(tempfile.mkdtemp(prefix="bench-base-"))
    git = ["git", "-C", str(ROOT)]
    made = subprocess.run(  # noqa: S603 - git with our own arguments
        [*git, "worktree", "add", "--detach", str(where), base], capture_output=True, text=True
    )
    if made.returncode != 0:
        shutil.rmtree(where, ignore_errors=True)
        raise SystemExit(f"bench.compare: {base!r} is neither a folder nor a git revision")
    try:
        yield where
    finally:
        subprocess.run([*git, "worktree", "remove", "--force", str(where)], check=False)  # noqa: S603


def rounds(calls: dict[str, Callable[[], object]], samples: int, warmup: int = 20) -> dict:
    """Each call once a round, in a new random order every round; the last `samples` timed."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    order = list(calls)
    for i in range(warmup + samples):
        random.shuffle(order)
        for name in order:
            started = time.perf_counter()
            calls[name]()
            if i >= warmup:
                times[name].append(time.perf_counter() - started)
    return {name: Stats.of(values) for name, values in times.items()}


def compare(base_root: Path, samples: int, latency_ms: int, workdir: Path) -> list[str]:
    keystore, instance = make_keystore(workdir), workdir / "instance"
    Server.start("bench.wsgi:app", workdir, "seed", keystore=keystore, instance=instance).stop()
    redis = Redis.start(workdir)
    if redis is None:
        raise SystemExit("bench.compare needs redis-server (apt-get install redis-server)")
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    common = {"keystore": keystore, "instance": instance, "redis_url": redis.url}
    latency = latency_env(latency_ms)
    servers: list[Server] = []
    try:
        upstream = Server.start(
            "bench.wsgi:app", workdir, "ehealthbox", public_url=public_url, **common, **latency
        )
        servers.append(upstream)
        to_upstream = {"EHBOX_API_URL": upstream.url + EHEALTHBOX_API}
        after = Server.start("bench.wsgi:app", workdir, "after", port=port, **common, **to_upstream)
        servers.append(after)
        before = Server.start(
            "bench.wsgi:app",
            workdir,
            "before",
            public_url=public_url,
            root=base_root,
            **common,
            **to_upstream,
        )
        servers.append(before)
        bench = Bench(after, instance, upstream=upstream)
        api, direct = bench.api_session("dr-alice"), bench.direct_session("dr-alice")
        message = pdf_message(get(direct, upstream.url + direct_list(1, PAGE)).json())
        html, why = html_session(bench, message)
        if html is None:
            raise SystemExit(f"bench.compare: {why}")
        calls: dict[str, Callable[[], object]] = {
            "direct list": caller(direct, upstream.url + direct_list(1, PAGE)),
            "direct fetch": caller(
                direct, f"{upstream.url}{EHEALTHBOX_API}/messages/{message}?source=INBOX"
            ),
        }
        for tag, server in (("before", before), ("after", after)):
            # The same login and token on both: sessions are in the shared Redis.
            api_of, html_of = requests.Session(), requests.Session()
            api_of.headers.update(api.headers)
            html_of.cookies.update(html.cookies)
            paths = {
                "api list": (api_of, f"/api/v1/messages?folder=INBOX&pageSize={PAGE}"),
                "api fetch": (api_of, f"/api/v1/messages/{message}?folder=INBOX"),
                "html list": (html_of, "/box/INBOX"),
                "html fetch": (html_of, f"/box/INBOX/{message}"),
            }
            for name, (session, path) in paths.items():
                calls[f"{tag} {name}"] = caller(session, server.url + path)
        stats = rounds(calls, samples)
    finally:
        for server in reversed(servers):
            server.stop()
        redis.stop()
    return report(stats, latency_ms)


def report(stats: dict[str, Stats], latency_ms: int) -> list[str]:
    lines = [
        f"{'call':12s} {'direct':>8s} {'before':>8s} {'after':>8s} "
        f"{'own before':>11s} {'own after':>10s} {'change':>8s}",
    ]
    for name in CALLS:
        direct = stats["direct " + name.split()[1]].median
        old, new = stats["before " + name].median, stats["after " + name].median
        lines.append(
            f"{name:12s} {direct:6.2f}ms {old:6.2f}ms {new:6.2f}ms "
            f"{old - direct:9.2f}ms {new - direct:8.2f}ms {new - old:+6.2f}ms"
        )
    n = stats["direct list"].n
    lines.append(f"(medians of {n} rounds; eHealth latency {latency_ms} ms)")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-compare-"))
    try:
        with checkout(args.base) as base_root:
            print(f"before: {base_root}\nafter:  {ROOT}")
            lines = compare(base_root, args.samples, args.latency_ms, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
