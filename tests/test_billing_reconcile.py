"""The pure comparison of a vendor's invoice with the PSA's licences and our charges (no HTTP, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D

from core.billing.matching import PsaLicence, Reconciliation, Status, reconcile
from core.types import VendorCharge

OCT_1, OCT_31 = date(2026, 10, 1), date(2026, 10, 31)


@dataclass(frozen=True)
class Line:
    """Shaped as core.billing.report.ChargeLine."""

    customer: str
    external_id: str
    quantity: int
    amount: D
    start: date = OCT_1
    end: date = OCT_31
    vendor: str = "also"
    licence: str = "Microsoft 365 Business Basic"
    currency: str | None = "EUR"


def vc(sub: str, units: int | None, cost: str, company: str = "100010", start: date = OCT_1, end: date = OCT_31,
       currency: str = "EUR") -> VendorCharge:
    return VendorCharge(subscription_external_id=sub, customer_external_id=company, service_name="M365 Basic",
                        start=start, end=end, units=None if units is None else D(units), unit_cost=None,
                        cost=D(cost), currency=currency)


def lic(sub: str, customer: str = "Contoso Ltd", company: str = "100010", active: bool = True,
        quantity: int = 5) -> PsaLicence:
    return PsaLicence(external_id=sub, customer=customer, name="Microsoft 365 Business Basic",
                      vendor_customer_id=company, active=active, quantity=quantity)


MAPPINGS = {"100010": "Contoso Ltd", "100011": "Fabrikam GmbH"}


def run(charges, licences, lines, mappings=MAPPINGS):
    return {ln.external_id: ln for ln in reconcile("also", OCT_1, OCT_31, charges, licences, mappings, lines)}


def test_same_units_and_a_price_above_cost_match():
    line = run([vc("1", 5, "24.00")], [lic("1")], [Line("Contoso Ltd", "1", 5, D("28.00"))])["1"]
    assert line.status is Status.MATCHED
    assert (line.customer, line.vendor_units, line.psa_quantity, line.vendor_cost, line.charge, line.margin) == (
        "Contoso Ltd", D(5), 5, D("24.00"), D("28.00"), D("4.00"))


def test_billed_but_not_charged_is_a_leak_of_its_cost_whatever_else_differs():
    lines = run([vc("1", 5, "24.00"), vc("2", 3, "9.00"), vc("3", 2, "4.00")],
                [lic("2", active=False), lic("3")], [])
    assert {k: ln.status for k, ln in lines.items()} == {"1": Status.LEAK, "2": Status.LEAK, "3": Status.LEAK}
    assert lines["1"].leak == D("24.00") and lines["1"].psa_quantity is None and lines["1"].charge is None
    assert "no such licence" in lines["1"].note and "not active" in lines["2"].note


def test_charged_but_not_billed():
    line = run([], [lic("1")], [Line("Contoso Ltd", "1", 5, D("28.00"))])["1"]
    assert (line.status, line.vendor_units, line.psa_quantity, line.vendor_cost) == (
        Status.NOT_BILLED_BY_VENDOR, None, 5, None)


def test_units_differ_comes_before_negative_margin():
    line = run([vc("1", 7, "40.00")], [lic("1")], [Line("Contoso Ltd", "1", 5, D("28.00"))])["1"]
    assert (line.status, line.vendor_units, line.psa_quantity) == (Status.UNITS_DIFFER, D(7), 5)
    assert line.note == "units differ on 31 of 31 days"


def test_charge_below_cost_is_a_negative_margin():
    line = run([vc("1", 5, "30.00")], [lic("1")], [Line("Contoso Ltd", "1", 5, D("28.00"))])["1"]
    assert line.status is Status.NEGATIVE_MARGIN and line.margin == D("-2.00")


def test_units_are_compared_day_by_day_across_stretches():
    """The vendor bills 5 units to the 14th and 8 from the 15th; we charged the same stretches: matched.
    Our change one day late (from the 16th) differs on one day."""
    charges = [vc("1", 5, "10.00", end=date(2026, 10, 14)), vc("1", 8, "15.00", start=date(2026, 10, 15))]
    same = [Line("Contoso Ltd", "1", 5, D("12.00"), end=date(2026, 10, 14)),
            Line("Contoso Ltd", "1", 8, D("18.00"), start=date(2026, 10, 15))]
    late = [Line("Contoso Ltd", "1", 5, D("12.00"), end=date(2026, 10, 15)),
            Line("Contoso Ltd", "1", 8, D("18.00"), start=date(2026, 10, 16))]
    matched = run(charges, [lic("1")], same)["1"]
    assert (matched.status, matched.vendor_units, matched.psa_quantity) == (Status.MATCHED, D(8), 8)
    assert (matched.vendor_cost, matched.charge) == (D("25.00"), D("30.00"))
    differ = run(charges, [lic("1")], late)["1"]
    assert differ.status is Status.UNITS_DIFFER and differ.note == "units differ on 1 of 31 days"


def test_an_increase_billed_as_an_extra_charge_adds_up():
    """Some invoices bill a mid-month increase as a second charge of the added units only."""
    charges = [vc("1", 5, "24.00"), vc("1", 3, "7.00", start=date(2026, 10, 15))]
    ours = [Line("Contoso Ltd", "1", 5, D("13.00"), end=date(2026, 10, 14)),
            Line("Contoso Ltd", "1", 8, D("22.00"), start=date(2026, 10, 15))]
    assert run(charges, [lic("1")], ours)["1"].status is Status.MATCHED


def test_a_company_without_a_mapping_is_unmapped_and_no_leak():
    result = Reconciliation("2026-10", reconcile("also", OCT_1, OCT_31, [vc("9", 2, "8.00", company="100099")],
                                                 [], MAPPINGS, []))
    (line,) = result.lines
    assert (line.status, line.customer, line.vendor_company, line.vendor_cost) == (
        Status.UNMAPPED, None, "100099", D("8.00"))
    assert not result.has_leak


def test_a_mapped_company_names_the_customer_of_a_leak():
    line = run([vc("9", 2, "8.00", company="100011")], [], [])["9"]
    assert (line.status, line.customer) == (Status.LEAK, "Fabrikam GmbH")


def test_usage_charges_without_units_compare_money_only():
    line = run([vc("1", None, "50.00")], [lic("1")], [Line("Contoso Ltd", "1", 1, D("60.00"))])["1"]
    assert line.status is Status.MATCHED and line.vendor_units is None


def test_other_vendors_lines_and_zero_lines_are_ignored():
    ours = [Line("Contoso Ltd", "1", 5, D("28.00"), vendor="westcoast_stub"), Line("Contoso Ltd", "2", 0, D("0"))]
    assert run([], [], ours) == {}


def test_totals_per_customer_per_currency_and_overall():
    charges = [vc("1", 5, "24.00"), vc("2", 3, "9.00"), vc("3", 1, "10.00", company="100011"),
               vc("4", 2, "8.00", company="100099")]
    ours = [Line("Contoso Ltd", "1", 5, D("28.00")), Line("Contoso Ltd", "5", 1, D("3.50")),
            Line("Fabrikam GmbH", "3", 1, D("12.00"), currency="EUR")]
    result = Reconciliation("2026-10", reconcile("also", OCT_1, OCT_31, charges, [lic("1"), lic("5")], MAPPINGS,
                                                 ours))
    assert [ln.status.value for ln in result.lines] == ["matched", "leak", "not_billed_by_vendor", "matched",
                                                         "unmapped"]
    overall = result.totals_by_currency()
    assert list(overall) == ["EUR"]
    eur = overall["EUR"]
    # vendor cost 24 + 9 + 10 + 8 = 51; charges 28 + 3.50 + 12 = 43.50; leak: line 2's 9.00
    assert (eur.vendor_cost, eur.charges, eur.margin, eur.leak) == (D("51.00"), D("43.50"), D("-7.50"), D("9.00"))
    per_customer = {(c, cur): (t.vendor_cost, t.charges, t.margin, t.leak)
                    for c, cur, t in result.totals_by_customer()}
    assert per_customer == {
        ("Contoso Ltd", "EUR"): (D("33.00"), D("31.50"), D("-1.50"), D("9.00")),
        ("Fabrikam GmbH", "EUR"): (D("10.00"), D("12.00"), D("2.00"), D("0")),
        (None, "EUR"): (D("8.00"), D("0"), D("-8.00"), D("0")),
    }
    assert result.has_leak


def test_a_licence_without_a_price_is_no_leak_but_says_so():
    line = run([vc("1", 5, "24.00")], [lic("1")], [Line("Contoso Ltd", "1", 5, None)])["1"]
    assert (line.status, line.charge, line.psa_quantity) == (Status.MATCHED, None, 5)
    assert "no unit price" in line.note


class _Vendor:
    """A minimal vendor plugin, optionally with an invoice."""

    def __init__(self, charges=None):
        from core import Connection, Listing, VendorAccount, hookimpl

        if charges is not None:
            self.integrator_list_charges = hookimpl(lambda connection, year, month: Listing(items=list(charges)))
        self.integrator_connect = hookimpl(lambda settings: Connection("odd", "Odd", VendorAccount("R", "Reseller")))
        self.integrator_list_customers = hookimpl(lambda connection: Listing())
        self.integrator_list_subscriptions = hookimpl(lambda connection, customer: Listing())


def _facade(plugin):
    from core.host.plugins import VendorFacade, get_plugin_manager, register

    pm = get_plugin_manager(load_entry_points=False)
    register(pm, plugin, "odd")
    return VendorFacade(pm, "odd")


def test_the_facade_has_no_invoice_for_a_plugin_without_the_hook_and_checks_every_charge():
    from core import Connection, VendorAccount

    connection = Connection("odd", "Odd", VendorAccount("R", "Reseller"))
    assert _facade(_Vendor()).list_charges(connection, 2026, 10) is None
    odd = VendorCharge("2", "100010", "Teams", OCT_1, OCT_31, D(1), None, 4.5, "EUR")  # a float cost
    listing = _facade(_Vendor([vc("1", 5, "24.00"), odd])).list_charges(connection, 2026, 10)
    assert [c.subscription_external_id for c in listing.items] == ["1"]
    (problem,) = listing.problems
    assert "plugin 'odd' returned an unusable record: cost" in problem.message
