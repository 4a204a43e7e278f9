"""How fast this machine is right now: a fixed piece of Python work, timed.

Every figure of the bench is in milliseconds, and a shared or throttled machine can be
twice as slow at one moment as at another (seen on the 2-core machine the figures in
docs/performance.md come from). The bench times this same work when it starts and when
it ends and prints both, so that two runs can be compared: own costs measured while the
reference took 2x longer are no evidence of a regression.

It also times a tenth of that work right after the process has idled as long as the
simulated eHealth latency, against back to back. On a virtual machine whose cores are
shared, a process that slept 20 ms runs its next instructions slower (its caches and the
core are no longer its own): with latency, the app path wakes from such an idle once more
than the direct call does, and that shows in the latency rows, not in the app's code.
"""

from __future__ import annotations

import json
import statistics
import time

from .report import INFO, Row

# The reference work (`reference_work`, that is `_work()` of 40 rounds, timed alone) takes
# 0.62 ms at this machine's fast speed: the machine-speed row of run E of `make bench`
# (4 December, 19:25 UTC; 0.62 ms at the start, 0.67 ms at the end), the run in which the
# budgets' "now" figures of issue 25 were measured. The overhead rows state the app's own
# work above the floor at this speed (bench/measures.py `floor_row`).
REFERENCE_FAST_MS = 0.62

_ROWS = [
    {"messageId": f"{i:013d}", "title": f"Résultats {i}", "size": i * 37, "read": i % 3 == 0}
    for i in range(25)
]


def _work(rounds: int = 40) -> int:
    text = json.dumps({"messages": _ROWS})
    total = 0
    for _ in range(rounds):
        page = json.loads(text)
        total += sum(len(m["title"]) for m in sorted(page["messages"], key=lambda m: m["title"]))
        total += len("".join(f"<tr><td>{m['title']}</td></tr>" for m in page["messages"]))
    return total


def reference_work() -> None:
    """The reference work once: REFERENCE_FAST_MS at the machine's fast speed."""
    _work()


def reference_ms(rounds: int = 30) -> float:
    """The median time of the reference work, in ms (one core, in this process)."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        _work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def after_idle_us(idle_ms: float, samples: int = 200) -> tuple[float, float]:
    """(back to back, right after `idle_ms` of sleep): median µs of a tenth of the work."""

    def timed(idle_s: float) -> float:
        times = []
        for _ in range(samples):
            if idle_s:
                time.sleep(idle_s)
            started = time.perf_counter()
            _work(4)
            times.append((time.perf_counter() - started) * 1e6)
        return statistics.median(times)

    timed(0)  # warm-up
    return timed(0), timed(idle_ms / 1000)


def wake_row(idle_ms: float, back_to_back_us: float, woken_us: float) -> Row:
    return Row(
        0,
        f"machine wake-up: the same Python work back to back and after {idle_ms:g} ms idle",
        "(reported)",
        f"{back_to_back_us:.0f} µs back to back, {woken_us:.0f} µs after {idle_ms:g} ms"
        f" idle = {woken_us / back_to_back_us:.2f}x (the latency rows pay it)",
        INFO,
        details={
            "idle_ms": idle_ms,
            "back_to_back_us": round(back_to_back_us, 1),
            "after_idle_us": round(woken_us, 1),
        },
    )


def speed_row(at_start: float, at_end: float) -> Row:
    return Row(
        0,
        "machine speed: the same Python work at the start and at the end of the run",
        "(reported)",
        f"{at_start:.2f} ms at the start, {at_end:.2f} ms at the end"
        " (raw ms figures grow with it; the overhead rows are also stated at 0.62 ms,"
        " by the reference timed in their own rounds)",
        INFO,
        details={"reference_ms_start": round(at_start, 3), "reference_ms_end": round(at_end, 3)},
    )
