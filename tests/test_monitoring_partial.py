"""Monitoring after a partial run (interface.md): a run that reached its end counts as a completed sync.

Two ALSO companies with the same name (which a person maps by hand) make every customer import
``partial``. That must not read as "never synced successfully": ``status`` counts the completed
partial run for staleness and lists its errors; ``status --strict`` exits 3 on it; the daemon's
catch-up does not re-sync at every start.
"""

from __future__ import annotations

import schedule

from core.sync.scheduler import Daemon
from plugins.also.sandbox_data import _company
from tests.test_integrator import make_app

TWIN_ERROR = "Fabrikam GmbH (100030): another company, Fabrikam GmbH (100011), has the same name"


def add_twin(sandbox) -> None:
    sandbox.state.data.companies.append(_company(100030, "Fabrikam GmbH", "Other 1", "Hamburg", "20095", "Germany"))


def partial_run(cli, sandbox):
    add_twin(sandbox)
    result = cli("run", "--once")
    assert result.code == 1, result.err  # the run itself is partial: a person must map the twin
    runs = cli("history", "--json").json
    assert {(r["entity"], r["status"]) for r in runs} == {("customers", "partial"), ("subscriptions", "ok")}
    return runs


def test_a_completed_partial_run_is_not_stale_and_status_lists_its_errors(cli, config, sandbox, db):
    runs = partial_run(cli, sandbox)
    result = cli("status", "--json")
    assert result.code == 0, result.err
    also = result.json["integrations"]["also"]
    assert result.json["stale"] == [] and result.json["ok"] is True
    customers_run = next(r for r in runs if r["entity"] == "customers")
    assert also["last_completed"][:19] == customers_run["finished_at"][:19]
    assert also["last_success"] is None  # nothing has synced without an error yet
    assert any(TWIN_ERROR in e for e in also["errors"]), also["errors"]
    text = cli("status")
    assert text.code == 0
    assert "never" not in text.out and TWIN_ERROR in text.out


def test_a_partial_run_goes_stale_only_when_older_than_max_age(cli, config, sandbox, db):
    partial_run(cli, sandbox)
    db.age_runs(hours=30)
    result = cli("status")
    assert result.code == 3
    assert "also: last completed sync 30.0 hours ago" in result.err and "never" not in result.err
    assert cli("status", "--max-age-hours", "48").code == 0


def test_strict_status_exits_3_when_the_last_run_was_partial(cli, config, sandbox, db):
    partial_run(cli, sandbox)
    result = cli("status", "--strict", "--json")
    assert result.code == 3
    assert result.json["ok"] is False and result.json["strict"] is True
    assert any(line.startswith("also: last customers run was partial") for line in result.json["stale"])
    assert "last customers run was partial" in result.err
    # Mapped by hand, the next run is ok again: strict passes.
    assert cli("mappings", "add", "also", "--external-id", "100030", "--customer", "Fabrikam GmbH").code == 0
    assert cli("run", "--once").code == 0
    assert cli("status", "--strict").code == 0


def test_the_daemon_does_not_catch_up_after_a_completed_partial_run(cli, config, sandbox, db):
    partial_run(cli, sandbox)
    daemon = Daemon(make_app(config), schedule.Scheduler())
    assert daemon.catch_up() == []
    db.age_runs(hours=48)
    assert daemon.catch_up() == ["also"]


def test_a_failed_run_is_not_a_completed_sync(cli, config, sandbox, db):
    sandbox.stop()  # the vendor is unreachable: both entities fail
    assert cli("run", "--once").code == 1
    result = cli("status", "--json")
    assert result.code == 3 and result.json["integrations"]["also"]["last_completed"] is None


def test_the_console_shows_a_completed_partial_run_as_the_last_sync(cli, config, sandbox, db):
    from starlette.testclient import TestClient

    from core.web.app import create_app
    from core.web.security import hash_password, store_password
    from tests.web_support import CONSOLE_PASSWORD, log_in, make_app

    partial_run(cli, sandbox)
    app = make_app(config)
    store_password(app.sessions, hash_password(CONSOLE_PASSWORD))
    with TestClient(create_app(app), base_url="http://127.0.0.1:8780") as client:
        assert log_in(client).status_code == 303
        for page in ("/integrations", "/history"):
            html = client.get(page).text
            assert "<dt>Last sync</dt><dd>never</dd>" not in html, page
            assert "(partial)</dd>" in html, page
