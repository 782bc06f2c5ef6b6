"""Ctrl-C during a one-shot sync: the first stops at the next safe point, the second exits at once.

A safe point is between customers: listings still in flight are abandoned (their results are not
written), a write batch in flight is committed or rolled back whole, and the run is recorded as
interrupted. Exit code 130.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_INTERRUPTED = 130


@contextmanager
def interruptible() -> Iterator[threading.Event]:
    """An event set by the first SIGINT/SIGTERM; the second one ends the process at once (exit 130)."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            os.write(2, b"integrator: interrupted again: exiting now\n")
            os._exit(EXIT_INTERRUPTED)
        stop.set()
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        os.write(2, f"integrator: {name}: stopping at the next safe point (press Ctrl-C again to exit at once)\n"
                 .encode())

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def exit_if_stopped(stop: threading.Event) -> None:
    if stop.is_set():
        sys.stderr.write("integrator: interrupted: stopped at a safe point; what was written is consistent, "
                         "the next run completes the rest\n")
        sys.exit(EXIT_INTERRUPTED)
