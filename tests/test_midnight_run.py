"""A sync that runs across midnight bills all its changes on one day: the day the run started.

Each change used to be stamped when it was written, so a run that began at 23:59:58 on 31 March and
wrote a quantity change at 00:00:02 put it on 1 April, and 31 March was billed at the old quantity.
Every change of a run now carries the run's start (README, Billing). Tested on a controlled clock
that passes midnight while the sandbox serves the subscription listing.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from core.db import clock as db_clock

BEFORE_MIDNIGHT = datetime(2026, 3, 31, 23, 59, 58)
AFTER_MIDNIGHT = datetime(2026, 4, 1, 0, 0, 2)


def find(sandbox, company_id: int, sub_id: int) -> dict:
    return next(s for s in sandbox.state.data.subscriptions[company_id] if s["AccountId"] == sub_id)


@pytest.fixture
def imported(cli, write_config, sandbox, monkeypatch):
    moments = [datetime(2026, 2, 20, 2, 0)]
    monkeypatch.setattr(db_clock, "now", lambda: moments[0])
    write_config(set_price_and_cost=True)
    assert cli("import", "customers", "also").code == 0
    assert cli("import", "subscriptions", "also").code == 0
    return moments


def cross_midnight_while_listing(sandbox, monkeypatch) -> None:
    """The clock reads 23:59:58 until the sandbox has served a subscription listing, then 00:00:02."""
    listed = sandbox.state.calls["GetSubscriptions"]
    monkeypatch.setattr(db_clock, "now", lambda: BEFORE_MIDNIGHT if sandbox.state.calls["GetSubscriptions"] == listed
                        else AFTER_MIDNIGHT)


def exchange_lines(cli, period: str) -> list[tuple[str, str, int, str]]:
    result = cli("billing", "charges", "--period", period, "--customer", "Contoso Ltd", "--json")
    assert result.code == 0, result.err
    return [(ln["from"], ln["to"], ln["quantity"], ln["amount"]) for ln in result.json if ln["external_id"] == "200100"]


def test_a_run_started_before_midnight_bills_its_change_on_the_day_it_started(cli, imported, sandbox, monkeypatch):
    find(sandbox, 100010, 200100)["Fields"][1]["Value"] = "9"  # Exchange Online, 5 -> 9 at 3.10
    cross_midnight_while_listing(sandbox, monkeypatch)
    result = cli("import", "subscriptions", "also", "--json")
    assert result.code == 0 and result.json["updated"] == 1, result.err
    run = cli("history", "--json").json[0]
    assert run["started_at"].startswith("2026-03-31T23:59:58") and run["finished_at"].startswith("2026-04-01")
    change = next(c for c in cli("licences", "history", "--json").json
                  if c["external_id"] == "200100" and c["field"] == "quantity")
    assert change["changed_at"].startswith("2026-03-31T23:59:58")
    # March: 5 seats for 30 days, then 9 on the 31st (9 x 3.10 / 31 = 0.90, not 5 x 3.10 / 31 = 0.50).
    assert exchange_lines(cli, "2026-03") == [("2026-03-01", "2026-03-30", 5, "15.00"),
                                              ("2026-03-31", "2026-03-31", 9, "0.90")]
    assert exchange_lines(cli, "2026-04") == [("2026-04-01", "2026-04-30", 9, "27.90")]


def test_every_change_of_one_run_carries_the_same_moment(cli, imported, sandbox, monkeypatch):
    find(sandbox, 100010, 200100)["Fields"][1]["Value"] = "9"
    find(sandbox, 100010, 200101)["AccountState"] = "Terminated"
    cross_midnight_while_listing(sandbox, monkeypatch)
    assert cli("import", "subscriptions", "also").code == 0
    run_id = cli("history", "--json").json[0]["id"]
    stamps = {c["changed_at"] for c in cli("licences", "history", "--json").json if c["sync_run"] == run_id}
    assert len(stamps) == 1 and stamps.pop().startswith("2026-03-31T23:59:58")
