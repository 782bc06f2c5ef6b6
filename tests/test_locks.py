"""One sync of an integration at a time, held by the database engine's own lock (issue 12, defects 1 and 10).

A paused holder keeps its lock however long it is paused and whatever the clocks say; a dead one
loses it at once; a run that lost its lock writes nothing more.
"""

from __future__ import annotations

import datetime
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from core.config.file import load_config
from core.db import open_database
from core.host.plugins import get_plugin_manager
from core.sync.app import App
from core.sync.subscriptions import import_subscriptions
from tests.processes import ROOT, StderrLines, spawn, wait_for

PG_ONLY = ("several machines share a server database: set INTEGRATOR_TEST_DATABASE_URL to a PostgreSQL "
           "admin URL to run this")


def running(db, after: int = 0) -> int:
    return db.query("SELECT count(*) FROM sync_runs WHERE status = 'running' AND id > :after", after=after)[0][0]


def runs(db) -> list[tuple]:
    return db.query("SELECT id, vendor, entity, status, pid, host, started_at, finished_at, errors "
                    "FROM sync_runs ORDER BY id")


def test_a_paused_holder_keeps_its_lock_however_long_it_is_paused(cli, config, sandbox, db):
    # Paused while it waits for the company listing: it holds the lock and no database transaction (a
    # SQLite writer paused inside a commit would keep every reader out, which is not what is tested here).
    sandbox.inject(operation="GetCompanies", kind="latency", delay=2.0, times=1)
    holder = spawn("run", "--once")
    try:
        wait_for(lambda: running(db) == 1 and sandbox.state.calls["GetCompanies"] == 1,
                 what="the holder waiting for the company listing")
        holder.send_signal(signal.SIGSTOP)
        # To anything that compares recorded times, an hour has passed: the old lease took a holder
        # silent for five minutes to be dead. A second process is refused, in one line.
        second = spawn("run", "--once", clock_ahead=3600)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 1
        assert err.strip().splitlines() == [err.strip()]
        assert f"integration 'also' is being synced by process {holder.pid} on " in err
        assert "--skip-locked" in err
        skipping = spawn("run", "--once", "--skip-locked", clock_ahead=3600, hostname="worker-2")
        _, err = skipping.communicate(timeout=120)
        assert skipping.returncode == 0 and "skipped: integration 'also' is being synced by process" in err
        assert running(db) == 1  # nobody took the holder's run over
        holder.send_signal(signal.SIGCONT)
        _, err = holder.communicate(timeout=120)
    finally:
        holder.kill()
    assert holder.returncode == 0, err
    history = cli("history", "--json").json
    assert [(r["entity"], r["status"]) for r in history] == [("subscriptions", "ok"), ("customers", "ok")]
    assert len(cli("licences", "list", "--json").json) == 16


@pytest.mark.parametrize("where", ["this machine", "another machine"])
def test_a_killed_holder_s_lock_is_taken_over_at_once_and_its_run_marked_failed(cli, config, sandbox, db, where):
    sandbox.state.latency = 0.2
    victim = spawn("run", "--once", hostname="worker-2" if where == "another machine" else "")
    wait_for(lambda: running(db) == 1, what="the victim's first run")
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)
    sandbox.state.latency = 0
    result = cli("run", "--once")  # at once: no lease to expire, no heartbeat to go stale
    assert result.code == 0, result.err
    history = cli("history", "--json").json
    killed = [r for r in history if r["status"] == "failed"]
    assert len(killed) == 1 and f"the process {victim.pid} on " in killed[0]["errors"][0]
    assert "stopped" in killed[0]["errors"][0]
    assert running(db) == 0
    assert len(cli("licences", "list", "--json").json) == 16


def test_workers_on_one_postgresql_share_the_integrations_whatever_their_clocks(cli, write_config, sandbox, db,
                                                                               also_settings, tmp_path):
    if db.is_sqlite:
        pytest.skip(PG_ONLY)
    export = tmp_path / "export.json"
    shutil.copy(ROOT / "config" / "westcoast-export.example.json", export)
    write_config(integrations={
        "also": also_settings,
        "westcoast_stub": {"file": str(export), "integrator": {"enabled": True}},
    })
    assert cli("customers", "list").code == 0  # the schema, before the workers race for it
    sandbox.state.latency = 0.05
    # Four machines whose clocks disagree by up to an hour: none of that may matter.
    clocks = {"worker-0": 0.0, "worker-1": 3600.0, "worker-2": -600.0, "worker-3": 600.0}
    workers = {spawn("run", "--once", "--skip-locked", clock_ahead=ahead, hostname=host): ahead
               for host, ahead in clocks.items()}
    outputs = {w: w.communicate(timeout=180) for w in workers}
    assert [w.returncode for w in workers] == [0, 0, 0, 0], list(outputs.values())
    skew = {w.pid: ahead for w, ahead in workers.items()}
    spans: dict[tuple[str, str], list[tuple]] = {}
    for _, vendor, entity, status, pid, _, started, finished, _ in runs(db):
        assert status == "ok"
        shift = datetime.timedelta(seconds=skew[pid])
        spans.setdefault((vendor, entity), []).append((started - shift, finished - shift))
    assert {vendor for vendor, _ in spans} == {"also", "westcoast_stub"}
    for key, times in spans.items():
        times.sort()
        for (_, end), (start, _) in zip(times, times[1:], strict=False):
            assert end <= start, f"two syncs of {key} overlapped: {times}"


