"""ALSO's invoices to the reseller, as the core's vendor charges (for ``billing reconcile``).

ALSO JSON -> ``VendorCharge``: pure functions, beside ``mapping`` (which maps companies and
subscriptions); an unreadable charge raises ``mapping.RecordError`` and becomes a listing problem.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from core.types import Listing, RecordProblem, VendorCharge
from plugins.also.client import AlsoClient
from plugins.also.mapping import RecordError, account_id, record_label

_INTERVAL_DAY = r"(\d{1,2})\.(\d{1,2})\.(\d{4})|(\d{4})-(\d{2})-(\d{2})(?:T[\d:.]*)?"
_INTERVAL = re.compile(rf"^\s*(?:{_INTERVAL_DAY})\s*-\s*(?:{_INTERVAL_DAY})\s*$")


def list_charges(client: AlsoClient, year: int, month: int, today: date | None = None) -> Listing[VendorCharge]:
    """The month's invoice lines: a closed month's invoices, or the current month's preview.

    A month after the current one has no invoice yet: the listing is empty.
    """
    today = today or datetime.now(UTC).date()
    if (year, month) > (today.year, today.month):
        return Listing()
    if (year, month) == (today.year, today.month):
        invoices = client.get_preview_invoices()
    else:
        invoices = client.get_invoices_for_period(year, month)
    return invoices_to_charges(invoices)


def invoices_to_charges(invoices: list[Any]) -> Listing[VendorCharge]:
    listing: Listing[VendorCharge] = Listing()
    for invoice in invoices:
        if not isinstance(invoice, dict):
            listing.problems.append(RecordProblem(None, "invoice", f"expected an object, got {type(invoice).__name__}"))
            continue
        charges = invoice.get("Charges") or []
        where = invoice.get("InvoiceNumber") or invoice.get("CompanyName") or "?"
        if not isinstance(charges, list):
            listing.problems.append(RecordProblem(None, f"invoice {where}", f"Charges is not a list: {charges!r}"))
            continue
        for charge in charges:
            try:
                listing.items.append(charge_to_vendor_charge(charge, invoice))
            except RecordError as exc:
                rid, name = record_label(charge)
                listing.problems.append(RecordProblem(rid, name, f"invoice {where}: {exc}"))
    return listing


def charge_to_vendor_charge(charge: Any, invoice: dict[str, Any]) -> VendorCharge:
    """One ``Charges`` entry of an ``Invoice``; the company comes from the invoice."""
    subscription_id = account_id(charge)
    company_id = account_id(invoice, "CompanyAccountId")
    start, end = parse_charge_interval(charge.get("ActualChargeInterval"))
    cost = _decimal(charge.get("Costs"), "Costs")
    if cost is None:
        raise RecordError("Costs is missing")
    units = _decimal(charge.get("UDRCValue"), "UDRCValue")
    if units is not None and units < 0:
        raise RecordError(f"UDRCValue is negative: {charge.get('UDRCValue')!r}")
    return VendorCharge(
        subscription_external_id=subscription_id,
        customer_external_id=company_id,
        service_name=_text(charge, "ServiceName") or _text(charge, "PriceableItemDescription") or "?",
        start=start,
        end=end,
        units=units,
        unit_cost=_decimal(charge.get("CostsOfUnit"), "CostsOfUnit"),
        cost=cost,
        currency=_text(charge, "Currency"),
        customer_name=_text(invoice, "CompanyName"),
    )


def parse_charge_interval(value: Any) -> tuple[date, date]:
    """``ActualChargeInterval`` ("01.01.2021 - 01.02.2021") as the first and last day billed.

    ALSO writes the end as the first day after the interval (a whole January ends 01.02.), so the
    last day billed is the day before it; an interval of one day may repeat its start.
    """
    match = _INTERVAL.match(value) if isinstance(value, str) else None
    if match is None:
        raise RecordError(f"ActualChargeInterval is not 'dd.mm.yyyy - dd.mm.yyyy': {value!r}")
    groups = match.groups()
    try:
        first, after = (_interval_day(groups[i:i + 6]) for i in (0, 6))
    except ValueError:
        raise RecordError(f"ActualChargeInterval is not a valid interval: {value!r}") from None
    if after < first:
        raise RecordError(f"ActualChargeInterval ends before it starts: {value!r}")
    return first, max(first, after - timedelta(days=1))


def _interval_day(parts: tuple[str | None, ...]) -> date:
    day, month, year, iso_year, iso_month, iso_day = parts
    if year is not None:
        return date(int(year), int(month or 0), int(day or 0))
    return date(int(iso_year or 0), int(iso_month or 0), int(iso_day or 0))


def _decimal(value: Any, key: str) -> Decimal | None:
    """A JSON number (or numeric string) as an exact Decimal; null stays None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RecordError(f"{key} is not a number: {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise RecordError(f"{key} is not a number: {value!r}") from None
    if not number.is_finite():
        raise RecordError(f"{key} is not a number: {value!r}")
    return number


def _text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value).strip() or None
