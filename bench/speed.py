"""How fast this machine is right now: a fixed piece of Python work, timed.

Every figure of the bench is in milliseconds, and a shared or throttled machine can be
twice as slow at one moment as at another (seen on the 2-core machine the figures in
docs/performance.md come from). The bench times this same work when it starts and when
it ends and prints both, so that two runs can be compared: own costs measured while the
reference took 2x longer are no evidence of a regression.
"""

from __future__ import annotations

import json
import statistics
import time

from .report import INFO, Row

_ROWS = [
    {"messageId": f"{i:013d}", "title": f"Résultats {i}", "size": i * 37, "read": i % 3 == 0}
    for i in range(25)
]


def _work() -> int:
    text = json.dumps({"messages": _ROWS})
    total = 0
    for _ in range(40):
        page = json.loads(text)
        total += sum(len(m["title"]) for m in sorted(page["messages"], key=lambda m: m["title"]))
        total += len("".join(f"<tr><td>{m['title']}</td></tr>" for m in page["messages"]))
    return total


def reference_ms(rounds: int = 30) -> float:
    """The median time of the reference work, in ms (one core, in this process)."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        _work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def speed_row(at_start: float, at_end: float) -> Row:
    return Row(
        0,
        "machine speed: the same Python work at the start and at the end of the run",
        "(reported)",
        f"{at_start:.2f} ms at the start, {at_end:.2f} ms at the end"
        " (the ms figures above grow with it)",
        INFO,
        details={"reference_ms_start": round(at_start, 3), "reference_ms_end": round(at_end, 3)},
    )
