"""Reconciling the vendor's invoice with the PSA: what the distributor bills us against what we charge.

Pure: :func:`reconcile` takes the vendor's charges, the PSA's licences and mappings and our charge
lines for the month, and returns one :class:`ReconciliationLine` per subscription with its status,
and the totals. No HTTP, no database: ``core.billing_reconcile_cli`` gathers the inputs.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

from core.types import VendorCharge

ZERO = Decimal("0")


class Status(enum.Enum):
    """A line's verdict. For a mapped subscription the first that applies, in this order."""

    LEAK = "leak"  # billed by the vendor, not charged to the customer
    NOT_BILLED_BY_VENDOR = "not_billed_by_vendor"  # charged to the customer, not billed by the vendor
    UNITS_DIFFER = "units_differ"  # the vendor's units and the PSA's quantity differ on some day
    NEGATIVE_MARGIN = "negative_margin"  # our charge is below the vendor's cost
    MATCHED = "matched"
    UNMAPPED = "unmapped"  # billed for a vendor company that is mapped to no customer


#: What each status means when the line carries no more precise note.
REASONS = {
    Status.LEAK: "billed by the vendor, not charged to the customer",
    Status.NOT_BILLED_BY_VENDOR: "charged to the customer, not on the vendor's invoice",
    Status.UNITS_DIFFER: "the vendor's units and the PSA's quantity differ on some days",
    Status.NEGATIVE_MARGIN: "the charge is below the vendor's cost",
    Status.MATCHED: "the invoice and the charge agree",
    Status.UNMAPPED: "billed for a vendor company that is mapped to no customer",
}


class ChargeLike(Protocol):
    """What reconciliation reads of ``core.billing.report.ChargeLine`` (one stretch of a licence's month)."""

    customer: str
    vendor: str
    external_id: str
    licence: str
    start: date
    end: date
    quantity: int
    amount: Decimal | None  # None: the licence has no unit price
    currency: str | None


@dataclass(frozen=True)
class PsaLicence:
    """A licence row as reconciliation needs it."""

    external_id: str
    customer: str
    name: str
    vendor_customer_id: str
    active: bool
    quantity: int


@dataclass(frozen=True)
class ReconciliationLine:
    customer: str | None
    vendor: str
    external_id: str
    licence: str | None
    status: Status
    vendor_units: Decimal | None  # units the vendor billed on the last day it billed in the month
    psa_quantity: int | None  # the PSA's quantity on that same day
    vendor_cost: Decimal | None
    charge: Decimal | None
    currency: str | None
    vendor_company: str | None = None  # the vendor's id of the company billed
    note: str | None = None

    @property
    def margin(self) -> Decimal:
        return (self.charge or ZERO) - (self.vendor_cost or ZERO)

    @property
    def reason(self) -> str:
        """Why the line has its status, in plain words (the text table's and the console's "reason")."""
        return self.note or REASONS[self.status]

    @property
    def leak(self) -> Decimal:
        return (self.vendor_cost or ZERO) if self.status is Status.LEAK else ZERO


@dataclass
class Totals:
    vendor_cost: Decimal = ZERO
    charges: Decimal = ZERO
    leak: Decimal = ZERO

    @property
    def margin(self) -> Decimal:
        return self.charges - self.vendor_cost

    def add(self, line: ReconciliationLine) -> None:
        self.vendor_cost += line.vendor_cost or ZERO
        self.charges += line.charge or ZERO
        self.leak += line.leak


