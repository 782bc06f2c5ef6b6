"""Charge lines from a licence's ledger: arrears and advance, daily or no proration. Pure functions.

arrears(M): one line per stretch of M with constant terms, amount = quantity x unit price x days /
days in M, rounded half-up to cents per line. advance(M): M in full at the state of its first day,
plus the correction of M-1 (its arrears minus its full month at its first day's state).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from core.billing.ledger import Ledger, LicenceState, Stretch
from core.config.billing import Period
from core.shapes import money


class ChargeKind(StrEnum):
    """A monthly licence's whole month (recurring) or some of its days (prorata); a term's whole period
    (term) or an increase to its end (term_prorata); a one-time purchase; a usage line of an invoice."""

    RECURRING = "recurring"
    PRORATA = "prorata"
    TERM = "term"
    TERM_PRORATA = "term_prorata"
    ONE_TIME = "one_time"
    USAGE = "usage"


RECURRING, PRORATA = ChargeKind.RECURRING, ChargeKind.PRORATA
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ChargeLine:
    """One line of a charge run, as an accountant imports it."""

    customer: str
    vendor: str
    external_id: str
    licence: str
    kind: ChargeKind
    start: date
    end: date  # inclusive
    days: int
    period_days: int
    quantity: int  # negative on a credit
    unit_price: Decimal | None
    amount: Decimal | None
    unit_cost: Decimal | None
    cost: Decimal | None
    currency: str | None
    billing_cycle: str | None = None

    @property
    def margin(self) -> Decimal | None:
        return None if self.amount is None or self.cost is None else self.amount - self.cost

    def as_json(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "vendor": self.vendor,
            "external_id": self.external_id,
            "licence": self.licence,
            "kind": self.kind,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "days": self.days,
            "period_days": self.period_days,
            "quantity": self.quantity,
            "unit_price": money(self.unit_price, unit=True),
            "amount": money(self.amount),
            "unit_cost": money(self.unit_cost, unit=True),
            "cost": money(self.cost),
            "currency": self.currency,
        }


FIELDS: tuple[str, ...] = ("customer", "vendor", "external_id", "licence", "kind", "from", "to", "days",
                           "period_days", "quantity", "unit_price", "amount", "unit_cost", "cost", "currency")


def prorate(quantity: int, unit: Decimal | None, days: int, period_days: int) -> Decimal | None:
    """quantity x unit x days / period_days, rounded half-up to cents."""
    if unit is None:
        return None
    amount = (Decimal(quantity) * unit * days / period_days).quantize(CENT, rounding=ROUND_HALF_UP)
    return amount + 0  # a credit that rounds to nothing is 0.00, not -0.00


def _line(ledger: Ledger, state: LicenceState, first: date, last: date, period: Period,
          quantity: int, kind: ChargeKind) -> ChargeLine:
    days = (last - first).days + 1
    return ChargeLine(
        customer=state.customer, vendor=ledger.vendor, external_id=ledger.external_id, licence=state.name,
        kind=kind, start=first, end=last, days=days, period_days=period.days, quantity=quantity,
        unit_price=state.price, amount=prorate(quantity, state.price, days, period.days),
        unit_cost=state.cost, cost=prorate(quantity, state.cost, days, period.days),
        currency=state.currency, billing_cycle=state.billing_cycle,
    )


def _billable(state: LicenceState | None) -> LicenceState | None:
    return state if state is not None and state.billable else None


def _key(state: LicenceState | None) -> tuple[Any, ...] | None:
    return None if state is None else state.terms()


def terms_stretches(ledger: Ledger, period: Period) -> list[Stretch]:
    """The month cut into stretches of constant billing terms (non-billable days: state None)."""
    merged: list[Stretch] = []
    for stretch in ledger.between(period.first, period.last):
        state = _billable(stretch.state)
        if merged and _key(merged[-1].state) == _key(state):
            merged[-1] = Stretch(merged[-1].first, stretch.last, merged[-1].state)
        else:
            merged.append(Stretch(stretch.first, stretch.last, state))
    return merged


def full_month(ledger: Ledger, period: Period) -> list[ChargeLine]:
    """The whole month at the state of its first day (nothing when that state bills nothing)."""
    state = _billable(ledger.state_on(period.first))
    if state is None:
        return []
    return [_line(ledger, state, period.first, period.last, period, state.quantity, RECURRING)]


def arrears(ledger: Ledger, period: Period, proration: str = "daily") -> list[ChargeLine]:
    """The month as it happened: a line per stretch of constant terms."""
    if proration == "none":
        return full_month(ledger, period)
    lines = []
    for stretch in terms_stretches(ledger, period):
        if stretch.state is None:
            continue
        assert stretch.last is not None
        days = (stretch.last - stretch.first).days + 1
        kind = RECURRING if days == period.days else PRORATA
        lines.append(_line(ledger, stretch.state, stretch.first, stretch.last, period, stretch.state.quantity, kind))
    return lines


def corrections(ledger: Ledger, period: Period, proration: str = "daily") -> list[ChargeLine]:
    """arrears(period) minus the full period at its first day's state, as pro-rata lines.

    Where only the quantity differs, one line for the difference; where the price, cost, currency or
    customer differ, a credit at the first day's terms and a charge at the new ones.
    """
    if proration == "none":
        return []
    billed = _billable(ledger.state_on(period.first))
    lines: list[ChargeLine] = []
    for stretch in terms_stretches(ledger, period):
        assert stretch.last is not None
        actual = stretch.state
        if _key(actual) == _key(billed):
            continue
        if actual is not None and billed is not None and _same_price(actual, billed):
            lines.append(_line(ledger, actual, stretch.first, stretch.last, period,
                               actual.quantity - billed.quantity, PRORATA))
            continue
        if billed is not None:
            lines.append(_line(ledger, billed, stretch.first, stretch.last, period, -billed.quantity, PRORATA))
        if actual is not None:
            lines.append(_line(ledger, actual, stretch.first, stretch.last, period, actual.quantity, PRORATA))
    return lines


def _same_price(a: LicenceState, b: LicenceState) -> bool:
    return (a.customer, a.price, a.cost, a.currency) == (b.customer, b.price, b.cost, b.currency)


def advance(ledger: Ledger, period: Period, proration: str = "daily") -> list[ChargeLine]:
    """The month at its first day's state, and the previous month's correction."""
    return full_month(ledger, period) + corrections(ledger, period.previous(), proration)
