"""``integrator billing charges`` end to end: syncs against the sandbox on a controlled clock, the
sandbox's data changed between them, then the month's charges as text, JSON and CSV.

The scenario is the README's worked example (November 2026, 30 days, Contoso Ltd): Exchange Online
(Plan 1), 5 at 3.10 (cost 2.70), goes to 10 on the 21st; Microsoft 365 Business Basic, 25 at 5.60
(cost 4.90), is terminated on the 11th.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.db import clock as db_clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The time syncs record (naive UTC); tests set ``clock[0]``."""
    moments = [datetime(2026, 10, 15, 2, 0)]
    monkeypatch.setattr(db_clock, "now", lambda: moments[0])
    return moments


def with_billing(path: Path, **billing: Any) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["billing"] = billing
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def find(sandbox: Any, company_id: int, sub_id: int) -> dict[str, Any]:
    return next(s for s in sandbox.state.data.subscriptions[company_id] if s["AccountId"] == sub_id)


@pytest.fixture
def november(cli, write_config, sandbox, clock):
    """Three syncs: mid-October (first import), 11 November (termination), 21 November (increase)."""
    write_config(set_price_and_cost=True)
    assert cli("import", "customers", "also").code == 0
    assert cli("import", "subscriptions", "also").code == 0
    clock[0] = datetime(2026, 11, 11, 2, 0)
    find(sandbox, 100010, 200101)["AccountState"] = "Terminated"
    assert cli("import", "subscriptions", "also").code == 0
    clock[0] = datetime(2026, 11, 21, 2, 0)
    find(sandbox, 100010, 200100)["Fields"][1]["Value"] = "10"
    assert cli("import", "subscriptions", "also").code == 0
    return cli


def test_arrears_json_is_the_worked_example_to_the_cent(november):
    result = november("billing", "charges", "--period", "2026-11", "--customer", "Contoso Ltd", "--json")
    assert result.code == 0, result.err
    assert [(ln["licence"], ln["from"], ln["to"], ln["days"], ln["quantity"], ln["unit_price"], ln["amount"],
             ln["unit_cost"], ln["cost"], ln["kind"]) for ln in result.json] == [
        ("Exchange Online (Plan 1)", "2026-11-01", "2026-11-20", 20, 5, "3.10", "10.33", "2.70", "9.00", "prorata"),
        ("Exchange Online (Plan 1)", "2026-11-21", "2026-11-30", 10, 10, "3.10", "10.33", "2.70", "9.00", "prorata"),
        ("Microsoft 365 Business Basic", "2026-11-01", "2026-11-10", 10, 25, "5.60", "46.67", "4.90", "40.83",
         "prorata"),
    ]
    assert {(ln["customer"], ln["vendor"], ln["period_days"], ln["currency"]) for ln in result.json} == {
        ("Contoso Ltd", "also", 30, "EUR")}


def test_arrears_text_shows_each_customer_its_total_cost_and_margin_then_the_totals(november):
    result = november("billing", "charges", "--period", "2026-11")
    assert result.code == 0, result.err
    contoso = result.out.split("\nContoso Ltd\n")[1].split("\n\n")[0]
    assert "total 67.33 EUR, cost 58.83, margin 8.50" in contoso
    assert "All customers" in result.out
    assert "Fabrikam GmbH" in result.out and "total 174.00 EUR" in result.out  # 12*11.70 + 12*2.80
    # Wingtip's Dynamics licence is billed annually at ALSO (from 10 January): nothing in November ...
    assert "Dynamics 365 Business Central Essentials" not in result.out
    assert "by kind: recurring 1737.80 EUR, recurring 70.20 NOK, recurring 435.60 USD, prorata 67.33 EUR" in result.out
    # ... and its whole next year in January: 4 x 65.00
    january = november("billing", "charges", "--period", "2027-01", "--customer", "Wingtip Oy", "--json")
    assert [(ln["licence"], ln["kind"], ln["from"], ln["to"], ln["days"], ln["period_days"], ln["amount"])
            for ln in january.json if ln["kind"] != "recurring"] == [
        ("Dynamics 365 Business Central Essentials", "term", "2027-01-10", "2028-01-09", 365, 365, "260.00")]