@dataclass
class Reconciliation:
    period: str
    lines: list[ReconciliationLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    no_invoice_data: list[str] = field(default_factory=list)  # vendors whose plugin has no invoice hook

    @property
    def has_leak(self) -> bool:
        return any(line.status is Status.LEAK for line in self.lines)

    def totals_by_currency(self) -> dict[str | None, Totals]:
        totals: dict[str | None, Totals] = defaultdict(Totals)
        for line in self.lines:
            totals[line.currency].add(line)
        return dict(sorted(totals.items(), key=lambda item: item[0] or ""))

    def totals_by_customer(self) -> list[tuple[str | None, str | None, Totals]]:
        """(customer, currency, totals); the unmapped companies' lines come last as customer None."""
        totals: dict[tuple[str | None, str | None], Totals] = defaultdict(Totals)
        for line in self.lines:
            totals[(line.customer, line.currency)].add(line)
        keys = sorted(totals, key=lambda k: (k[0] is None, k[0] or "", k[1] or ""))
        return [(customer, currency, totals[(customer, currency)]) for customer, currency in keys]


def reconcile(vendor: str, first: date, last: date, vendor_charges: Iterable[VendorCharge],
              licences: Iterable[PsaLicence], mappings: dict[str, str],
              charge_lines: Iterable[ChargeLike]) -> list[ReconciliationLine]:
    """One line per subscription that the vendor billed or that we charged for, ``first``..``last``.

    ``mappings``: vendor company id -> customer name. ``charge_lines``: our charges for the month
    (arrears: the month as it was used), any vendor's; only ``vendor``'s are read.
    """
    billed: dict[str, list[VendorCharge]] = defaultdict(list)
    for charge in vendor_charges:
        billed[charge.subscription_external_id].append(charge)
    ours: dict[str, list[ChargeLike]] = defaultdict(list)
    for line in charge_lines:
        if line.vendor == vendor and (line.quantity or line.amount):
            ours[line.external_id].append(line)
    by_id = {lic.external_id: lic for lic in licences}
    lines = [_line(vendor, sub, billed.get(sub, []), ours.get(sub, []), by_id.get(sub), mappings, first, last)
             for sub in set(billed) | set(ours)]
    return sorted(lines, key=lambda ln: (ln.customer is None, ln.customer or "", ln.vendor, _id_key(ln.external_id)))


def _line(vendor: str, sub: str, billed: Sequence[VendorCharge], ours: Sequence[ChargeLike],
          licence: PsaLicence | None, mappings: dict[str, str], first: date, last: date) -> ReconciliationLine:
    company = billed[0].customer_external_id if billed else (licence.vendor_customer_id if licence else None)
    customer = ours[0].customer if ours else (licence.customer if licence else mappings.get(company or ""))
    name = ours[0].licence if ours else (licence.name if licence else (billed[0].service_name if billed else None))
    vendor_cost = sum((c.cost for c in billed), ZERO) if billed else None
    priced = [ln.amount for ln in ours if ln.amount is not None]
    charge = sum(priced, ZERO) if priced else None
    vendor_currency = next((c.currency for c in billed if c.currency), None)
    our_currency = next((ln.currency for ln in ours if ln.currency), None)
    vendor_days = _vendor_days(billed, first, last)
    psa_days = _psa_days(ours, first, last)
    probe = max(vendor_days) if vendor_days else (max(psa_days) if psa_days else None)
    unit_based = any(c.units is not None for c in billed)
    vendor_units = vendor_days.get(probe) if probe and vendor_days and unit_based else None
    psa_quantity = psa_days.get(probe, 0) if probe and ours else None
    status, note = _verdict(billed, ours, licence, customer, vendor_days, psa_days, vendor_cost, charge,
                            vendor_currency, our_currency)
    return ReconciliationLine(
        customer=customer, vendor=vendor, external_id=sub, licence=name, status=status,
        vendor_units=vendor_units, psa_quantity=psa_quantity, vendor_cost=vendor_cost, charge=charge,
        currency=vendor_currency or our_currency, vendor_company=company, note=note)


def _verdict(billed: Sequence[VendorCharge], ours: Sequence[ChargeLike], licence: PsaLicence | None,
             customer: str | None, vendor_days: dict[date, Decimal], psa_days: dict[date, int],
             vendor_cost: Decimal | None, charge: Decimal | None, vendor_currency: str | None,
             our_currency: str | None) -> tuple[Status, str | None]:
    if billed and not ours:
        if customer is None:
            return Status.UNMAPPED, f"vendor company {billed[0].customer_external_id} is mapped to no customer"
        if licence is None:
            return Status.LEAK, "billed by the vendor; the PSA has no such licence"
        if not licence.active or not licence.quantity:
            return Status.LEAK, "billed by the vendor; the licence is not active in the PSA"
        return Status.LEAK, "billed by the vendor; nothing charged to the customer for the month"
    if ours and not billed:
        return Status.NOT_BILLED_BY_VENDOR, "charged to the customer; not on the vendor's invoice"
    unit_based = any(c.units is not None for c in billed)
    if unit_based:
        days = set(vendor_days) | set(psa_days)
        differing = sum(1 for d in days if vendor_days.get(d, ZERO) != psa_days.get(d, 0))
        if differing:
            return Status.UNITS_DIFFER, f"units differ on {differing} of {len(days)} days"
    if vendor_currency and our_currency and vendor_currency != our_currency:
        return Status.MATCHED, f"billed in {vendor_currency}, charged in {our_currency}: margin not compared"
    if charge is None:
        return Status.MATCHED, "the licence has no unit price in the PSA: margin not compared"
    if charge < (vendor_cost or ZERO):
        return Status.NEGATIVE_MARGIN, f"charge {charge} is below the vendor's cost {vendor_cost}"
    return Status.MATCHED, None


def _vendor_days(billed: Sequence[VendorCharge], first: date, last: date) -> dict[date, Decimal]:
    days: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for charge in billed:
        for day in _days(max(charge.start, first), min(charge.end, last)):
            days[day] += charge.units or ZERO
    return dict(days)


def _psa_days(ours: Sequence[ChargeLike], first: date, last: date) -> dict[date, int]:
    days: dict[date, int] = defaultdict(int)
    for line in ours:
        for day in _days(max(line.start, first), min(line.end, last)):
            days[day] += line.quantity or 0
    return dict(days)


def _days(start: date, end: date) -> Iterable[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _id_key(external_id: str) -> tuple[int, str]:
    return (int(external_id), "") if external_id.isdigit() else (1 << 62, external_id)
