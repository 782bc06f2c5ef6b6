"""Integrator processes for tests: started as a user would, waited on by readiness, never by fixed sleeps."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

ROOT = Path(__file__).resolve().parent.parent

# The integrator as another machine would run it: its clock ``ahead`` seconds off (what a paused VM or
# clock skew looks like to anything comparing recorded times) and, optionally, another hostname.
_AS_ANOTHER_MACHINE = """
import sys, socket, datetime
ahead, hostname = float(sys.argv.pop(1)), sys.argv.pop(1)
if hostname:
    socket.gethostname = lambda: hostname
import core.db.store
real_now = core.db.clock.now
def now():
    return real_now() + datetime.timedelta(seconds=ahead)
core.db.clock.now = now
import core.sync.locks
if hasattr(core.sync.locks, "now"):
    core.sync.locks.now = now
from core.cli import main
main()
"""


def spawn(*args: str, clock_ahead: float = 0.0, hostname: str = "", prefix: tuple[str, ...] = (),
          stdout: int | None = subprocess.PIPE) -> subprocess.Popen[str]:
    """``integrator ARGS`` in a child process (under ``prefix``, e.g. ``unshare ...``), with the environment
    of the test (INTEGRATOR_CONFIG)."""
    if clock_ahead or hostname:
        command = [sys.executable, "-c", _AS_ANOTHER_MACHINE, str(clock_ahead), hostname, *args]
    else:
        command = [sys.executable, "-m", "core.cli", *args]
    return subprocess.Popen([*prefix, *command], cwd=ROOT, env=os.environ.copy(), stdout=stdout,
                            stderr=subprocess.PIPE, text=True)


def wait_for(predicate: Callable[[], object], timeout: float = 60.0, what: str = "condition") -> None:
    """Poll ``predicate`` until it is true. The timeout is only a backstop for a hung test: generous,
    so that a busy machine is slow, never wrong."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except SQLAlchemyError:  # the other process is still creating the schema
            pass
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout:g} s")


class StderrLines:
    """Collects a process's stderr line by line in a thread, so a test can wait for a log line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        self.proc = proc
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self.lines.append("")  # end of stream
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        """The first line containing ``text``; fails if the process ends or the backstop passes first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                if self.lines and self.lines[-1] == "":
                    raise AssertionError(f"the process ended without logging {text!r}: {self.text()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{text!r} not logged within {timeout:g} s: {self.text()}")
                self._changed.wait(left)

    def text(self) -> str:
        """Everything read so far (after the process ended: everything)."""
        return "".join(self.lines)

    def finish(self, timeout: float = 60.0) -> str:
        self.proc.wait(timeout=timeout)
        self._thread.join(timeout=timeout)
        return self.text()