def test_advance_bills_december_and_corrects_november(november):
    result = november("billing", "charges", "--period", "2026-12", "--customer", "Contoso Ltd", "--mode",
                      "advance", "--json")
    assert result.code == 0, result.err
    assert [(ln["kind"], ln["from"], ln["to"], ln["quantity"], ln["amount"], ln["cost"]) for ln in result.json] == [
        ("recurring", "2026-12-01", "2026-12-31", 10, "31.00", "27.00"),
        ("prorata", "2026-11-21", "2026-11-30", 5, "5.17", "4.50"),
        ("prorata", "2026-11-11", "2026-11-30", -25, "-93.33", "-81.67"),
    ]
    text = november("billing", "charges", "--period", "2026-12", "--customer", "Contoso Ltd", "--mode", "advance")
    assert "total -57.16 EUR, cost -50.17, margin -6.99" in text.out


def test_csv_is_what_an_accountant_imports(november):
    result = november("billing", "charges", "--period", "2026-11", "--customer", "Contoso Ltd", "--csv")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert list(rows[0]) == ["customer", "vendor", "external_id", "licence", "kind", "from", "to", "days",
                             "period_days", "quantity", "unit_price", "amount", "unit_cost", "cost", "currency"]
    assert [r["amount"] for r in rows] == ["10.33", "10.33", "46.67"]
    assert rows[2]["external_id"] == "200101"


def test_the_configured_mode_and_time_zone_are_used(november, write_config):
    path = write_config(set_price_and_cost=True)
    with_billing(path, mode="advance", timezone="Europe/Zurich")
    result = november("billing", "charges", "--period", "2026-12", "--customer", "Contoso Ltd", "--json")
    assert result.code == 0, result.err
    assert [ln["kind"] for ln in result.json] == ["recurring", "prorata", "prorata"]
    assert "Europe/Zurich" in november("billing", "charges", "--period", "2026-12").out


def test_a_licence_without_a_price_gives_a_null_amount_and_a_warning(november, sandbox, clock):
    find(sandbox, 100011, 200111)["PriceableItems"] = []
    clock[0] = datetime(2026, 11, 25, 2, 0)
    assert november("import", "subscriptions", "also").code == 0
    result = november("billing", "charges", "--period", "2026-12", "--customer", "Fabrikam GmbH", "--json")
    assert result.code == 0
    defender = [ln for ln in result.json if ln["external_id"] == "200111"]
    assert [(ln["amount"], ln["unit_price"]) for ln in defender] == [(None, None)]
    assert "Microsoft Defender for Business (also 200111) has no unit price" in result.err
    assert len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--period", "2026-13"], "there is no month 13"),
    (["--period", "November"], "YYYY-MM"),
    (["--period", "2026-11", "--customer", "Nobody Ltd"], "no customer is named 'Nobody Ltd'"),
    (["--period", "2026-11", "--vendor", "acme"], "no vendor named 'acme'"),
    (["--period", "2026-11", "--json", "--csv"], "cannot be used together"),
])
def test_usage_errors_are_one_line_and_exit_2(cli, config, args, message):
    result = cli("billing", "charges", *args)
    assert result.code == 2
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err


def test_a_bad_time_zone_is_a_config_error_naming_the_key(cli, config):
    with_billing(config, timezone="Mars/Olympus")
    result = cli("billing", "charges", "--period", "2026-11")
    assert result.code != 0
    assert "billing.timezone" in result.err and "Mars/Olympus" in result.err


def test_no_licences_no_charges(cli, config):
    result = cli("billing", "charges", "--period", "2026-11", "--vendor", "also")
    assert result.code == 0
    assert "No charges" in result.out
    assert cli("billing", "charges", "--period", "2026-11", "--json").json == []


