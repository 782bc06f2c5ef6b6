"""``integrator web`` as a real process for tests: started as a user would, ready when it says where it
listens and the port answers, stopped with SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from tests.processes import StderrLines, spawn, wait_for

_LISTENING = re.compile(r"console at (https?)://([^/]+)/")


class WebProcess:
    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        saved = {k: os.environ.get(k) for k in (env or {})}
        os.environ.update(env or {})
        try:
            self.proc = spawn("web", "--port", "0", *args, stdout=subprocess.DEVNULL)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        self.stderr = StderrLines(self.proc)
        match = _LISTENING.search(self.stderr.wait_for("console at"))
        assert match, self.stderr.text()
        self.url = f"{match.group(1)}://{match.group(2)}"
        host, port = match.group(2).rsplit(":", 1)
        self.host, self.port = host.strip("[]"), int(port)
        wait_for(self._answers, what=f"the console on port {self.port}")

    def _answers(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1):
                return True
        except OSError:
            return False

    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.stderr.finish()


@contextmanager
def web_process(*args: str, env: dict[str, str] | None = None) -> Iterator[WebProcess]:
    """``integrator web --port 0 ARGS`` with ``env`` added to the test's environment, until the block ends."""
    server = WebProcess(*args, env=env)
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
        server.stop()
