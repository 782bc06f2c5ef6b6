"""Ctrl-C or SIGTERM during a one-shot sync: the first stops at the next safe point, the second exits at once.

A safe point is between customers: listings still in flight are abandoned (their results are not
written, see core.workers), a write batch in flight is committed or rolled back whole, and the run is
recorded as interrupted. Exit code 130 after Ctrl-C (SIGINT), 143 after SIGTERM (128 + the signal).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from core.cli import logs

EXIT_INTERRUPTED = 130


class StopRequest(threading.Event):
    """Set by the first stop signal; remembers which, for the exit code."""

    signum: int = signal.SIGINT

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signum)


@contextmanager
def interruptible() -> Iterator[StopRequest]:
    """An event set by the first SIGINT/SIGTERM; the second one ends the process at once (exit 130/143)."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            os.write(2, (logs.line("integrator: interrupted again: exiting now", "error") + "\n").encode())
            os._exit(128 + signum)
        stop.signum = signum
        stop.set()
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        message = f"integrator: {name}: stopping at the next safe point (press Ctrl-C again to exit at once)"
        os.write(2, (logs.line(message, "warning") + "\n").encode())

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def exit_if_stopped(stop: threading.Event) -> None:
    if stop.is_set():
        code = stop.exit_code if isinstance(stop, StopRequest) else EXIT_INTERRUPTED
        logs.echo("integrator: interrupted: stopped at a safe point; what was written is consistent, "
                  "the next run completes the rest", "error")
        sys.exit(code)