def test_the_readmes_worked_example_is_what_the_command_prints(november):
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("**Worked example**")[1].split("### See pro-rata")[0]
    blocks = [block.split("\n", 1)[1] for block in section.split("```\n$ ")[1:]]
    assert len(blocks) == 2
    arrears = november("billing", "charges", "--period", "2026-11", "--customer", "Contoso Ltd").out
    advance = november("billing", "charges", "--period", "2026-12", "--customer", "Contoso Ltd", "--mode",
                       "advance").out
    for block, out in zip(blocks, (arrears, advance), strict=True):
        shown = [line for line in block.split("```")[0].splitlines() if line and line != "..."]
        assert shown and all(line in out.splitlines() for line in shown), shown


def test_vendor_filter_keeps_that_vendors_licences(november):
    everything = november("billing", "charges", "--period", "2026-11", "--json").json
    assert november("billing", "charges", "--period", "2026-11", "--vendor", "also", "--json").json == everything
    # an installed vendor that is not configured: exit 2, as every command taking a vendor answers
    unconfigured = november("billing", "charges", "--period", "2026-11", "--vendor", "westcoast_stub", "--json")
    assert unconfigured.code == 2 and "integrations.westcoast_stub is not configured" in unconfigured.err


def test_a_sync_at_2330_utc_counts_from_the_next_day_in_zurich(november, sandbox, clock, write_config):
    """A licence first seen by a sync at 23:30 UTC on 30 November: the 30th in UTC, 1 December in Zurich."""
    from plugins.also.sandbox import subscription

    sandbox.state.data.subscriptions[100021].append(subscription(200212, 100021, "Teams Premium", "4", price=7.5,
                                                                 cost=6.0))
    clock[0] = datetime(2026, 11, 30, 23, 30)
    assert november("import", "subscriptions", "also").code == 0

    def teams(period: str) -> list[tuple[str, str, str]]:
        lines = november("billing", "charges", "--period", period, "--customer", "Žilina Systems s.r.o.",
                         "--json").json
        return [(ln["from"], ln["to"], ln["amount"]) for ln in lines if ln["external_id"] == "200212"]

    assert teams("2026-11") == [("2026-11-30", "2026-11-30", "1.00")]  # 4*7.50*1/30
    with_billing(write_config(set_price_and_cost=True), timezone="Europe/Zurich")
    assert teams("2026-11") == []
    assert teams("2026-12") == [("2026-12-01", "2026-12-31", "30.00")]  # 4*7.50


def test_the_customer_is_found_however_its_name_is_typed(november):
    # `licences list --customer` finds " Contoso Ltd " (and a name typed decomposed on a Mac); so must billing.
    result = november("billing", "charges", "--period", "2026-11", "--customer", " Contoso Ltd ", "--json")
    assert result.code == 0, result.err
    assert {ln["customer"] for ln in result.json} == {"Contoso Ltd"} and len(result.json) == 3


def test_a_sync_committing_while_charges_are_read_never_makes_a_change_retroactive(november, sandbox, clock,
                                                                                  database_url, monkeypatch):
    # The charges read the licence rows and their history in two queries. A sync that commits between
    # them must not show a licence's new quantity without its history row: the ledger would then hold
    # the new quantity since the previous change (Exchange Online billed at 20 from 21 November).
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from core.billing.report import BillingSettings, Period, compute_charges

    calls: list[str] = []
    real_execute = Session.execute

    def execute(self, statement, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append("query")
        if len(calls) == 2:  # between the two reads: a sync on 5 December raises Exchange Online to 20
            clock[0] = datetime(2026, 12, 5, 2, 0)
            find(sandbox, 100010, 200100)["Fields"][1]["Value"] = "20"
            monkeypatch.setattr(Session, "execute", real_execute)
            assert november("import", "subscriptions", "also").code == 0
            monkeypatch.setattr(Session, "execute", execute)
        return real_execute(self, statement, *args, **kwargs)

    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            monkeypatch.setattr(Session, "execute", execute)
            report = compute_charges(session, Period(2026, 11), BillingSettings(), customer="Contoso Ltd")
            monkeypatch.setattr(Session, "execute", real_execute)
    finally:
        engine.dispose()
    assert len(calls) >= 2
    assert [(ln.external_id, ln.start.day, ln.quantity, str(ln.amount)) for ln in report.lines] == [
        ("200100", 1, 5, "10.33"), ("200100", 21, 10, "10.33"), ("200101", 1, 25, "46.67")]
