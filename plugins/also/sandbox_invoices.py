"""The sandbox's invoices: what ALSO would bill the reseller, derived from the sandbox's own subscriptions.

Per subscription and month: units = its quantity on each day (walking back through the quantity
changes the sandbox recorded), CostsOfUnit = its PurchasePrice, Costs = CostsOfUnit x units x
days billed / days in the month, rounded half-up to cents, one charge per stretch of equal units.
Billing starts on BillingStartDate; a terminated subscription is billed up to the day before its
ScheduledTerminationDate (not at all when it has none). Controls inject the discrepancies a
reconciliation must find: extra charges (for subscriptions the PSA does not have), other units,
another unit cost, subscriptions left off the invoice.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from plugins.also.sandbox_terms import term_months, term_stretches

CENT = Decimal("0.01")


@dataclass
class InvoiceControls:
    """What a test changes about the invoices; ``POST /_sandbox/control {"invoice": {...}}`` sets it too."""

    today: date | None = None  # the sandbox's today (latest and preview invoices); None: the real UTC date
    #: subscription AccountId -> [(first day of the new quantity, old quantity, new quantity)]
    quantity_changes: dict[int, list[tuple[date, int, int]]] = field(default_factory=dict)
    #: charges for subscriptions the sandbox does not list: {"company", "account_id", "service_name",
    #: "units", "unit_cost", "currency"="EUR", "from"=first of month, "to"=last of month}; without "units":
    #: a usage line of "cost" (consumption, no unit count)
    extra_charges: list[dict[str, Any]] = field(default_factory=list)
    units: dict[int, int] = field(default_factory=dict)  # bill these units instead of the quantity
    unit_costs: dict[int, Decimal] = field(default_factory=dict)  # bill this instead of PurchasePrice
    omitted: set[int] = field(default_factory=set)  # subscriptions left off the invoice

    def current_day(self) -> date:
        return self.today or datetime.now(UTC).date()

    def apply(self, command: dict[str, Any]) -> None:
        """Apply a control command's ``invoice`` block (JSON: ids may be strings)."""
        if command.get("clear"):
            self.extra_charges.clear()
            self.units.clear()
            self.unit_costs.clear()
            self.omitted.clear()
        if "today" in command:
            self.today = date.fromisoformat(command["today"]) if command["today"] else None
        self.extra_charges.extend(command.get("extra_charges", []))
        self.units.update({int(k): int(v) for k, v in command.get("units", {}).items()})
        self.unit_costs.update({int(k): Decimal(str(v)) for k, v in command.get("unit_costs", {}).items()})
        self.omitted.update(int(v) for v in command.get("omit", []))


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def change_quantity(subscription: dict[str, Any], controls: InvoiceControls, new: int, day: date) -> None:
    """Change a subscription's quantity from ``day`` on, and remember the old one for the invoices."""
    entry = next((f for f in subscription.get("Fields") or [] if f.get("Name") == "Quantity"), None)
    if entry is None:
        raise ValueError(f"subscription {subscription.get('AccountId')} has no Quantity field")
    old = _quantity(subscription) or 0
    entry["Value"] = str(new)
    controls.quantity_changes.setdefault(int(subscription["AccountId"]), []).append((day, old, new))


def answer_invoices(operation: str, body: dict[str, Any], companies: list[dict[str, Any]],
                    subscriptions: dict[int, list[dict[str, Any]]], controls: InvoiceControls) -> list[Any] | None:
    """What an invoice operation answers; None for a request without a valid year and month."""
    today = controls.current_day()
    if operation == "GetPreviewInvoices":
        year, month = today.year, today.month
    elif operation == "GetLatestInvoices":
        last_closed = month_bounds(today.year, today.month)[0] - timedelta(days=1)
        year, month = last_closed.year, last_closed.month
    else:
        year, month = body.get("year"), body.get("month")
        if not isinstance(year, int) or not isinstance(month, int) or not 1 <= month <= 12:
            return None
        if (year, month) >= (today.year, today.month):
            return []  # not closed yet: no invoice
    return invoices(companies, subscriptions, controls, year, month)


def invoices(companies: list[dict[str, Any]], subscriptions: dict[int, list[dict[str, Any]]],
             controls: InvoiceControls, year: int, month: int) -> list[dict[str, Any]]:
    """One Invoice per company billed anything in the month, shaped as the Simple API sends it."""
    first, last = month_bounds(year, month)
    by_company: dict[int, list[dict[str, Any]]] = {}
    for company in companies:
        cid = company.get("AccountId")
        for sub in subscriptions.get(cid, []) if isinstance(cid, int) else []:
            by_company.setdefault(cid, []).extend(_charges_of(sub, controls, first, last))
    for extra in controls.extra_charges:
        by_company.setdefault(int(extra["company"]), []).append(_extra_charge(extra, first, last))
    names = {c.get("AccountId"): c.get("CompanyName") for c in companies}
    return [
        {"BillingInterval": f"{month:02d}/{year}", "CompanyAccountId": cid, "CompanyName": names.get(cid),
         "CustomerId": str(cid), "InvoiceNumber": f"{year}{month:02d}{cid}", "Charges": charges}
        for cid, charges in sorted(by_company.items()) if charges
    ]


