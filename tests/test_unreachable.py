"""An unreachable vendor (connection refused, a name that does not resolve) is said in one line within
seconds: connection errors get one quick retry, not the backoff meant for a busy server, and urllib3's
retry chatter shows only with -v."""

from __future__ import annotations

import socket
import time

import pytest

# The defaults a user gets (5 retries, 0.5 s backoff): before, these took 18-24 s per entity.
DEFAULTS = {"retries": 5, "backoff_seconds": 0.5, "timeout_seconds": 30}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("where, reason", [
    ("refused", "connection refused"),
    ("dns", "the name nonexistent.invalid does not resolve"),
])
def test_run_once_against_an_unreachable_vendor_fails_fast_in_one_line_per_entity(cli, write_config, where, reason):
    url = f"http://127.0.0.1:{closed_port()}" if where == "refused" else "https://nonexistent.invalid"
    write_config(url=url, **DEFAULTS)
    started = time.monotonic()
    result = cli("run", "--once")
    elapsed = time.monotonic() - started
    assert result.code == 1
    assert elapsed < 10, f"took {elapsed:.1f}s"
    problems = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert problems and all(line.endswith(reason) for line in problems), result.err
    ours = [line for line in result.err.splitlines() if line.startswith(("integrator:", "error:", "also"))]
    assert not [line for line in ours if "Retrying" in line or "urllib3" in line], ours


def test_the_retry_is_shown_with_verbose(cli, write_config):
    write_config(url=f"http://127.0.0.1:{closed_port()}", **DEFAULTS)
    result = cli("-v", "test-connection", "also")
    assert result.code != 0
    assert result.err.count("Retrying") == 1  # one quick retry, visible when asked for
