"""Stopping within seconds: the first Ctrl-C or SIGTERM abandons the vendor listings in flight (nothing of
theirs is written) instead of waiting for them, for ``run --once``, imports, the daemon and the console.

Each test makes one listing slow (two minutes, longer than any test may wait), waits until the sandbox
has received that call, signals a real process and times how long it takes to exit."""

from __future__ import annotations

import signal
import subprocess
import time
from typing import Any

import pytest

from tests.processes import StderrLines, spawn, wait_for
from tests.web_support import make_app

SLOW = 120.0  # seconds a slow listing takes: far more than "within seconds"
WITHIN = 10.0  # seconds a stop may take on a busy machine


def _slow(sandbox: Any, operation: str, account: str | None = None) -> Any:
    """The next ``operation`` (for ``account``) answers after SLOW seconds; returns the rule, whose
    ``times`` drops to 0 once the sandbox has received that call."""
    return sandbox.inject(operation=operation, kind="latency", delay=SLOW, times=1,
                          account_id=int(account) if account else None)


def _last_mapped(db: Any) -> str:
    ids = [row[0] for row in db.query("SELECT external_id FROM customer_mappings")]
    return max(ids, key=lambda e: (len(e), e))


def _in_flight(rule: Any) -> None:
    wait_for(lambda: rule.times == 0, what="the slow listing in flight")


def _stop(proc: Any, signum: int) -> tuple[int, float, str]:
    lines = StderrLines(proc)
    proc.send_signal(signum)
    signalled = time.monotonic()
    try:
        lines.finish(timeout=WITHIN * 3)
    except subprocess.TimeoutExpired:
        pass
    took = time.monotonic() - signalled
    if proc.poll() is None:
        proc.kill()
        proc.wait()
        return -1, took, "still running: " + lines.text()
    return proc.returncode, took, lines.text()


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_run_once_abandons_a_slow_listing_and_stops_within_seconds(cli, write_config, sandbox, db, signum, code):
    write_config(timeout_seconds=300, max_concurrency=4)
    assert cli("import", "customers", "also").code == 0
    slow = _last_mapped(db)
    rule = _slow(sandbox, "GetSubscriptions", slow)
    proc = spawn("run", "--once")
    _in_flight(rule)
    returncode, took, err = _stop(proc, signum)
    assert returncode == code, err
    assert took < WITHIN, f"took {took:.1f} s to stop: {err}"
    assert "Traceback" not in err
    assert db.query("SELECT count(*) FROM licences WHERE vendor_customer_id = :c", c=slow) == [(0,)]
    run = cli("history", "--json").json[0]
    assert run["entity"] == "subscriptions" and run["status"] == "failed"
    assert any("stopped after" in e for e in run["errors"])
    assert db.query("SELECT count(*) FROM sync_runs WHERE status='running'") == [(0,)]


def test_import_customers_abandons_a_slow_company_listing(cli, config, sandbox, db):
    rule = _slow(sandbox, "GetCompanies")
    proc = spawn("import", "customers", "also")
    _in_flight(rule)
    returncode, took, err = _stop(proc, signal.SIGTERM)
    assert returncode == 143 and took < WITHIN, (took, err)
    assert db.query("SELECT count(*) FROM customers") == [(0,)]
    assert db.query("SELECT count(*) FROM sync_runs WHERE status='running'") == [(0,)]
    assert db.query("SELECT status FROM sync_runs") == [("failed",)]


def test_import_subscriptions_abandons_a_slow_listing(cli, write_config, sandbox, db):
    write_config(timeout_seconds=300)
    assert cli("import", "customers", "also").code == 0
    rule = _slow(sandbox, "GetSubscriptions", _last_mapped(db))
    proc = spawn("import", "subscriptions", "also")
    _in_flight(rule)
    returncode, took, err = _stop(proc, signal.SIGINT)
    assert returncode == 130 and took < WITHIN, (took, err)


def test_the_daemon_stops_within_seconds_during_a_slow_listing(cli, write_config, sandbox, db):
    write_config(timeout_seconds=300)
    assert cli("import", "customers", "also").code == 0
    rule = _slow(sandbox, "GetSubscriptions", _last_mapped(db))
    proc = spawn("run")  # never synced: it catches up at once
    _in_flight(rule)
    returncode, took, err = _stop(proc, signal.SIGTERM)
    assert returncode == 0 and took < WITHIN, (took, err)
    assert db.query("SELECT count(*) FROM sync_runs WHERE status='running'") == [(0,)]


def test_the_console_stops_its_import_within_seconds(cli, write_config, sandbox, db):
    from core.web.jobs import Jobs

    path = write_config(timeout_seconds=300)
    assert cli("import", "customers", "also").code == 0
    slow = _last_mapped(db)
    rule = _slow(sandbox, "GetSubscriptions", slow)
    jobs = Jobs(make_app(path))
    job = jobs.start("also", "subscriptions", dry_run=False, allow_mass_deactivation=False, session_label="test",
                     client=None)
    _in_flight(rule)
    asked = time.monotonic()
    jobs.stop(timeout=WITHIN * 3)
    assert time.monotonic() - asked < WITHIN and not job.running
    assert job.report is not None and job.report.status == "failed"
    assert db.query("SELECT count(*) FROM licences WHERE vendor_customer_id = :c", c=slow) == [(0,)]
