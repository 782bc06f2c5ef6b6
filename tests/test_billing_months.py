"""A month's charges say what they cannot show by themselves: the running month (in arrears) is
"projected to the month's end", and a month before the licence history starts says "history starts
YYYY-MM-DD": in `billing charges` and on the console's Billing page."""

from __future__ import annotations

from datetime import datetime

import pytest
from starlette.testclient import TestClient

from core.db import clock as db_clock
from core.web.app import create_app
from core.web.security import hash_password, store_password
from tests.web_support import CONSOLE_PASSWORD, log_in, make_app


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    moments = [datetime(2026, 11, 15, 2, 0)]
    monkeypatch.setattr(db_clock, "now", lambda: moments[0])
    return moments


@pytest.fixture
def imported(cli, write_config, sandbox, clock):
    """The first import on 15 November 2026; "today" is then 20 November."""
    write_config(set_price_and_cost=True)
    assert cli("import", "customers", "also").code == 0
    assert cli("import", "subscriptions", "also").code == 0
    clock[0] = datetime(2026, 11, 20, 9, 0)
    return cli


def test_a_month_before_the_first_import_says_when_history_starts(imported):
    result = imported("billing", "charges", "--period", "2026-10")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "Charges for 2026-10 (arrears, days in UTC)"
    assert lines[1].startswith("History starts 2026-11-15: the integrator knew nothing of this month")
    assert imported("billing", "charges", "--period", "2026-10", "--json").json == []  # the JSON is unchanged


def test_the_running_month_is_projected_to_its_end(imported, clock):
    result = imported("billing", "charges", "--period", "2026-11")
    assert "History starts 2026-11-15: this month is charged from that day." in result.out
    assert ("This month is still running: its charges are projected to the month's end (2026-11-30) from the "
            "licences as they stand on 2026-11-20.") in result.out
    assert "projected" not in imported("billing", "charges", "--period", "2026-11", "--mode", "advance").out
    clock[0] = datetime(2026, 12, 2, 9, 0)
    done = imported("billing", "charges", "--period", "2026-11").out
    assert "projected" not in done and "History starts 2026-11-15" in done
    assert "History starts" not in imported("billing", "charges", "--period", "2026-12").out


def test_an_empty_database_says_there_is_no_history_yet(cli, config):
    result = cli("billing", "charges", "--period", "2026-10")
    assert result.code == 0 and "No licence history yet" in result.out


def test_the_billing_page_says_the_same(imported, config):
    app = make_app(config)
    store_password(app.sessions, hash_password(CONSOLE_PASSWORD))
    with TestClient(create_app(app), base_url="http://127.0.0.1:8780") as client:
        log_in(client)
        before = client.get("/billing?period=2026-10").text
        assert "History starts 2026-11-15: the integrator knew nothing of this month" in before
        running = client.get("/billing?period=2026-11").text
        assert "projected to the month&#39;s end (2026-11-30)" in running
        assert "projected" not in client.get("/billing?period=2026-11&mode=advance").text