def _charges_of(sub: dict[str, Any], controls: InvoiceControls, first: date, last: date) -> list[dict[str, Any]]:
    item = next((i for i in sub.get("PriceableItems") or [] if i.get("FieldName") == "Quantity"), None)
    sub_id = int(sub["AccountId"])
    if sub_id in controls.omitted:
        return []
    unit_cost = controls.unit_costs.get(sub_id)
    if unit_cost is None and item is not None and item.get("PurchasePrice") is not None:
        unit_cost = Decimal(str(item["PurchasePrice"]))
    if unit_cost is None:
        return []  # nothing unit-priced to bill
    start = _day(sub.get("BillingStartDate")) or first
    if str(sub.get("AccountState")).lower() == "terminated":
        stop = _day(sub.get("ScheduledTerminationDate"))
        if stop is None:
            return []
        last = min(last, stop - timedelta(days=1))
    price = Decimal(str(item["SalesPrice"])) if item and item.get("SalesPrice") is not None else None
    currency = (item or {}).get("Currency") or "EUR"
    name = sub.get("ServiceDisplayName") or sub.get("ServiceName")
    months = term_months((item or {}).get("PriceableItemType"), (item or {}).get("PrepaidPeriodInMonths"))
    if months is not None:  # paid per term up front
        return [_charge(sub_id, name, frm, to, units, unit_cost, price, currency, first, share, months)
                for frm, to, units, share in term_stretches(
                    start, months, max(first, start), last,
                    lambda d: controls.units.get(sub_id, _quantity_on(sub, controls, d)))]
    day, stretches = max(first, start), []
    while day <= last:
        units = controls.units.get(sub_id, _quantity_on(sub, controls, day))
        if stretches and stretches[-1][2] == units and stretches[-1][1] == day - timedelta(days=1):
            stretches[-1][1] = day
        else:
            stretches.append([day, day, units])
        day += timedelta(days=1)
    return [_charge(sub_id, name, frm, to, units, unit_cost, price, currency, first)
            for frm, to, units in stretches if units]


def _extra_charge(extra: dict[str, Any], first: date, last: date) -> dict[str, Any]:
    frm = date.fromisoformat(extra["from"]) if extra.get("from") else first
    to = date.fromisoformat(extra["to"]) if extra.get("to") else last
    if extra.get("units") is None:  # usage (consumption): an amount, no unit count
        return {
            "AccountId": int(extra["account_id"]), "ServiceName": extra.get("service_name", "Usage"),
            "ServiceId": f"sandbox_{extra['account_id']}",
            "ActualChargeInterval": f"{frm:%d.%m.%Y} - {to + timedelta(days=1):%d.%m.%Y}",
            "BillableParameter": "Billing Type=Usage", "PriceableItemType": "Usage", "UDRCValue": None,
            "CostsOfUnit": None, "Costs": float(Decimal(str(extra["cost"]))), "SalesPriceOfUnit": None,
            "SalesPrice": None, "Currency": extra.get("currency", "EUR"), "VendorName": "Microsoft",
        }
    return _charge(int(extra["account_id"]), extra.get("service_name", "Extra service"), frm, to,
                   int(extra["units"]), Decimal(str(extra["unit_cost"])), None, extra.get("currency", "EUR"), first)


def _charge(sub_id: int, name: str | None, frm: date, to: date, units: int, unit_cost: Decimal,
            unit_price: Decimal | None, currency: str, first: date, share: Decimal | None = None,
            term: int | None = None) -> dict[str, Any]:
    """One charge; ``share`` of units x unit price (default: the days billed of the month)."""
    month_days = calendar.monthrange(first.year, first.month)[1]
    if share is None:
        share = Decimal((to - frm).days + 1) / month_days
    kind = {None: "Monthly", 12: "Annual", 24: "2-Year", 36: "3-Year"}.get(term, f"{term} months")

    def money(unit: Decimal) -> float:
        return float((unit * units * share).quantize(CENT, rounding=ROUND_HALF_UP))

    return {
        "AccountId": sub_id, "ServiceName": name, "ServiceId": f"sandbox_{sub_id}",
        "ActualChargeInterval": f"{frm:%d.%m.%Y} - {to + timedelta(days=1):%d.%m.%Y}",
        "BillableParameter": f"Billing Type={kind} Number of CSP licenses={units}",
        "PriceableItemDescription": f"{name} with Billing Type {kind} per unit of NumberofCSPlicenses",
        "PriceableItemType": kind, "UDRCValue": units, "CostsOfUnit": float(unit_cost),
        "Costs": money(unit_cost), "SalesPriceOfUnit": float(unit_price) if unit_price is not None else None,
        "SalesPrice": money(unit_price) if unit_price is not None else None, "Currency": currency,
        "VendorName": "Microsoft",
    }


def _quantity(sub: dict[str, Any]) -> int | None:
    entry = next((f for f in sub.get("Fields") or [] if f.get("Name") == "Quantity"), None)
    value = entry.get("Value") if entry else None
    try:
        return int(Decimal(str(value))) if value not in (None, "") else None
    except ArithmeticError:
        return None


def _quantity_on(sub: dict[str, Any], controls: InvoiceControls, day: date) -> int:
    quantity = _quantity(sub) or 0
    for changed, old, _new in sorted(controls.quantity_changes.get(int(sub["AccountId"]), []), reverse=True):
        if day < changed:
            quantity = old
    return quantity


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        parsed = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return None if parsed.year == 1 else parsed
