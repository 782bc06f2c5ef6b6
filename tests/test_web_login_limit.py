"""Behind a proxy, many failed logins from many addresses slow every login down (2 s each) but never lock
out the right password from an address that has not failed: the global limit is no denial of service.
A real ``integrator web --behind-proxy`` process, the addresses given in X-Forwarded-For by 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from tests.processes import ROOT
from tests.web_process import web_process
from tests.web_support import CONSOLE_PASSWORD, log_in


def login_from(url: str, address: str, password: str) -> tuple[int, float]:
    """A login from ``address`` (as the proxy forwards it): the status and how long it took."""
    with httpx.Client(base_url=url, headers={"x-forwarded-for": address}, timeout=60) as client:
        started = time.monotonic()
        status = log_in(client, password).status_code
        return status, time.monotonic() - started


def test_the_global_limit_slows_logins_down_and_locks_nobody_out(config):
    done = subprocess.run([sys.executable, "-m", "core.cli", "web", "set-password"], input=CONSOLE_PASSWORD + "\n",
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with web_process("--behind-proxy") as server:
        for n in range(50):  # 10 addresses x 5 guesses: each address at its own limit, the global one reached
            status, _ = login_from(server.url, f"203.0.113.{n // 5 + 1}", "a wrong guess")
            assert status == 401, n
        assert login_from(server.url, "203.0.113.1", CONSOLE_PASSWORD)[0] == 429  # that address is locked out
        status, took = login_from(server.url, "198.51.100.7", "another wrong guess")
        assert status == 401 and took >= 2.0  # a new address: slowed down, still answered
        status, took = login_from(server.url, "198.51.100.8", CONSOLE_PASSWORD)
        assert status == 303 and took >= 2.0  # the right password from a new address gets in
