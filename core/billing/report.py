"""Billing: pro-rata charges for one calendar month from the licence history.

The public names (``Period``, ``parse_period``, ``ChargeLine``, ``ChargeReport``, ``compute_charges``,
``write_csv``, ``BillingSettings``) live here; the pure parts are in ``billing_ledger`` (history ->
state by day) and ``billing_charges`` (state by day -> lines). This module only reads rows.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.billing.charges import FIELDS, PRORATA, RECURRING, ChargeKind, ChargeLine
from core.billing.ledger import HistoryEntry, Ledger, LicenceState, build_ledger
from core.billing.terms import all_lines
from core.config.billing import MODES, BillingSettings, Period, parse_period
from core.db.models import Customer, CustomerMapping, Licence, LicenceChange
from core.db.store import find_customer
from core.errors import UsageError

__all__ = [
    "FIELDS", "PRORATA", "RECURRING", "BillingSettings", "ChargeLine", "ChargeReport", "Period", "Totals",
    "compute_charges", "load_ledgers", "parse_period", "spreadsheet_safe", "write_csv",
]


@dataclass(frozen=True)
class Totals:
    """Sums over lines of one currency. ``margin`` counts the lines whose amount and cost are both known."""

    currency: str | None
    amount: Decimal
    cost: Decimal
    margin: Decimal
    unpriced: int = 0  # lines without an amount


@dataclass
class ChargeReport:
    period: Period
    mode: str
    lines: list[ChargeLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def by_customer(self) -> dict[str, list[ChargeLine]]:
        grouped: dict[str, list[ChargeLine]] = {}
        for line in self.lines:
            grouped.setdefault(line.customer, []).append(line)
        return grouped

    def totals(self, customer: str | None = None) -> dict[str | None, Totals]:
        """Amount, cost and margin per currency, over one customer's lines or all of them."""
        lines = [ln for ln in self.lines if customer is None or ln.customer == customer]
        return {currency: _sum(currency, [ln for ln in lines if ln.currency == currency])
                for currency in sorted({ln.currency for ln in lines}, key=lambda c: c or "")}

    def by_kind(self, customer: str | None = None) -> dict[tuple[ChargeKind, str | None], Totals]:
        """Subtotals per kind and currency (in the kinds' order), over one customer's lines or all."""
        lines = [ln for ln in self.lines if customer is None or ln.customer == customer]
        keys = sorted({(ln.kind, ln.currency) for ln in lines},
                      key=lambda k: (list(ChargeKind).index(k[0]), k[1] or ""))
        return {(kind, cur): _sum(cur, [ln for ln in lines if (ln.kind, ln.currency) == (kind, cur)])
                for kind, cur in keys}


def _sum(currency: str | None, lines: list[ChargeLine]) -> Totals:
    zero = Decimal("0.00")
    return Totals(
        currency=currency,
        amount=sum((ln.amount for ln in lines if ln.amount is not None), zero),
        cost=sum((ln.cost for ln in lines if ln.cost is not None), zero),
        margin=sum((m for ln in lines if (m := ln.margin) is not None), zero),
        unpriced=sum(1 for ln in lines if ln.amount is None),
    )


def compute_charges(session: Session, period: Period, settings: BillingSettings, *, mode: str | None = None,
                    customer: str | None = None, vendor: str | None = None,
                    known_vendors: Iterable[str] = (), usage: tuple[list[ChargeLine], list[str]] = ([], [])
                    ) -> ChargeReport:
    """The charge lines of ``period`` for every licence (or one customer's, one vendor's).

    Raises UsageError for an unknown mode, customer or vendor (``known_vendors``: installed plugins,
    accepted even before they hold any licence). ``usage``: the month's usage lines and their warnings
    (``core.billing.usage.fetch_usage``: it asks the vendors, this reads only the database)."""
    mode = mode or settings.mode
    if mode not in MODES:
        raise UsageError(f"--mode {mode!r}: choose one of {', '.join(MODES)}")
    if customer is not None:
        customer = find_customer(session, customer).name  # the stored spelling, which the lines carry
    if vendor is not None:
        vendors = _vendors(session) | set(known_vendors)
        if vendor not in vendors:
            raise UsageError(f"no vendor named {vendor!r} (known: {', '.join(sorted(vendors)) or 'none'})")
    ledgers = load_ledgers(session, settings, vendor=vendor)
    found, unknown = all_lines(ledgers, period, mode, settings.proration)
    found += [ln for ln in usage[0] if vendor is None or ln.vendor == vendor]
    lines = [ln for ln in found if customer is None or ln.customer == customer]
    # Per customer: the month's own lines, then (in advance) the previous month's corrections.
    lines.sort(key=lambda ln: (ln.customer, ln.start < period.first, ln.vendor, ln.licence, ln.external_id,
                               ln.start, ln.quantity < 0))
    warnings = _warnings(lines) + list(usage[1]) + [
        f"{state.customer}: {state.name} ({ledger.vendor} {ledger.external_id}) has the billing cycle {text!r}, "
        f"which is none of Monthly, Annual, 2-Year, 3-Year, One-Time, Trial: it is not charged"
        for ledger, text in unknown
        if (state := _last_state(ledger)) is not None and (customer is None or state.customer == customer)]
    return ChargeReport(period=period, mode=mode, lines=lines, warnings=warnings)


