"""Listings in worker processes (INTEGRATOR_LISTING_PROCESSES): the same database result as in threads, one
vendor login for the whole run, and a failing listing in a worker is that customer's error."""

from __future__ import annotations

import pytest

from core.sync import listing_processes


@pytest.fixture
def spread(monkeypatch):
    """How many customers each run sent to worker processes."""
    monkeypatch.setattr(listing_processes, "CHUNK", 2)  # several tasks, spread over both processes
    sent: list[int] = []
    real = listing_processes.ListingProcesses.map

    def spy(self, targets, company, cancel):
        sent.append(len(targets))
        yield from real(self, targets, company, cancel)

    monkeypatch.setattr(listing_processes.ListingProcesses, "map", spy)
    return sent


@pytest.fixture
def imported(cli, config, spread):
    assert cli("import", "customers", "also").code == 0
    return cli


def rows(db):
    return sorted(db.query("SELECT l.external_id, l.vendor_customer_id, l.name, l.quantity, l.active, l.status, "
                           "l.start_date, l.end_date FROM licences l"))


def run_with(cli, monkeypatch, processes, *args):
    monkeypatch.setenv("INTEGRATOR_LISTING_PROCESSES", str(processes))
    return cli("import", "subscriptions", "also", *args)


def test_one_and_two_processes_plan_and_write_the_same_with_one_login(imported, monkeypatch, sandbox, db, spread):
    logins = sandbox.state.calls["GetSessionToken"]
    threads = run_with(imported, monkeypatch, 1, "--dry-run")
    processes = run_with(imported, monkeypatch, 2, "--dry-run")
    assert (processes.code, processes.out, processes.err) == (threads.code, threads.out, threads.err)
    assert "create" in processes.out
    assert len(spread) == 1 and spread[0] > 2  # only the second run used worker processes
    assert sandbox.state.calls["GetSessionToken"] == logins + 2  # one login per run, none in the workers

    assert run_with(imported, monkeypatch, 2).code == 0
    assert sandbox.state.calls["GetSessionToken"] == logins + 3
    written = rows(db)
    assert len(written) > 5
    again = run_with(imported, monkeypatch, 1)  # threads find nothing left to do: the same result
    assert again.code == 0
    assert rows(db) == written
    run = imported("history", "--json").json[0]
    assert (run["created"], run["updated"], run["deactivated"]) == (0, 0, 0)


def test_a_failing_listing_in_a_worker_leaves_that_customer_untouched_and_the_run_partial(
        imported, monkeypatch, sandbox, db, spread):
    assert run_with(imported, monkeypatch, 2).code == 0
    before = rows(db)
    sub = next(s for s in sandbox.state.data.subscriptions[100011] if s["AccountId"] == 200110)
    sub["Fields"][1]["Value"] = "99"
    sandbox.inject(operation="GetSubscriptions", account_id=100011, status=500, times=-1,
                   message="Subscription service timeout")
    result = run_with(imported, monkeypatch, 2)
    assert result.code == 1 and len(spread) == 2
    assert "Fabrikam GmbH (100011): GetSubscriptions failed: Subscription service timeout" in result.err
    assert [r for r in rows(db) if r[1] == "100011"] == [r for r in before if r[1] == "100011"]
    run = imported("history", "--json").json[0]
    assert run["status"] == "partial"
    assert run["errors"] == ["Fabrikam GmbH (100011): GetSubscriptions failed: Subscription service timeout"]


def test_a_wrong_setting_is_one_clear_line(imported, monkeypatch):
    result = run_with(imported, monkeypatch, "two")
    assert result.code != 0
    assert "INTEGRATOR_LISTING_PROCESSES='two': must be a whole number of processes" in result.err
    assert "Traceback" not in result.err


def test_a_stop_terminates_the_worker_processes_within_seconds(cli, write_config, sandbox, db, monkeypatch):
    import signal

    from tests.processes import spawn
    from tests.test_stopping import WITHIN, _in_flight, _last_mapped, _slow, _stop

    write_config(timeout_seconds=300, max_concurrency=4)
    assert cli("import", "customers", "also").code == 0
    slow = _last_mapped(db)
    rule = _slow(sandbox, "GetSubscriptions", slow)
    monkeypatch.setenv("INTEGRATOR_LISTING_PROCESSES", "2")
    proc = spawn("import", "subscriptions", "also")
    _in_flight(rule)
    returncode, took, err = _stop(proc, signal.SIGINT)
    assert returncode == 130 and took < WITHIN, (took, err)
    assert "Traceback" not in err
    assert db.query("SELECT count(*) FROM licences WHERE vendor_customer_id = :c", c=slow) == [(0,)]
    assert db.query("SELECT status FROM sync_runs WHERE entity = 'subscriptions'") == [("failed",)]


@pytest.mark.parametrize("cores, load, customers, setting, wanted", [
    (2, 0.0, 10000, None, 0),  # two cores: measured slower, so only with the setting
    (4, 0.5, 10000, None, 3),
    (4, 3.5, 10000, None, 0),  # no core free
    (4, 0.5, 2000, None, 0),  # too small to be worth the start-up
    (2, 9.0, 10, "2", 2),
    (8, 0.0, 10000, "1", 0),
])
def test_how_many_processes(monkeypatch, cores, load, customers, setting, wanted):
    import plugins.also
    from core.types import Connection

    class Facade:
        def plugin(self):
            return plugins.also

    monkeypatch.setattr(listing_processes.os, "sched_getaffinity", lambda _pid: set(range(cores)))
    monkeypatch.setattr(listing_processes.os, "getloadavg", lambda: (load, load, load))
    if setting is None:
        monkeypatch.delenv("INTEGRATOR_LISTING_PROCESSES", raising=False)
    else:
        monkeypatch.setenv("INTEGRATOR_LISTING_PROCESSES", setting)
    shared = Connection(vendor="also", title="ALSO", share=lambda: print)
    assert listing_processes.processes_for(customers, shared, Facade()) == wanted
    assert listing_processes.processes_for(customers, Connection(vendor="also", title="ALSO"), Facade()) == 0
