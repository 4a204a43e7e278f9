"""Load generation from outside the server: timed calls, and a throughput hammer.

Latency is measured by this process (not the server's) with keep-alive
`requests` sessions, calls interleaved so that app and direct calls see the
same machine. Throughput uses wrk when it is installed, else several Python
processes, each with one keep-alive `http.client` connection (lighter than
`requests`, so the client steals less of the two cores from the server).
"""

from __future__ import annotations

import http.client
import re
import shutil
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Stats:
    """Latency of one kind of call, in milliseconds."""

    median: float
    p95: float
    n: int

    @classmethod
    def of(cls, seconds: list[float]) -> Stats:
        ms = sorted(s * 1000 for s in seconds)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        return cls(median=statistics.median(ms), p95=p95, n=len(ms))

    def as_dict(self) -> dict[str, float]:
        return {"median_ms": round(self.median, 2), "p95_ms": round(self.p95, 2), "n": self.n}


def timed(
    calls: dict[str, Callable[[], object]], samples: int, warmup: int = 20
) -> dict[str, Stats]:
    """Run each call `warmup` + `samples` times, interleaved; time the last `samples`."""
    return {name: Stats.of(values) for name, values in rounds(calls, samples, warmup).items()}


def rounds(
    calls: dict[str, Callable[[], object]], samples: int, warmup: int = 20
) -> dict[str, list[float]]:
    """As `timed`, but every timing kept, in seconds, in the order of the rounds."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(warmup + samples):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            elapsed = time.perf_counter() - started
            if i >= warmup:
                times[name].append(elapsed)
    return times


# -- throughput -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Throughput:
    requests_per_second: float
    errors: int
    tool: str
    connections: int
    seconds: float
    failures: dict[str, int] = field(default_factory=dict)


def throughput(
    url: str,
    headers: dict[str, str],
    *,
    seconds: float = 8.0,
    warmup: float = 2.0,
    connections: int = 4,
) -> Throughput:
    """Requests per second that `url` sustains, with wrk if present, else Python."""
    if shutil.which("wrk"):
        return _wrk(url, headers, seconds, warmup, connections)
    return _python(url, headers, seconds, warmup, connections)


def _wrk(
    url: str, headers: dict[str, str], seconds: float, warmup: float, connections: int
) -> Throughput:
    args = ["wrk", "-t2", f"-c{connections}", "--timeout", "10s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    warm = [*args, f"-d{max(1, round(warmup))}s", url]
    subprocess.run(warm, capture_output=True, check=True, timeout=warmup + 30)  # noqa: S603
    timed_run = [*args, f"-d{round(seconds)}s", url]
    done = subprocess.run(  # noqa: S603 - our own command line
        timed_run, capture_output=True, text=True, check=True, timeout=seconds + 30
    )
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*?timeout (\d+)", out)
    failures = {
        "non-2xx": int(bad.group(1)) if bad else 0,
        "timeouts": int(errors.group(1)) if errors else 0,
    }
    failures = {k: v for k, v in failures.items() if v}
    return Throughput(rps, sum(failures.values()), "wrk", connections, seconds, failures)


def _python(
    url: str, headers: dict[str, str], seconds: float, warmup: float, connections: int
) -> Throughput:
    start_at = time.time() + 2.0  # every process starts at once, after spawning
    with ProcessPoolExecutor(connections, mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(_hammer, url, headers, start_at, warmup, seconds)
            for _ in range(connections)
        ]
        results = [f.result() for f in futures]
    failures: Counter[str] = Counter()
    for _, failed in results:
        failures.update(failed)
    done = sum(ok for ok, _ in results)
    return Throughput(
        done / seconds,
        sum(failures.values()),
        "python http.client",
        connections,
        seconds,
        dict(failures),
    )


def _hammer(
    url: str, headers: dict[str, str], start_at: float, warmup: float, seconds: float
) -> tuple[int, Counter[str]]:
    """One keep-alive connection, as fast as the server answers: (ok, failures) after warmup."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname or "127.0.0.1"
    conn = http.client.HTTPConnection(host, parts.port, timeout=30)
    time.sleep(max(0.0, start_at - time.time()))
    measure_from = time.monotonic() + warmup
    stop_at = measure_from + seconds
    ok, failed = 0, Counter[str]()
    while (now := time.monotonic()) < stop_at:
        try:
            conn.request("GET", target, headers=headers)
            response = conn.getresponse()
            response.read()
            outcome = "" if response.status == 200 else f"HTTP {response.status}"
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            conn = http.client.HTTPConnection(host, parts.port, timeout=30)
            outcome = type(exc).__name__
        if now >= measure_from:
            if outcome:
                failed[outcome] += 1
            else:
                ok += 1
    conn.close()
    return ok, failed
