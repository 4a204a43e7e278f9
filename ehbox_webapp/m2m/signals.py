"""Graceful stop on Ctrl-C and SIGTERM for long runs (the poller).

The first SIGINT or SIGTERM only sets an event: the poller finishes the message
it is writing, saves its state and returns. A second one raises KeyboardInterrupt
at once: the message being written is abandoned (its temporary folder removed),
and fetched again next time.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any


class StopOnSignals:
    """`with StopOnSignals(stop):` sets `stop` on SIGINT/SIGTERM; restores the handlers.

    Handlers can only be installed from the main thread; elsewhere this does nothing
    and the embedding code sets `stop` itself.
    """

    def __init__(self, stop: threading.Event):
        self.stop = stop
        self.previous: dict[int, Any] = {}

    def _handler(self, signum: int, frame: Any) -> None:
        if self.stop.is_set():
            raise KeyboardInterrupt
        # Safe here: the poller never blocks in `stop.wait()` (see Poller._sleep).
        self.stop.set()
        # os.write, not print: the handler may interrupt a write to the same stream.
        os.write(2, b"\nstopping after the current message (Ctrl-C again to abort it)\n")

    def __enter__(self) -> StopOnSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self.previous[signum] = signal.signal(signum, self._handler)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous.clear()
