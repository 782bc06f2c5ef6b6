"""Gathering what ``billing reconcile`` compares: the vendors' invoices, the PSA's licences and our charges.

The comparison itself is pure (``core.billing.matching``); this module reads the database, asks
each vendor plugin for its invoice through ``integrator_list_charges`` and shapes the report.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from core.billing.invoices import company_customers, fetch_charges
from core.billing.matching import ZERO, PsaLicence, Reconciliation, ReconciliationLine, Status, Totals, reconcile
from core.billing.usage import usage_lines
from core.db.models import Customer, Licence, LicenceChange
from core.db.store import find_customer
from core.errors import UsageError
from core.host.plugins import VendorFacade
from core.shapes import money
from core.text import counted

if TYPE_CHECKING:
    from core.billing.report import Period
    from core.sync.app import App

CENT = Decimal("0.01")
CSV_FIELDS = ("customer", "vendor", "external_id", "licence", "status", "vendor_units", "psa_quantity",
              "vendor_cost", "charge", "margin", "currency", "vendor_company", "note")


def reconcile_period(app: App, period: Period, vendor: str | None = None, customer: str | None = None,
                     today: date | None = None) -> Reconciliation:
    """The month's reconciliation for one vendor, or for every enabled integration."""
    from core.billing.report import compute_charges
    from core.host.plugins import display_name

    today = today or datetime.now(UTC).date()
    if (period.year, period.month) > (today.year, today.month):
        raise UsageError(f"--period {period.year}-{period.month:02d} has not begun: there is no invoice for it yet")
    vendors = [vendor] if vendor else [name for name, s in app.config.integrations.items() if s.enabled]
    if not vendors:
        raise UsageError(f"{app.config.path}: no integration is enabled")
    result = Reconciliation(period=f"{period.year}-{period.month:02d}")
    if (period.year, period.month) == (today.year, today.month):
        result.warnings.append(f"{result.period} is not over: compared with the vendor's preview invoice")
    for name in vendors:
        app.config.integration(name)  # a vendor that is not configured or is disabled is a config error
        VendorFacade(app.pm, name)
    with app.sessions() as session:
        if customer is not None:
            customer = find_customer(session, customer).name  # the stored spelling, which the lines carry
        # Arrears whatever billing.mode: the month as it was used, which is what the vendor invoices.
        charges = compute_charges(session, period, app.config.billing, mode="arrears", customer=customer)
        inputs = {name: (_licences(session, name), company_customers(session, name), _history_begins(session, name))
                  for name in vendors}
    for name in vendors:
        listing = fetch_charges(app, name, period.year, period.month)
        if listing is None:
            result.no_invoice_data.append(name)
            continue
        licences, mappings, began = inputs[name]
        if began is not None and began.date() > period.first:
            result.warnings.append(
                f"{display_name(app.pm, name)}: the PSA's licence history begins on {began.date()} "
                f"(its first import), after "
                f"{result.period} began: the days before it were charged nothing and show as leaks or units_differ")
        result.warnings += [f"{display_name(app.pm, name)} invoice: {problem.describe()}"
                            for problem in listing.problems]
        usage, _unmapped = usage_lines(name, listing.items, mappings, app.config.billing.usage_markup_percent)
        lines = reconcile(name, period.first, period.last, listing.items, licences, mappings,
                          charges.lines + usage)
        result.lines += [ln for ln in lines if customer is None or ln.customer == customer]
    return result


def _licences(session: Any, vendor: str) -> list[PsaLicence]:
    query = (select(Licence.external_id, Customer.name, Licence.name, Licence.vendor_customer_id, Licence.active,
                    Licence.quantity).join(Customer, Customer.id == Licence.customer_id)
             .where(Licence.vendor == vendor))
    return [PsaLicence(*row) for row in session.execute(query)]


def _history_begins(session: Any, vendor: str) -> datetime | None:
    query = (select(func.min(LicenceChange.changed_at)).join(Licence, Licence.id == LicenceChange.licence_id)
             .where(Licence.vendor == vendor))
    return session.scalar(query)


# -- shapes ------------------------------------------------------------------------------------

def units(value: Decimal | None) -> int | str | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else str(value)


def line_json(line: ReconciliationLine) -> dict[str, Any]:
    return {
        "customer": line.customer, "vendor": line.vendor, "external_id": line.external_id, "licence": line.licence,
        "status": line.status.value, "vendor_units": units(line.vendor_units), "psa_quantity": line.psa_quantity,
        "vendor_cost": money(line.vendor_cost), "charge": money(line.charge), "currency": line.currency,
        "margin": money(line.margin),
        "vendor_company": line.vendor_company, "note": line.note,
    }


def totals_json(totals: Totals) -> dict[str, str | None]:
    return {"vendor_cost": money(totals.vendor_cost), "charges": money(totals.charges),
            "margin": money(totals.margin), "leak": money(totals.leak)}


def report_json(result: Reconciliation) -> dict[str, Any]:
    """The ``--json`` document (see the README's "Reconciling against the vendor's invoice")."""
    by_currency = result.totals_by_currency()
    if len(by_currency) <= 1:
        currency, overall = next(iter(by_currency.items()), (None, Totals()))
        totals: dict[str, Any] = {**totals_json(overall), "currency": currency}
    else:  # never a sum of several currencies: a figure that only one currency has is given, else null
        totals = {"currency": None}
        for name in ("vendor_cost", "charges", "margin", "leak"):
            amounts = [getattr(t, name) for t in by_currency.values() if getattr(t, name)]
            totals[name] = money(amounts[0]) if len(amounts) == 1 else (money(ZERO) if not amounts else None)
    return {
        "period": result.period,
        "lines": [line_json(ln) for ln in result.lines],
        "totals": totals,
        "totals_by_currency": [{"currency": cur, **totals_json(t)} for cur, t in by_currency.items()],
        "customers": [{"customer": name, "currency": cur, **totals_json(t)}
                      for name, cur, t in result.totals_by_customer()],
        "no_invoice_data": result.no_invoice_data,
        "warnings": result.warnings,
    }


CSV_TEXT_FIELDS = frozenset({"customer", "vendor", "external_id", "licence", "status", "currency", "vendor_company",
                             "note"})


def csv_rows(result: Reconciliation) -> list[list[Any]]:
    """The CSV's rows; text that a spreadsheet would run as a formula is shown, never run (as in charges)."""
    from core.billing.report import spreadsheet_safe

    rows = []
    for line in result.lines:
        data = line_json(line)
        rows.append([spreadsheet_safe(data[name]) if name in CSV_TEXT_FIELDS else data[name] for name in CSV_FIELDS])
    return rows


def leak_alert(result: Reconciliation) -> dict[str, Any] | None:
    """The ``leak`` alert's payload: the month, a one-line summary with the amounts per currency, and
    the leaking lines; None when nothing leaks."""
    leaks = [ln for ln in result.lines if ln.status is Status.LEAK]
    if not leaks:
        return None
    amounts = ", ".join(f"{money(t.leak)} {cur or ''}".strip()
                        for cur, t in result.totals_by_currency().items() if t.leak)
    return {"summary": f"{result.period}: {counted(len(leaks), 'subscription')} billed by the vendor and not charged "
                       f"({amounts})", "period": result.period, "lines": [line_json(ln) for ln in leaks]}


def alert_leaks(app: App, result: Reconciliation) -> None:
    """Send the ``leak`` alert (to the configured channels) when the month has a leak."""
    from core.sync.alerts import notify

    payload = leak_alert(result)
    if payload is not None:
        notify(app.config.alerts, "leak", payload)
