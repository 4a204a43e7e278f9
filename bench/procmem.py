"""Resident memory of a server process, from /proc (Linux): now, and peak since a reset.

The peak is the kernel's high-water mark (VmHWM), reset by writing 5 to
/proc/<pid>/clear_refs (Linux 4.0+). Where the reset is refused, a sampler
thread polling VmRSS every few milliseconds stands in for it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

KIB = 1024


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * KIB
    raise RuntimeError(f"/proc/{pid}/status has no {field}")


def rss(pid: int) -> int:
    """Resident set size now, in bytes."""
    return _status(pid, "VmRSS")


def reset_peak(pid: int) -> bool:
    """Set the high-water mark back to the current RSS; False when not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class PeakRss:
    """`with PeakRss(pid) as peak:` ... then `peak.idle`, `peak.peak`, `peak.above_idle`."""

    def __init__(self, pid: int, interval: float = 0.005):
        self.pid = pid
        self.interval = interval
        self.idle = self.peak = 0
        self.method = ""
        self._sampled = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                self._sampled = max(self._sampled, rss(self.pid))
            except (OSError, RuntimeError):
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self.idle = rss(self.pid)
        self.method = "VmHWM" if reset_peak(self.pid) else "VmRSS sampled"
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        hwm = _status(self.pid, "VmHWM") if self.method == "VmHWM" else 0
        self.peak = max(hwm, self._sampled)

    @property
    def above_idle(self) -> int:
        return max(0, self.peak - self.idle)
