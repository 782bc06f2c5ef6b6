"""The integrator: run --once, the daemon, the lock, stale runs, catch-up, signals, status."""

from __future__ import annotations

import datetime as real_datetime
import json
import logging
import os
import signal
import subprocess
import sys
import types
import urllib.request
from pathlib import Path

import pytest
import schedule

from core.config.file import load_config
from core.db import open_database
from core.host.plugins import get_plugin_manager
from core.sync.app import App
from core.sync.scheduler import Daemon
from tests.processes import StderrLines, spawn, wait_for

ROOT = Path(__file__).resolve().parent.parent


def make_app(config_path: Path) -> App:
    pm = get_plugin_manager()
    config = load_config(config_path, pm)
    return App(config=config, pm=pm, sessions=open_database(config.database_url))


def test_run_once_syncs_customers_before_subscriptions_whatever_the_yaml_order(cli, write_config):
    write_config(integrator={"enabled": True, "entities_to_sync": ["subscriptions", "customers"]})
    result = cli("run", "--once")
    assert result.code == 0, result.err
    runs = cli("history", "--json").json
    assert [r["entity"] for r in reversed(runs)] == ["customers", "subscriptions"]
    assert runs[0]["created"] == 16 and runs[1]["created"] == 11


def test_run_once_exits_non_zero_when_an_entity_is_partial(cli, config, sandbox):
    sandbox.inject(operation="GetSubscriptions", account_id=100011, status=500, times=-1, message="boom")
    result = cli("run", "--once")
    assert result.code == 1 and "Fabrikam GmbH (100011): GetSubscriptions failed: boom" in result.err


def test_run_once_logs_each_run_in_a_structured_form(cli, config):
    result = cli("-v", "run", "--once")  # the events are INFO: -v, as for every command
    assert "event=sync_start vendor=also entity=customers" in result.err
    assert "event=sync_done vendor=also entity=subscriptions status=ok created=16" in result.err


def test_a_second_sync_of_the_same_integration_is_refused_while_one_runs(cli, config, sandbox, db):
    sandbox.state.latency = 0.15
    first = spawn("run", "--once")
    try:
        wait_for(lambda: db.query("SELECT count(*) FROM sync_runs WHERE status='running'")[0][0] == 1)
        result = cli("run", "--once")
        assert result.code == 1
        assert f"integration 'also' is being synced by process {first.pid}" in result.err
        _, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
    finally:
        first.kill()
    assert {r["status"] for r in cli("history", "--json").json} == {"ok"}


def test_sigterm_during_a_sync_stops_cleanly_leaving_the_database_consistent(cli, write_config, sandbox, db):
    write_config(max_concurrency=1)
    assert cli("import", "customers", "also").code == 0
    sandbox.state.latency = 0.3
    daemon = spawn("-v", "run")  # the daemon catches up at once: it never synced subscriptions successfully
    wait_for(lambda: db.query("SELECT count(*) FROM licences")[0][0] >= 2, what="two licences committed")
    daemon.send_signal(signal.SIGTERM)
    out, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    assert "event=stopping signal=SIGTERM" in err and "event=daemon_stop" in err
    if db.is_sqlite:
        assert db.query("PRAGMA integrity_check") == [("ok",)]
    run = cli("history", "--json").json[0]
    assert run["entity"] == "subscriptions" and run["status"] == "failed" and run["finished_at"]
    assert any("stopped after" in e for e in run["errors"])
    # Every customer is either fully synced or untouched: no half-written customer.
    per_company = dict(db.query("SELECT vendor_customer_id, count(*) FROM licences GROUP BY vendor_customer_id"))
    expected = {"100010": 3, "100011": 2, "100012": 2, "100013": 1, "100015": 2, "100016": 1, "100017": 1,
                "100018": 2, "100020": 1, "100021": 1}
    assert per_company and all(expected[k] == v for k, v in per_company.items())
    sandbox.state.latency = 0
    assert cli("run", "--once").code == 0
    assert len(cli("licences", "list", "--json").json) == 16


