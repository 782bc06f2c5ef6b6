"""ALSO's invoices as vendor charges: the client, the mapping and the sandbox's invoices, over HTTP on loopback."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from core.errors import VendorFaultError
from plugins.also import sandbox as sb
from plugins.also.client import AlsoClient
from plugins.also.invoices import invoices_to_charges, list_charges, parse_charge_interval
from plugins.also.mapping import RecordError
from plugins.also.sandbox_invoices import change_quantity


@pytest.fixture
def client(sandbox):
    c = AlsoClient(sandbox.url, sb.DEFAULT_USERNAME, sb.DEFAULT_PASSWORD, retries=1, backoff=0.01, timeout=5)
    yield c
    c.close()


def charges_of(client, year=2026, month=10):
    listing = list_charges(client, year, month)
    assert listing.problems == []
    return listing.items


def by_sub(charges):
    found: dict[str, list] = {}
    for charge in charges:
        found.setdefault(charge.subscription_external_id, []).append(charge)
    return found


def control(sandbox, **command):
    request = urllib.request.Request(sandbox.url + "/_sandbox/control", data=json.dumps(command).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def test_a_closed_month_bills_each_priced_subscription_quantity_times_purchase_price(client, sandbox):
    charges = by_sub(charges_of(client))
    (exchange,) = charges["200100"]
    assert (exchange.customer_external_id, exchange.customer_name, exchange.service_name) == (
        "100010", "Contoso Ltd", "Exchange Online (Plan 1)")
    assert (exchange.start, exchange.end) == (date(2026, 10, 1), date(2026, 10, 31))
    assert (exchange.units, exchange.unit_cost, exchange.cost, exchange.currency) == (
        D(5), D("2.7"), D("13.5"), "EUR")  # 5 x 2.70
    assert charges["200151"][0].cost == D("57.6") and charges["200151"][0].currency == "USD"  # 18 x 3.20
    # Terminated subscriptions, the terminated company and the unpriced Azure plan are not billed.
    assert not {"200102", "200190", "200121"} & set(charges)
    assert sandbox.state.calls["GetLatestInvoicesForPeriod"] == 1


def test_a_quantity_change_mid_month_is_billed_pro_rata_in_two_stretches(client, sandbox):
    sub = next(s for s in sandbox.state.data.subscriptions[100010] if s["AccountId"] == 200100)
    change_quantity(sub, sandbox.state.invoice, 8, date(2026, 10, 15))
    before, after = sorted(by_sub(charges_of(client))["200100"], key=lambda c: c.start)
    # 5 units for 14 of 31 days: 2.70 x 5 x 14 / 31 = 6.096.. -> 6.10; 8 units for 17 days: 11.845.. -> 11.85
    assert (before.start, before.end, before.units, before.cost) == (date(2026, 10, 1), date(2026, 10, 14), 5,
                                                                     D("6.1"))
    assert (after.start, after.end, after.units, after.cost) == (date(2026, 10, 15), date(2026, 10, 31), 8,
                                                                 D("11.85"))
    # September is still billed at the old quantity, November at the new one.
    assert by_sub(charges_of(client, 2026, 9))["200100"][0].units == 5
    assert sub["Fields"][1]["Value"] == "8"


def test_controls_inject_an_unknown_subscription_other_units_and_another_price(client, sandbox):
    control(sandbox, invoice={"extra_charges": [{"company": 100010, "account_id": 299999, "units": 3,
                                                 "unit_cost": "4.00", "service_name": "Visio Plan 2"}],
                              "units": {"200101": 30}, "unit_costs": {"200100": "3.50"}, "omit": [200110]})
    charges = by_sub(charges_of(client))
    assert (charges["299999"][0].units, charges["299999"][0].cost) == (3, D("12"))  # 3 x 4.00
    assert (charges["200101"][0].units, charges["200101"][0].cost) == (30, D("147"))  # 30 x 4.90
    assert charges["200100"][0].cost == D("17.5")  # 5 x 3.50
    assert "200110" not in charges and "200111" in charges
    control(sandbox, invoice={"clear": True})
    assert "299999" not in by_sub(charges_of(client))


def test_the_current_month_reads_the_preview_and_a_future_month_reads_nothing(client, sandbox):
    today = datetime.now(UTC).date()
    assert charges_of(client, today.year, today.month)  # the sandbox previews the real current month
    assert sandbox.state.calls["GetPreviewInvoices"] == 1
    later = date(today.year + 1, 1, 1)
    assert charges_of(client, later.year, later.month) == []
    assert sandbox.state.calls["GetLatestInvoicesForPeriod"] == 0


def test_an_open_month_has_no_closed_invoice_yet(client, sandbox):
    sandbox.state.invoice.today = date(2026, 10, 20)
    assert client.get_invoices_for_period(2026, 10) == []
    # every company with a priced subscription billed in September (not Wingtip: its annual term renews in January)
    assert len(client.get_invoices_for_period(2026, 9)) == 9
    assert client.call("GetLatestInvoices")[0]["BillingInterval"] == "09/2026"


def test_an_invoice_fault_is_a_vendor_error_with_alsos_message(client, sandbox):
    sandbox.inject(operation="GetLatestInvoicesForPeriod", message="Billing interval not found.")
    with pytest.raises(VendorFaultError, match="GetLatestInvoicesForPeriod failed: Billing interval not found"):
        list_charges(client, 2026, 10)


def test_charge_intervals_end_on_the_day_after_the_last_day_billed():
    assert parse_charge_interval("01.01.2021 - 01.02.2021") == (date(2021, 1, 1), date(2021, 1, 31))
    assert parse_charge_interval("15.10.2026 - 01.11.2026") == (date(2026, 10, 15), date(2026, 10, 31))
    assert parse_charge_interval("2026-10-01 - 2026-11-01") == (date(2026, 10, 1), date(2026, 10, 31))
    assert parse_charge_interval("03.10.2026 - 03.10.2026") == (date(2026, 10, 3), date(2026, 10, 3))
    for bad in (None, "", "October", "31.02.2026 - 01.03.2026", "10.10.2026 - 01.10.2026"):
        with pytest.raises(RecordError, match="ActualChargeInterval"):
            parse_charge_interval(bad)


def test_an_unreadable_charge_is_a_problem_naming_it_and_the_rest_are_kept():
    good = {"AccountId": 1, "ActualChargeInterval": "01.10.2026 - 01.11.2026", "UDRCValue": 2, "Costs": 5.4,
            "CostsOfUnit": 2.7, "Currency": "EUR", "ServiceName": "Exchange Online (Plan 1)"}
    bad = {**good, "AccountId": 2, "Costs": "lots", "ServiceName": "Teams"}
    listing = invoices_to_charges([{"CompanyAccountId": 100010, "InvoiceNumber": "80684183",
                                    "Charges": [good, bad]}])
    assert [c.subscription_external_id for c in listing.items] == ["1"]
    assert listing.items[0].cost == D("5.4") and listing.items[0].units == D(2)
    (problem,) = listing.problems
    assert problem.describe() == "Teams (2): invoice 80684183: Costs is not a number: 'lots'"