def test_a_run_that_lost_its_lock_writes_nothing_more(cli, write_config, sandbox, db):
    if db.is_sqlite:
        pytest.skip(PG_ONLY)
    write_config(max_concurrency=1)
    assert cli("import", "customers", "also").code == 0
    sandbox.state.latency = 0.3
    holder = spawn("import", "subscriptions", "also")
    try:
        wait_for(lambda: running(db) == 1, what="the holder's run")
        backends = db.query("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
                            "(SELECT oid FROM pg_database WHERE datname = current_database())")
        assert len(backends) == 1, "the holder holds no lock of the database engine"
        # The server ends the holder's lock connection (an administrator, a network cut, a fail-over).
        db.query("SELECT pg_terminate_backend(:pid)", pid=backends[0][0])
        wait_for(lambda: not db.query("SELECT 1 FROM pg_stat_activity WHERE pid = :pid", pid=backends[0][0]),
                 what="the holder's lock connection to end")
        sandbox.state.latency = 0
        taker = cli("import", "subscriptions", "also")  # the lock is free at once
        assert taker.code == 0, taker.err
        after_taker = db.dump(exclude=("sync_runs",))
        _, err = holder.communicate(timeout=120)
    finally:
        holder.kill()
    assert holder.returncode == 1 and "lost its lock" in err and "Traceback" not in err
    assert db.dump(exclude=("sync_runs",)) == after_taker  # the holder wrote nothing more
    statuses = [(entity, status) for _, _, entity, status, *_ in runs(db)]
    assert statuses == [("customers", "ok"), ("subscriptions", "failed"), ("subscriptions", "ok")]
    assert f"the process {holder.pid} on " in runs(db)[1][-1][0]


def test_a_run_never_overwrites_a_status_it_did_not_own(config, sandbox, db):
    pm = get_plugin_manager()
    app = App(config=load_config(config, pm), pm=pm, sessions=open_database(db.url))
    from core.sync.customers import import_customers

    import_customers(app, "also")
    marked = []

    def progress(done: int, total: int) -> None:
        if not marked:  # someone else decided this run failed while it was under way
            with db.engine.begin() as conn:
                conn.exec_driver_sql("UPDATE sync_runs SET status = 'failed' WHERE status = 'running'")
            marked.append(done)

    report = import_subscriptions(app, "also", progress=progress)
    assert marked and report.status == "failed"
    assert [(entity, status) for _, _, entity, status, *_ in runs(db)] == [("customers", "ok"),
                                                                            ("subscriptions", "failed")]


def test_a_sqlite_run_whose_lock_file_was_replaced_writes_nothing_more(config, sandbox, db):
    if not db.is_sqlite:
        pytest.skip("the lock file belongs to SQLite")
    from core.db.models import Customer
    from core.errors import LockLostError
    from core.sync.locks import integration_lock

    pm = get_plugin_manager()
    app = App(config=load_config(config, pm), pm=pm, sessions=open_database(db.url))
    lock_files = []
    with integration_lock(app.sessions, "also"):
        lock_files = list(Path(db.url.removeprefix("sqlite:///")).parent.glob("*.lock"))
        assert len(lock_files) == 1
        lock_files[0].unlink()  # a clean-up job, an operator: now another process could lock a new file
        with pytest.raises(LockLostError, match="lost its lock"):
            with app.sessions.begin() as session:
                session.add(Customer(name="Late Ltd", created_at=datetime.datetime(2026, 11, 26)))
    assert db.query("SELECT count(*) FROM customers WHERE name = 'Late Ltd'") == [(0,)]


def _unshare_prefix() -> tuple[str, ...]:
    prefix = ("unshare", "--pid", "--fork", "--mount-proc", "--kill-child")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) to run the integrator as PID 1 of its own PID namespace")
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare cannot make a PID namespace here: {probe.stderr.strip()}")
    return prefix


def _pid_one(outer: subprocess.Popen[str]) -> int:
    """The host PID of the process that is PID 1 inside ``unshare --fork``'s namespace."""
    children: list[str] = []

    def forked() -> bool:
        children[:] = Path(f"/proc/{outer.pid}/task/{outer.pid}/children").read_text().split()
        return bool(children)

    wait_for(forked, what="unshare's child")
    return int(children[0])


def test_a_killed_container_takes_its_own_lock_back_and_catches_up(cli, config, sandbox, db):
    prefix = _unshare_prefix()
    sandbox.state.latency = 0.2
    first = spawn("run", prefix=prefix)  # the daemon, as PID 1 of its container
    try:
        wait_for(lambda: db.query("SELECT pid FROM sync_runs WHERE status = 'running'") == [(1,)],
                 what="the daemon's catch-up run as PID 1")
        os.kill(_pid_one(first), signal.SIGKILL)
        first.wait(timeout=60)
    finally:
        first.kill()
    sandbox.state.latency = 0
    again = spawn("-v", "run", prefix=prefix)  # restarted: the same PID 1, the same hostname
    log = StderrLines(again)
    try:
        log.wait_for("event=sync_done vendor=also entity=subscriptions status=ok")
        os.kill(_pid_one(again), signal.SIGTERM)  # to PID 1 itself: unshare does not pass signals on
        assert again.wait(timeout=60) == 0
    finally:
        again.kill()
    text = log.finish()
    assert "event=catch_up vendor=also" in text and "sync_skipped" not in text
    history = cli("history", "--json").json
    assert [(r["entity"], r["status"]) for r in history] == [("subscriptions", "ok"), ("customers", "ok"),
                                                            ("customers", "failed")]
    assert "the process 1 on " in history[-1]["errors"][0]