def test_the_daemon_survives_a_failing_job(config, monkeypatch, caplog):
    app = make_app(config)
    daemon = Daemon(app, schedule.Scheduler())
    calls = []

    def explode(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("plugin bug")

    monkeypatch.setitem(__import__("core.sync.scheduler", fromlist=["ENTITY_SYNCS"]).ENTITY_SYNCS, "customers", explode)
    with caplog.at_level(logging.INFO, logger="integrator.runs"):
        daemon.job("also")
        daemon.job("also")
    assert len(calls) == 2
    assert "event=sync_crashed vendor=also error='RuntimeError: plugin bug'" in caplog.text


def fake_clock(monkeypatch, start: real_datetime.datetime):
    """Drive ``schedule``'s notion of now without waiting."""
    state = {"now": start}

    class FakeDateTime(real_datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return state["now"]

    fake = types.ModuleType("fake_datetime")
    fake.__dict__.update(real_datetime.__dict__)
    fake.datetime = FakeDateTime
    monkeypatch.setattr(schedule, "datetime", fake)
    return state


def test_a_scheduled_run_fires_at_run_at(cli, write_config, monkeypatch):
    path = write_config(integrator={"enabled": True, "run_at": "02:00"})
    clock = fake_clock(monkeypatch, real_datetime.datetime(2026, 11, 25, 1, 59, 0))
    daemon = Daemon(make_app(path), schedule.Scheduler())
    daemon.scheduler.run_pending()
    assert cli("history", "--json").json == []
    clock["now"] = real_datetime.datetime(2026, 11, 25, 2, 0, 1)
    daemon.scheduler.run_pending()
    assert [r["entity"] for r in cli("history", "--json").json] == ["subscriptions", "customers"]
    job = daemon.scheduler.get_jobs()[0]
    assert job.next_run == real_datetime.datetime(2026, 11, 26, 2, 0)


def test_catch_up_syncs_at_start_only_when_the_last_success_is_older_than_a_day(cli, config, db):
    daemon = Daemon(make_app(config), schedule.Scheduler())
    assert daemon.catch_up() == ["also"]  # never synced
    assert daemon.catch_up() == []  # just synced
    db.age_runs(hours=48)
    assert daemon.catch_up() == ["also"]


def test_status_is_non_zero_when_a_scheduled_integration_is_stale(cli, config, db):
    result = cli("status")
    assert result.code == 3 and "also: never synced successfully" in result.err
    cli("run", "--once")
    result = cli("status", "--json")
    assert result.code == 0 and result.json["stale"] == [] and result.json["integrations"]["also"]["last_success"]
    db.age_runs(hours=30)
    result = cli("status")
    assert result.code == 3 and "stale (older than 26 hours): also: last successful sync 30.0 hours ago" in result.err
    assert cli("status", "--max-age-hours", "48").code == 0


def test_history_shows_the_last_sync_and_the_last_error(cli, config, sandbox):
    cli("run", "--once")
    sandbox.inject(operation="GetCompanies", status=500, times=-1, message="maintenance")
    cli("run", "--once")
    text = cli("history").out
    assert text.startswith("also: last sync 20")
    assert "last error GetCompanies failed: maintenance" in text


def test_demo_runs_everything_on_embedded_defaults(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("INTEGRATOR_CONFIG", raising=False)
    result = cli("demo", "--dir", str(tmp_path / "demo"))
    assert result.code == 0, result.err
    assert "Müller & Söhne GmbH" in result.out and "Exchange Online (Plan 1)" in result.out
    assert "also subscriptions (ok): 16 created" in result.out
    assert "pax8 subscriptions (ok): 10 created" in result.out and "Contoso Dental" in result.out
    assert (tmp_path / "demo" / "integrator.db").exists()


def test_sandbox_command_serves_the_api_in_the_foreground(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "sandbox", "also", "--port", str(port),
                             "--password", "pw"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def answer():
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/SimpleAPI/SimpleAPIService.svc/rest/GetSessionToken",
                data=json.dumps({"username": "api-user@acme-msp.example", "password": "pw"}).encode(),
                headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    return json.loads(response.read())
            except OSError:
                return None

        wait_for(lambda: answer() is not None, what="the sandbox answering")
        assert isinstance(answer(), str)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    assert proc.returncode == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_an_idle_daemon_stops_on_a_signal_with_exit_zero(cli, config, signum, tmp_path):
    assert cli("run", "--once").code == 0
    daemon = spawn("-v", "run")
    log = StderrLines(daemon)
    try:
        log.wait_for("event=daemon_start")  # logged once its signal handlers are in place
        daemon.send_signal(signum)
        assert daemon.wait(timeout=60) == 0
    finally:
        daemon.kill()
    assert "event=daemon_stop" in log.finish()


def test_a_lock_row_left_by_an_earlier_release_is_ignored(cli, config, db):
    from datetime import datetime

    from sqlalchemy import text

    assert cli("customers", "list").code == 0  # creates the schema
    with db.engine.begin() as conn:  # the lease of earlier releases, "held" with a fresh heartbeat
        conn.execute(text("INSERT INTO integration_locks (vendor, host, pid, acquired_at, heartbeat_at) "
                          "VALUES ('also', 'worker-2', 4242, :t, :t)"), {"t": datetime.utcnow()})
    result = cli("run", "--once")
    assert result.code == 0, result.err
    assert {r["status"] for r in cli("history", "--json").json} == {"ok"}


def test_several_processes_share_the_integrations_and_never_sync_one_twice_at_once(cli, write_config, sandbox,
                                                                                    also_settings, tmp_path,
                                                                                    database_url):
    import shutil

    export = tmp_path / "export.json"
    shutil.copy(ROOT / "config" / "westcoast-export.example.json", export)
    write_config(integrations={
        "also": also_settings,
        "westcoast_stub": {"file": str(export), "integrator": {"enabled": True}},
    })
    assert cli("customers", "list").code == 0  # the schema, before the workers race for it
    sandbox.state.latency = 0.05
    workers = [spawn("run", "--once", "--skip-locked") for _ in range(3)]
    outputs = [w.communicate(timeout=180) for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0], outputs
    runs = cli("history", "--json").json
    assert {r["status"] for r in runs} == {"ok"}
    by_key: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for run in runs:
        by_key.setdefault((run["vendor"], run["entity"]), []).append((run["started_at"], run["finished_at"]))
    assert {k[0] for k in by_key} == {"also", "westcoast_stub"}
    for spans in by_key.values():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert end <= start, f"two syncs of one integration overlapped: {spans}"



def test_a_progress_bar_shows_on_a_terminal_and_not_in_a_pipe(cli, config):
    import pty

    assert cli("import", "customers", "also").code == 0
    piped = subprocess.run([sys.executable, "-m", "core.cli", "import", "subscriptions", "also"], cwd=ROOT,
                           capture_output=True, text=True, env=os.environ.copy())
    assert piped.returncode == 0 and "Listing subscriptions" not in piped.stderr + piped.stdout
    primary, secondary = pty.openpty()  # a terminal, as a person running it has
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "import", "subscriptions", "also"], cwd=ROOT,
                            stdout=secondary, stderr=secondary, env=os.environ.copy())
    os.close(secondary)
    screen = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed: the command is done
            break
        if not chunk:
            break
        screen += chunk
    os.close(primary)
    assert proc.wait(timeout=60) == 0
    text = screen.decode(errors="replace")
    assert "Listing subscriptions" in text and "11/11" in text
