"""A failed nightly sync is retried with backoff (``integrator.retry_after_failure``, default 30m) until it
succeeds or the next scheduled run is due, and ``status`` shows the next attempt. On a controlled clock:
the daemon's retry check is called at chosen moments, nothing sleeps."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.web_support import make_app

START = datetime(2026, 12, 3, 2, 0, 0)  # the nightly run_at, 02:00 (naive UTC, as stored; TZ=UTC in tests)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    from core.db import clock as db_clock

    moments = [START]
    monkeypatch.setattr(db_clock, "now", lambda: moments[0])
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    return moments


def _daemon(path: Any) -> Any:
    from core.sync.scheduler import Daemon

    return Daemon(make_app(path))


def _status(cli) -> dict[str, Any]:
    result = cli("status", "--json")
    return result.json["integrations"]["also"]


def _runs(db) -> int:
    return db.query("SELECT count(*) FROM sync_runs")[0][0]


def test_a_failed_sync_is_retried_with_backoff_until_it_succeeds(cli, write_config, sandbox, db, clock):
    path = write_config()
    fault = sandbox.inject(operation="GetCompanies", status=500, times=-1, message="maintenance")
    daemon = _daemon(path)
    daemon.job("also")  # the nightly run, failed
    assert _status(cli)["next_attempt"] == "2026-12-03T02:30:00Z"
    runs = _runs(db)
    clock[0] = START + timedelta(minutes=29)
    assert daemon.retry_due() == [] and _runs(db) == runs  # not yet
    clock[0] = START + timedelta(minutes=30)
    assert daemon.retry_due() == ["also"] and _runs(db) > runs  # retried, failed again
    # Backoff: the wait doubles with the length of the failing streak (30 min, then 30, 60, 120 ...).
    assert _status(cli)["next_attempt"] == "2026-12-03T03:00:00Z"
    clock[0] = START + timedelta(minutes=60)
    assert daemon.retry_due() == ["also"]
    assert _status(cli)["next_attempt"] == "2026-12-03T04:00:00Z"
    fault.times = 0  # the vendor is back
    clock[0] = START + timedelta(hours=2)
    assert daemon.retry_due() == ["also"]
    status = _status(cli)
    assert status["last_run"]["status"] == "ok"
    assert status["next_attempt"] == "2026-12-04T02:00:00Z" and status["retrying"] is False  # the nightly run
    clock[0] = START + timedelta(hours=5)
    assert daemon.retry_due() == []


def test_no_retry_once_the_next_run_is_due(cli, write_config, sandbox, db, clock):
    path = write_config(integrator={"enabled": True, "run_at": "02:00"})
    sandbox.inject(operation="GetCompanies", status=500, times=-1, message="maintenance")
    clock[0] = datetime(2026, 12, 3, 1, 45)  # a manual run, 15 minutes before the nightly one
    _daemon(path).job("also")
    status = _status(cli)
    assert status["next_attempt"] == "2026-12-03T02:00:00Z" and status["retrying"] is False
    clock[0] = datetime(2026, 12, 3, 2, 16)
    assert _daemon(path).retry_due() == []


def test_the_retry_setting_is_checked_and_can_be_turned_off(cli, write_config, sandbox, db, clock):
    path = write_config(integrator={"enabled": True, "retry_after_failure": "5 parsecs"})
    result = cli("status")
    assert result.code == 2 and "retry_after_failure" in result.err and len(result.err.splitlines()) == 1
    path = write_config(integrator={"enabled": True, "retry_after_failure": "off"})
    sandbox.inject(operation="GetCompanies", status=500, times=-1, message="maintenance")
    daemon = _daemon(path)
    daemon.job("also")
    clock[0] = START + timedelta(hours=3)
    assert daemon.retry_due() == []
    assert _status(cli)["next_attempt"] == "2026-12-04T02:00:00Z"
    path = write_config(integrator={"enabled": True, "retry_after_failure": "10m"})
    clock[0] = START + timedelta(hours=3, minutes=10)
    assert _daemon(path).retry_due() == ["also"]


def test_the_setting_is_documented():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "retry_after_failure: 30m" in readme and "next_attempt" in readme
