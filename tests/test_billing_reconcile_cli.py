"""``integrator billing reconcile`` against the ALSO sandbox's invoices over HTTP, with hand-computed totals.

The PSA imports the sandbox on 20 September 2026 (its history rows are dated so), so that October
is a whole month of licences; each test then makes the sandbox's October invoice differ in one way.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
import yaml
from sqlalchemy import update

from core.db.models import Licence, LicenceChange
from plugins.also.sandbox_invoices import change_quantity

IMPORTED_AT = datetime(2026, 9, 20, 9, 0)


def date_history(db, when: datetime, after_id: int = 0) -> int:
    """Pretend the history rows newer than ``after_id`` were written at ``when``; the newest id."""
    with db.engine.begin() as conn:
        conn.execute(update(LicenceChange).where(LicenceChange.id > after_id).values(changed_at=when))
    return max((row[0] for row in db.query("SELECT id FROM licence_changes")), default=0)


def synced_now(cli, write_config, db):
    write_config(set_price_and_cost=True)
    assert cli("import", "customers", "also").code == 0
    assert cli("import", "subscriptions", "also").code == 0
    date_history(db, IMPORTED_AT)
    return cli


@pytest.fixture
def synced(cli, write_config, db):
    return synced_now(cli, write_config, db)


def reconcile(cli, *args):
    return cli("billing", "reconcile", "--period", "2026-10", *args)


def contoso(cli):
    result = reconcile(cli, "--customer", "Contoso Ltd", "--json")
    return result, {ln["external_id"]: ln for ln in result.json["lines"]}


def test_a_month_without_discrepancy_reconciles_clean(synced):
    result, lines = contoso(synced)
    assert result.code == 0, result.err
    assert lines == {
        "200100": {"customer": "Contoso Ltd", "vendor": "also", "external_id": "200100",
                   "licence": "Exchange Online (Plan 1)", "status": "matched", "vendor_units": 5, "psa_quantity": 5,
                   "vendor_cost": "13.50", "charge": "15.50", "currency": "EUR", "margin": "2.00",
                   "vendor_company": "100010", "note": None},  # 5 x 2.70 billed, 5 x 3.10 charged
        "200101": {"customer": "Contoso Ltd", "vendor": "also", "external_id": "200101",
                   "licence": "Microsoft 365 Business Basic", "status": "matched", "vendor_units": 25,
                   "psa_quantity": 25, "vendor_cost": "122.50", "charge": "140.00", "currency": "EUR",
                   "margin": "17.50", "vendor_company": "100010", "note": None},  # 25 x 4.90, 25 x 5.60
    }
    assert result.json["totals"] == {"vendor_cost": "136.00", "charges": "155.50", "margin": "19.50",
                                     "leak": "0.00", "currency": "EUR"}
    everyone = reconcile(synced, "--json")
    assert everyone.code == 0
    assert {ln["status"] for ln in everyone.json["lines"]} == {"matched"}
    # every priced, active subscription of a mapped company billed in October: Wingtip's annual Dynamics
    # licence (a term from 10 January) is neither billed nor charged in October
    assert len(everyone.json["lines"]) == 13
    # Three currencies are never summed together: the totals are per currency, and `totals` gives a
    # figure only where a single currency has one (no leak anywhere: "0.00").
    assert everyone.json["totals"] == {"vendor_cost": None, "charges": None, "margin": None, "leak": "0.00",
                                       "currency": None}
    assert everyone.json["totals_by_currency"] == [
        # without Wingtip's annual licence (4 x 58.50 cost, 4 x 65.00 charged when it was a monthly one)
        {"currency": "EUR", "vendor_cost": "1683.20", "charges": "1893.30", "margin": "210.10", "leak": "0.00"},
        {"currency": "NOK", "vendor_cost": "61.20", "charges": "70.20", "margin": "9.00", "leak": "0.00"},
        {"currency": "USD", "vendor_cost": "372.60", "charges": "435.60", "margin": "63.00", "leak": "0.00"},
    ]


def test_a_charge_for_a_subscription_the_psa_does_not_have_is_a_leak_and_exits_1(synced, sandbox):
    sandbox.state.invoice.apply({"extra_charges": [{"company": 100010, "account_id": 299999, "units": 3,
                                                    "unit_cost": "4.00", "service_name": "Visio Plan 2"}]})
    result, lines = contoso(synced)
    assert result.code == 1
    assert lines["299999"] == {"customer": "Contoso Ltd", "vendor": "also", "external_id": "299999",
                               "licence": "Visio Plan 2", "status": "leak", "vendor_units": 3, "psa_quantity": None,
                               "vendor_cost": "12.00", "charge": None, "currency": "EUR", "margin": "-12.00",
                               "vendor_company": "100010",
                               "note": "billed by the vendor; the PSA has no such licence"}
    # 136.00 + 3 x 4.00 billed; 155.50 charged
    assert result.json["totals"] == {"vendor_cost": "148.00", "charges": "155.50", "margin": "7.50",
                                     "leak": "12.00", "currency": "EUR"}
    assert "1 leak:" in reconcile(synced, "--customer", "Contoso Ltd").err


def test_a_licence_deactivated_in_the_psa_but_still_billed_is_a_leak(synced, db):
    with db.engine.begin() as conn:  # deactivated by hand in the PSA, no history: inactive all October
        conn.execute(update(Licence).where(Licence.external_id == "200100").values(active=False))
    result, lines = contoso(synced)
    assert result.code == 1 and lines["200100"]["status"] == "leak"
    assert result.json["totals"]["leak"] == "13.50"


def test_units_differing_are_reported_with_both_counts(synced, sandbox):
    sandbox.state.invoice.apply({"units": {"200101": 30}})
    result, lines = contoso(synced)
    assert result.code == 0
    line = lines["200101"]
    assert (line["status"], line["vendor_units"], line["psa_quantity"]) == ("units_differ", 30, 25)
    assert (line["vendor_cost"], line["charge"], line["note"]) == ("147.00", "140.00", "units differ on 31 of 31 days")
    # 13.50 + 30 x 4.90 = 160.50 billed; 155.50 charged
    assert result.json["totals"] == {"vendor_cost": "160.50", "charges": "155.50", "margin": "-5.00",
                                     "leak": "0.00", "currency": "EUR"}


def test_a_price_below_the_vendors_cost_is_a_negative_margin(synced, sandbox):
    sandbox.state.invoice.apply({"unit_costs": {"200100": "3.50"}})
    result, lines = contoso(synced)
    assert result.code == 0
    assert (lines["200100"]["status"], lines["200100"]["vendor_cost"], lines["200100"]["margin"]) == (
        "negative_margin", "17.50", "-2.00")  # 5 x 3.50 billed, 5 x 3.10 charged
    assert result.json["totals"]["margin"] == "15.50"  # 155.50 - (17.50 + 122.50)


def test_a_licence_the_vendor_does_not_bill_is_not_billed_by_vendor(synced, sandbox):
    sandbox.state.invoice.apply({"omit": [200100]})
    result, lines = contoso(synced)
    assert result.code == 0
    assert (lines["200100"]["status"], lines["200100"]["vendor_cost"], lines["200100"]["charge"],
            lines["200100"]["vendor_units"], lines["200100"]["psa_quantity"]) == (
        "not_billed_by_vendor", None, "15.50", None, 5)
    assert result.json["totals"] == {"vendor_cost": "122.50", "charges": "155.50", "margin": "33.00",
                                     "leak": "0.00", "currency": "EUR"}


def test_a_company_without_a_mapping_is_listed_as_unmapped(synced, sandbox):
    sandbox.state.invoice.apply({"extra_charges": [{"company": 100099, "account_id": 299990, "units": 2,
                                                    "unit_cost": "6.00"}]})
    result = reconcile(synced, "--json")
    assert result.code == 0  # not a leak: nobody to charge yet
    (line,) = [ln for ln in result.json["lines"] if ln["status"] != "matched"]
    assert (line["status"], line["customer"], line["vendor_company"], line["vendor_cost"]) == (
        "unmapped", None, "100099", "12.00")
    assert result.json["customers"][-1] == {"customer": None, "currency": "EUR", "vendor_cost": "12.00",
                                            "charges": "0.00", "margin": "-12.00", "leak": "0.00"}


def test_a_change_mid_month_is_compared_stretch_by_stretch(synced, sandbox, db):
    """5 -> 8 licences from 15 October, seen by the sync of that day: both sides bill two stretches."""
    sub = next(s for s in sandbox.state.data.subscriptions[100010] if s["AccountId"] == 200100)
    change_quantity(sub, sandbox.state.invoice, 8, date(2026, 10, 15))
    last = date_history(db, IMPORTED_AT)
    assert synced("import", "subscriptions", "also").code == 0
    date_history(db, datetime(2026, 10, 15, 2, 0), after_id=last)
    result, lines = contoso(synced)
    assert result.code == 0
    # billed: 2.70 x 5 x 14/31 = 6.10 + 2.70 x 8 x 17/31 = 11.85; charged: 3.10 x 5 x 14/31 = 7.00 + 13.60
    assert (lines["200100"]["status"], lines["200100"]["vendor_units"], lines["200100"]["psa_quantity"],
            lines["200100"]["vendor_cost"], lines["200100"]["charge"]) == ("matched", 8, 8, "17.95", "20.60")
    # A sync that saw it two days late differs on those two days.
    date_history(db, datetime(2026, 10, 17, 2, 0), after_id=last)
    result, lines = contoso(synced)
    assert (lines["200100"]["status"], lines["200100"]["note"]) == ("units_differ", "units differ on 2 of 31 days")


def test_csv_has_a_header_and_one_row_per_line(synced, sandbox):
    sandbox.state.invoice.apply({"units": {"200101": 30}})
    result = reconcile(synced, "--customer", "Contoso Ltd", "--csv")
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert list(rows[0]) == ["customer", "vendor", "external_id", "licence", "status", "vendor_units",
                             "psa_quantity", "vendor_cost", "charge", "margin", "currency", "vendor_company", "note"]
    assert [(r["external_id"], r["status"], r["vendor_cost"], r["charge"]) for r in rows] == [
        ("200100", "matched", "13.50", "15.50"), ("200101", "units_differ", "147.00", "140.00")]


def test_csv_text_that_a_spreadsheet_would_run_is_shown_not_run(synced, sandbox):
    sandbox.state.invoice.apply({  # a vendor's service name, on a leak line
        "extra_charges": [{"company": 100010, "account_id": 299999, "units": 1, "unit_cost": "12.00",
                           "service_name": '=HYPERLINK("http://evil.example","Exchange")'}],
        "unit_costs": {"200100": "3.50"}})  # and a negative margin: "-2.00"
    rows = list(csv.DictReader(io.StringIO(reconcile(synced, "--customer", "Contoso Ltd", "--csv").out)))
    leak = next(r for r in rows if r["external_id"] == "299999")
    assert leak["licence"] == '\'=HYPERLINK("http://evil.example","Exchange")'
    assert next(r for r in rows if r["external_id"] == "200100")["margin"] == "-2.00"  # money stays a number


def test_the_table_shows_each_customers_totals(synced):
    result = reconcile(synced, "--customer", "Contoso Ltd")
    assert result.code == 0
    assert "200101" in result.out and "matched" in result.out
    total = next(line for line in result.out.splitlines() if line.startswith("Contoso Ltd  EUR"))
    assert total.split()[-4:] == ["136.00", "155.50", "19.50", "0.00"]


def test_a_plugin_without_invoice_data_is_reported_and_no_error(cli, write_config, tmp_path, also_settings):
    import shutil
    from pathlib import Path

    export = tmp_path / "westcoast.json"
    shutil.copy(Path(__file__).parent.parent / "config" / "westcoast-export.example.json", export)
    write_config(integrations={"also": {**also_settings, "set_price_and_cost": True},
                               "westcoast_stub": {"file": str(export)}})
    result = cli("billing", "reconcile", "--period", "2026-10", "--json")
    assert result.code == 0, result.err
    assert result.json["no_invoice_data"] == ["westcoast_stub"]
    assert "westcoast_stub: no invoice data" in result.err
    only = cli("billing", "reconcile", "--period", "2026-10", "--vendor", "westcoast_stub", "--json")
    assert (only.code, only.json["lines"], only.json["no_invoice_data"]) == (0, [], ["westcoast_stub"])


def test_a_leak_in_one_currency_is_totalled_across_customers_of_several(synced, sandbox):
    sandbox.state.invoice.apply({"extra_charges": [{"company": 100011, "account_id": 299999, "units": 1,
                                                    "unit_cost": "12.00"}]})
    result = reconcile(synced, "--json")
    assert result.code == 1
    assert result.json["totals"]["leak"] == "12.00"  # only EUR leaks
    assert result.json["totals"]["vendor_cost"] is None  # EUR, NOK and USD costs are never added up


def test_a_leak_raises_the_leak_alert(synced, sandbox, config):
    from tests.test_alerts import Receiver

    receiver = Receiver()
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["alerts"] = {"webhook_url": receiver.url, "on": ["leak"]}
        config.write_text(yaml.safe_dump(data), encoding="utf-8")
        assert reconcile(synced).code == 0
        assert receiver.received == []
        sandbox.state.invoice.apply({"extra_charges": [{"company": 100011, "account_id": 299999, "units": 1,
                                                        "unit_cost": "9.99"}]})
        assert reconcile(synced).code == 1
        (alert,) = receiver.received
        assert alert["event"] == "leak" and alert["period"] == "2026-10"
        assert [(ln["customer"], ln["external_id"], ln["vendor_cost"]) for ln in alert["lines"]] == [
            ("Fabrikam GmbH", "299999", "9.99")]
    finally:
        receiver.shutdown()
        receiver.server_close()


@pytest.mark.parametrize("args, message", [
    (["--period", "2026-13"], "there is no month 13"),
    (["--period", "2999-01"], "has not begun"),
    (["--period", "2026-10", "--customer", "Nobody"], "no customer is named 'Nobody'"),
    (["--period", "2026-10", "--json", "--csv"], "cannot be used together"),
])
def test_usage_errors_are_one_line_and_exit_2(synced, args, message):
    result = synced("billing", "reconcile", *args)
    assert result.code == 2 and message in result.err and len(result.err.strip().splitlines()) == 1


def test_a_month_before_the_first_import_is_all_leaks_and_says_why(cli, write_config, db):
    write_config(set_price_and_cost=True)
    assert cli("import", "customers", "also").code == 0
    assert cli("import", "subscriptions", "also").code == 0
    date_history(db, datetime(2026, 10, 20, 9, 0))
    result = cli("billing", "reconcile", "--period", "2026-10", "--customer", "Contoso Ltd", "--json")
    assert result.code == 0
    assert {ln["status"] for ln in result.json["lines"]} == {"units_differ"}  # charged from the 20th only
    assert "the PSA's licence history begins on 2026-10-20" in result.err
    september = cli("billing", "reconcile", "--period", "2026-09", "--customer", "Contoso Ltd", "--json")
    assert september.code == 1 and {ln["status"] for ln in september.json["lines"]} == {"leak"}
    assert september.json["totals"]["leak"] == "136.00"


def test_an_invoice_the_vendor_refuses_is_one_line_and_exit_1(synced, sandbox):
    sandbox.inject(operation="GetLatestInvoicesForPeriod", message="Billing interval not found.")
    result = reconcile(synced, "--json")
    assert result.code == 1 and result.out == ""
    assert result.err.strip() == "integrator: error: GetLatestInvoicesForPeriod failed: Billing interval not found."


def test_a_vendors_year_up_front_matches_the_psas_term_charge(cli, write_config, db, sandbox):
    """Wingtip's Dynamics licence renews on 10 October: ALSO bills the year (4 x 58.50), the PSA charges
    it (4 x 65.00), one line each, matched (not twelve months of units)."""
    sub = next(s for s in sandbox.state.data.subscriptions[100017] if s["AccountId"] == 200170)
    sub["BillingStartDate"] = "2025-10-10T00:00:00"
    synced_now(cli, write_config, db)
    result = reconcile(cli, "--customer", "Wingtip Oy", "--json")
    assert result.code == 0, result.err
    assert [(ln["external_id"], ln["status"], ln["vendor_units"], ln["psa_quantity"], ln["vendor_cost"],
             ln["charge"], ln["margin"]) for ln in result.json["lines"]] == [
        ("200170", "matched", 4, 4, "234.00", "260.00", "26.00")]
    charges = cli("billing", "charges", "--period", "2026-10", "--customer", "Wingtip Oy", "--json")
    assert [(ln["kind"], ln["from"], ln["to"], ln["amount"]) for ln in charges.json] == [
        ("term", "2026-10-10", "2027-10-09", "260.00")]
