"""Killing a sync at any point, or losing the database mid-run, loses and corrupts nothing."""

from __future__ import annotations

import signal
import subprocess

import pytest

from tests.processes import spawn, wait_for

# Where each run is killed, by what the database shows (never by time): the first two before any
# licence of that run is written, the last two just after one of its batches was committed.
KILL_POINTS = ["customers running", "subscriptions running", "a batch committed", "a batch committed"]
STATE = ("customer", "name", "status", "active", "quantity", "price", "cost", "currency", "start_date", "end_date")


def snapshot(cli) -> dict[str, tuple]:
    return {lic["external_id"]: tuple(lic[k] for k in STATE) for lic in cli("licences", "list", "--json").json}


def change_upstream(sandbox) -> None:
    """A new state for every customer: quantities change, one licence goes, one arrives."""
    for subs in sandbox.state.data.subscriptions.values():
        for sub in subs:
            value = sub["Fields"][1]["Value"]
            if value is not None and str(value).strip().replace(".0", "").isdigit():
                sub["Fields"][1]["Value"] = str(int(float(value)) + 3)
    sandbox.state.data.subscriptions[100018].pop()
    from plugins.also.sandbox import subscription

    sandbox.state.data.subscriptions[100021].append(subscription(200211, 100021, "Teams Premium", "4"))


def history_rows(db) -> int:
    return db.query("SELECT count(*) FROM licence_changes")[0][0]


def reached(db, point: str, last_run: int, changes: int) -> bool:
    """Whether a run started after ``last_run`` has got to ``point`` (see KILL_POINTS)."""
    if point == "a batch committed":
        return history_rows(db) > changes
    entity = point.split()[0]
    return bool(db.query("SELECT 1 FROM sync_runs WHERE id > :last AND entity = :entity AND status = 'running'",
                         last=last_run, entity=entity))


def test_sigkill_at_several_points_leaves_every_licence_old_or_new_and_a_rerun_converges(cli, write_config,
                                                                                        sandbox, db):
    write_config(max_concurrency=1)
    assert cli("run", "--once").code == 0
    old = snapshot(cli)
    change_upstream(sandbox)
    sandbox.state.latency = 0.25
    observed, killed_mid_run = [], 0
    for point in KILL_POINTS:
        last_run, changes = db.query("SELECT coalesce(max(id), 0) FROM sync_runs")[0][0], history_rows(db)
        proc = spawn("run", "--once", stdout=subprocess.DEVNULL)
        try:
            wait_for(lambda: reached(db, point, last_run, changes), what=point)  # noqa: B023 (used at once)
            proc.send_signal(signal.SIGKILL)
            killed_mid_run += proc.wait(timeout=60) == -signal.SIGKILL
        finally:
            proc.kill()
            proc.communicate()
        observed.append(snapshot(cli))
        if db.is_sqlite:
            assert db.query("PRAGMA integrity_check") == [("ok",)]
    sandbox.state.latency = 0
    assert cli("run", "--once").code == 0
    new = snapshot(cli)
    assert new != old and len(new) == 17
    for state in observed:
        for external_id, values in state.items():
            assert values in (old.get(external_id), new.get(external_id)), (external_id, values)
    assert any(state != old for state in observed), "no kill landed after a commit"
    assert db.query("SELECT count(*) FROM sync_runs WHERE status = 'running'") == [(0,)]
    assert killed_mid_run == len(KILL_POINTS)  # every kill landed before its run had finished
    # A kill left its run "running" (unless it fell between two entities); the next start marked it failed.
    assert db.query("SELECT count(*) FROM sync_runs WHERE status = 'failed'")[0][0] >= len(KILL_POINTS) - 1
    # No duplicates, and the history agrees with the licences: replaying it gives today's quantities.
    assert db.query("SELECT count(*), count(DISTINCT external_id) FROM licences")[0] == (17, 17)
    last = dict(db.query(
        "SELECT l.external_id, c.new_value FROM licence_changes c JOIN licences l ON l.id = c.licence_id "
        "WHERE c.id IN (SELECT max(id) FROM licence_changes WHERE field IN ('quantity', 'created') "
        "GROUP BY licence_id)"))
    assert {k: int(v) for k, v in last.items()} == {k: v[STATE.index("quantity")] for k, v in new.items()}


def test_the_database_going_away_mid_run_fails_the_run_cleanly_and_a_rerun_converges(cli, write_config, sandbox,
                                                                                    db):
    if db.is_sqlite:
        pytest.skip("a server database can go away; this leg runs on PostgreSQL")
    write_config(max_concurrency=1)
    assert cli("run", "--once").code == 0
    old = snapshot(cli)
    change_upstream(sandbox)
    sandbox.state.latency = 0.1
    changes = history_rows(db)
    proc = spawn("run", "--once")
    wait_for(lambda: reached(db, "a batch committed", 0, changes), what="a batch committed")
    name = db.engine.url.database
    db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name "
             "AND pid <> pg_backend_pid()", name=name)
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err
    middle = snapshot(cli)
    sandbox.state.latency = 0
    assert cli("run", "--once").code == 0
    new = snapshot(cli)
    for external_id, values in middle.items():
        assert values in (old.get(external_id), new.get(external_id))
    assert db.query("SELECT count(*) FROM sync_runs WHERE status = 'running'") == [(0,)]
