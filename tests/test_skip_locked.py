"""``run --once --skip-locked --json`` names an integration another process is syncing as ``skipped``.

It is neither ``failed`` (nothing went wrong: another process is doing the work) nor missing.
"""

from __future__ import annotations

import signal

from tests.processes import spawn, wait_for
from tests.test_locks import running


def test_a_skipped_integration_is_reported_skipped_not_failed(cli, config, sandbox, db):
    sandbox.inject(operation="GetCompanies", kind="latency", delay=2.0, times=1)
    holder = spawn("run", "--once")
    try:
        wait_for(lambda: running(db) == 1 and sandbox.state.calls["GetCompanies"] == 1,
                 what="the holder waiting for the company listing")
        holder.send_signal(signal.SIGSTOP)
        result = cli("run", "--once", "--skip-locked", "--json")
        holder.send_signal(signal.SIGCONT)
        assert result.code == 0, result.err
        report = result.json
        assert report["status"] == "ok"
        assert report["integrations"]["also"] == {"status": "skipped", "entities": {}}
        assert len(report["skipped"]) == 1 and report["skipped"][0].startswith("integration 'also' is being synced")
        _, err = holder.communicate(timeout=120)
    finally:
        holder.send_signal(signal.SIGCONT)
        holder.kill()
    assert holder.returncode == 0, err
