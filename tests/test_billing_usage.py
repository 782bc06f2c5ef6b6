"""Usage lines (interface.md "Billing terms"): each vendor invoice line without a unit count is charged
in the month the vendor bills it at the vendor's amount x (1 + billing.usage_markup_percent / 100)."""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import yaml

from core.billing.usage import marked_up, usage_lines
from core.types import VendorCharge

MONTH = datetime.now(UTC).strftime("%Y-%m")


def charge(cost: str, units: str | None = None, company: str = "100010", sub: str = "900001") -> VendorCharge:
    return VendorCharge(sub, company, "Azure plan usage", date(2026, 11, 1), date(2026, 11, 30),
                        Decimal(units) if units else None, None, Decimal(cost), "EUR", "Contoso Ltd")


def test_usage_with_a_15_percent_markup_to_the_cent():
    lines, warnings = usage_lines("also", [charge("123.45"), charge("10.00", sub="900002"),
                                           charge("50.00", units="5", sub="200100")],
                                  {"100010": "Contoso Ltd"}, Decimal("15"))
    # 123.45 x 1.15 = 141.9675 -> 141.97; 10.00 x 1.15 = 11.50; the line with units is a licence's, not usage
    assert [(ln.kind.value, ln.external_id, ln.quantity, ln.as_json()["amount"], ln.as_json()["cost"],
             ln.as_json()["from"], ln.as_json()["to"]) for ln in lines] == [
        ("usage", "900001", 1, "141.97", "123.45", "2026-11-01", "2026-11-30"),
        ("usage", "900002", 1, "11.50", "10.00", "2026-11-01", "2026-11-30")]
    assert warnings == []
    assert marked_up(Decimal("0.05"), Decimal("0")) == Decimal("0.05")  # the default markup is 0


def test_usage_of_an_unmapped_company_is_reported_not_charged():
    lines, warnings = usage_lines("also", [charge("9.99", company="555")], {}, Decimal("15"))
    assert lines == [] and warnings == [
        "also usage Azure plan usage (900001) of Contoso Ltd is not charged: "
        "that vendor company is mapped to no customer"]


def with_markup(path: Path, percent: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["billing"] = {"usage_markup_percent": percent}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")


def test_billing_charges_and_reconcile_carry_the_invoices_usage(cli, write_config, sandbox):
    with_markup(write_config(set_price_and_cost=True), 15)
    assert cli("import", "customers", "also").code == 0
    assert cli("import", "subscriptions", "also").code == 0
    sandbox.state.invoice.extra_charges.append(
        {"company": 100010, "account_id": 900001, "service_name": "Azure plan usage", "cost": "123.45"})
    result = cli("billing", "charges", "--period", MONTH, "--customer", "Contoso Ltd", "--json")
    assert result.code == 0, result.err
    usage = [ln for ln in result.json if ln["kind"] == "usage"]
    assert [(ln["licence"], ln["external_id"], ln["quantity"], ln["amount"], ln["cost"]) for ln in usage] == [
        ("Azure plan usage", "900001", 1, "141.97", "123.45")]
    text = cli("billing", "charges", "--period", MONTH, "--customer", "Contoso Ltd")
    assert "usage 141.97 EUR" in text.out
    csv_out = cli("billing", "charges", "--period", MONTH, "--customer", "Contoso Ltd", "--csv")
    assert ",usage," in csv_out.out and "141.97" in csv_out.out
    reconciled = cli("billing", "reconcile", "--period", MONTH, "--customer", "Contoso Ltd", "--json")
    line = next(ln for ln in reconciled.json["lines"] if ln["external_id"] == "900001")
    assert (line["status"], line["vendor_cost"], line["charge"]) == ("matched", "123.45", "141.97")


def test_an_invoice_that_cannot_be_read_still_prints_every_charge_then_fails_with_exit_1(cli, write_config,
                                                                                      sandbox):
    write_config(set_price_and_cost=True)
    assert cli("import", "customers", "also").code == 0
    assert cli("import", "subscriptions", "also").code == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once closed
    write_config(url=f"http://127.0.0.1:{port}", set_price_and_cost=True)  # the vendor is down at billing time
    result = cli("billing", "charges", "--period", MONTH, "--json")
    assert result.code == 1
    assert {ln["customer"] for ln in result.json} >= {"Contoso Ltd"}  # the licences' charges are all there
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert f"the usage lines of ALSO for {MONTH} are missing" in result.err
    text = cli("billing", "charges", "--period", MONTH)
    assert text.code == 1 and "Contoso Ltd" in text.out and "All customers" in text.out


def test_a_markup_that_is_not_a_number_is_a_configuration_error(cli, write_config):
    with_markup(write_config(), "fifteen")
    result = cli("billing", "charges", "--period", MONTH)
    assert result.code == 2 and "usage_markup_percent" in result.err


def test_a_missing_secret_is_said_as_it_is_not_blamed_on_a_vendors_invoice(cli, write_config, sandbox, monkeypatch):
    write_config(set_price_and_cost=True)
    assert cli("import", "customers", "also").code == 0
    assert cli("import", "subscriptions", "also").code == 0
    monkeypatch.delenv("ALSO_TEST_PASSWORD")
    result = cli("billing", "charges", "--period", MONTH, "--json")
    assert result.code == 1
    assert {ln["customer"] for ln in result.json} >= {"Contoso Ltd"}
    assert result.err.count("\n") == 1 and "ALSO_TEST_PASSWORD" in result.err
    assert f"the usage lines for {MONTH} are missing" in result.err and "invoice could not be read" not in result.err