def _last_state(ledger: Ledger) -> LicenceState | None:
    return next((s.state for s in reversed(ledger.stretches) if s.state is not None), None)


def _warnings(lines: list[ChargeLine]) -> list[str]:
    seen: dict[tuple[str, str, str], None] = {}
    for line in lines:
        if line.amount is None:
            seen.setdefault((line.customer, line.licence, f"{line.vendor} {line.external_id}"), None)
    return [f"{c}: {name} ({ident}) has no unit price, so its amount is empty "
            f"(prices are imported with set_price_and_cost: true)" for c, name, ident in seen]


def _vendors(session: Session) -> set[str]:
    return set(session.scalars(select(Licence.vendor).distinct())) | set(
        session.scalars(select(CustomerMapping.vendor).distinct()))


def load_ledgers(session: Session, settings: BillingSettings, *, vendor: str | None = None) -> list[Ledger]:
    """Every licence's ledger (one vendor's when given), from its row and its history rows."""
    query = select(Licence.id, Licence.vendor, Licence.external_id, Customer.name, Licence.name, Licence.active,
                   Licence.quantity, Licence.price, Licence.cost, Licence.currency, Licence.start_date,
                   Licence.billing_cycle).join(Customer, Customer.id == Licence.customer_id)
    history_query = select(LicenceChange.licence_id, LicenceChange.changed_at, LicenceChange.field,
                           LicenceChange.old_value, LicenceChange.new_value, LicenceChange.id)
    if vendor is not None:
        query = query.where(Licence.vendor == vendor)
        history_query = history_query.join(Licence, Licence.id == LicenceChange.licence_id).where(
            Licence.vendor == vendor)
    # The rows first, then their history: a sync committing in between adds history rows newer than the
    # rows read (undone at once: as if the charges had been read before it), never a row newer than its
    # history (its new values would count from the change before).
    rows = session.execute(query.order_by(Licence.id)).all()
    history: dict[int, list[HistoryEntry]] = {}
    for licence_id, changed_at, name, old, new, order in session.execute(history_query):
        history.setdefault(licence_id, []).append(HistoryEntry(changed_at, name, old, new, order))
    ledgers = []
    for row in rows:
        licence_id, vendor_name, external_id, *values = row
        state = LicenceState(*values)
        ledgers.append(build_ledger(vendor_name, external_id, state, history.get(licence_id, []), settings.zone))
    return ledgers


TEXT_FIELDS = frozenset({"customer", "vendor", "external_id", "licence", "currency"})
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_csv(lines: Iterable[ChargeLine], stream: TextIO) -> None:
    """A header row with the JSON fields, then one row per line; an empty cell for a null.

    Text that comes from a vendor or the PSA (names, ids, currency) and starts like a spreadsheet
    formula gets a leading apostrophe, so Excel shows it instead of running it; numbers and money are
    written as they are (a credit's "-18.67" stays a number)."""
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for line in lines:
        record = line.as_json()
        writer.writerow([_cell(name, record[name]) for name in FIELDS])


def _cell(name: str, value: object) -> object:
    if value is None:
        return ""
    return spreadsheet_safe(value) if name in TEXT_FIELDS else value


def spreadsheet_safe(value: object) -> object:
    """Text that a spreadsheet would run as a formula, with a leading apostrophe; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return f"'{value}"
    return value
