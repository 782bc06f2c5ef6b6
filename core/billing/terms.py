"""Licences billed per term (annual, 2- and 3-year up front), once, or free on trial. Pure functions.

The unit price is per period of the licence's billing cycle (interface.md, "Billing terms"). The
periods run from the licence's start date (else its first billable day) to each anniversary: the
same day N months later, or the month's last day when it has no such day (a 29 February start
renews on 28 February, and on 29 February again in a leap year). The whole period (quantity x unit
price) is charged in the month it starts; a quantity increase mid-period is charged in the month it
happens, pro-rata to the period's end (added units x unit price x days left, the change day
included / days in the period); a decrease earns no credit unless it falls in the first 7 days of
the period (the start day and the 6 after it), when the removed units are credited the same way.
One-Time: quantity x unit price once, in the month of the start date. Trial: nothing.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta
from enum import StrEnum

from core.billing.charges import ChargeKind, ChargeLine, prorate
from core.billing.ledger import Ledger, LicenceState
from core.config.billing import Period

CANCEL_WINDOW_DAYS = 7
LATE_DAYS = 31  # a purchase first seen at most this long after its period began was seen late, not before the history


class Cycle(StrEnum):
    """The interface's billing cycle words."""

    MONTHLY = "Monthly"
    ANNUAL = "Annual"
    TWO_YEAR = "2-Year"
    THREE_YEAR = "3-Year"
    ONE_TIME = "One-Time"
    TRIAL = "Trial"


TERM_MONTHS = {Cycle.ANNUAL: 12, Cycle.TWO_YEAR: 24, Cycle.THREE_YEAR: 36}
_WORDS = {c.value.lower(): c for c in Cycle}


def parse_cycle(text: str | None) -> Cycle | None:
    """The cycle a licence's ``billing_cycle`` names (null or empty: Monthly); None when it is unknown."""
    if text is None or not text.strip():
        return Cycle.MONTHLY
    return _WORDS.get(text.strip().lower())


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day when it is shorter."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1]))


def term_of(start: date, months: int, day: date) -> tuple[date, date]:
    """The period (first, last inclusive) of a term begun on ``start`` that holds ``day`` (>= start)."""
    count = ((day.year - start.year) * 12 + day.month - start.month) // months
    while count > 0 and add_months(start, count * months) > day:
        count -= 1
    while add_months(start, (count + 1) * months) <= day:
        count += 1
    return add_months(start, count * months), add_months(start, (count + 1) * months) - timedelta(days=1)


def periods(start: date, months: int, first: date, last: date) -> list[tuple[date, date]]:
    """The periods that begin between ``first`` and ``last`` (inclusive)."""
    found = []
    count = max(0, ((first.year - start.year) * 12 + first.month - start.month) // months - 1)
    while (begin := add_months(start, count * months)) <= last:
        if begin >= first:
            found.append((begin, add_months(start, (count + 1) * months) - timedelta(days=1)))
        count += 1
    return found


def ledger_cycle_text(ledger: Ledger) -> str | None:
    """The licence's billing cycle as last known (its latest state that exists)."""
    state = next((s.state for s in reversed(ledger.stretches) if s.state is not None), None)
    return None if state is None else state.billing_cycle


def _quantity(state: LicenceState | None) -> int:
    return state.quantity if state is not None and state.billable else 0


def _line(ledger: Ledger, state: LicenceState, kind: ChargeKind, first: date, last: date, period_days: int,
          quantity: int) -> ChargeLine:
    days = (last - first).days + 1
    return ChargeLine(
        customer=state.customer, vendor=ledger.vendor, external_id=ledger.external_id, licence=state.name,
        kind=kind, start=first, end=last, days=days, period_days=period_days, quantity=quantity,
        unit_price=state.price, amount=prorate(quantity, state.price, days, period_days),
        unit_cost=state.cost, cost=prorate(quantity, state.cost, days, period_days),
        currency=state.currency, billing_cycle=state.billing_cycle,
    )


Change = tuple[date, LicenceState | None, LicenceState | None]


def _changes(ledger: Ledger, first: date, last: date) -> Iterator[Change]:
    """(day, state before, state from then) for each day of first..last where the billed quantity changes."""
    before = ledger.state_on(first - timedelta(days=1))
    for stretch in ledger.between(first, last):
        if _quantity(stretch.state) != _quantity(before):
            yield stretch.first, before, stretch.state
        before = stretch.state


def _first_billable(ledger: Ledger) -> tuple[date, LicenceState] | None:
    first = next((s for s in ledger.stretches if s.billable), None)
    if first is None:
        return None
    assert first.state is not None
    return first.first, first.state


def term_lines(ledger: Ledger, period: Period, months: int) -> list[ChargeLine]:
    """A term licence's lines for one calendar month: each period that starts in it, and the changes.

    A licence first seen after its period began is charged that whole period, at the quantity it was first
    seen with, in the month it was first seen, when the period began at most ``LATE_DAYS`` before (a new
    purchase the sync saw late). A period that began earlier belongs to a licence that existed before the
    history starts: it was billed before, so it is not charged; its next anniversary is."""
    found = _first_billable(ledger)
    if found is None:
        return []
    seen, first_state = found
    start = first_state.start_date or seen
    if start > period.last or seen > period.last:
        return []
    lines: list[ChargeLine] = []
    charged = set()
    if seen > start and period.first <= seen:
        begin, end = term_of(start, months, seen)
        if begin < seen and Period.of(seen) == period and (seen - begin).days <= LATE_DAYS:
            lines.append(_line(ledger, first_state, ChargeKind.TERM, begin, end, (end - begin).days + 1,
                               first_state.quantity))
            charged.add(seen)
    for begin, end in periods(start, months, period.first, period.last):
        charged.add(begin)
        state = ledger.state_on(begin)
        if _quantity(state) > 0:
            assert state is not None
            lines.append(_line(ledger, state, ChargeKind.TERM, begin, end, (end - begin).days + 1, state.quantity))
    for day, before, after in _changes(ledger, max(period.first, start), period.last):
        if day in charged:
            continue  # the period's own line charges the quantity of its first day
        if day == seen and before is None:
            continue  # first seen long after its period began: no increase, the licence was there already
        term_first, term_last = term_of(start, months, day)
        period_days = (term_last - term_first).days + 1
        added = _quantity(after) - _quantity(before)
        if added > 0:
            assert after is not None
            lines.append(_line(ledger, after, ChargeKind.TERM_PRORATA, day, term_last, period_days, added))
        elif (day - term_first).days < CANCEL_WINDOW_DAYS and before is not None:
            lines.append(_line(ledger, before, ChargeKind.TERM_PRORATA, day, term_last, period_days, added))
    return lines


def one_time_lines(ledger: Ledger, period: Period) -> list[ChargeLine]:
    """quantity x unit price once, in the month of the start date (a purchase first seen in a later
    month, at most ``LATE_DAYS`` after its start: in that month), at the quantity it was first seen with."""
    found = _first_billable(ledger)
    if found is None or Period.of(found[0]) != period:
        return []
    seen, state = found
    day = state.start_date if state.start_date is not None and state.start_date <= seen else seen
    if (seen - day).days > LATE_DAYS:
        return []  # bought long before the history starts: billed then, not now
    return [_line(ledger, state, ChargeKind.ONE_TIME, day, day, 1, state.quantity)]


def cycle_lines(ledger: Ledger, period: Period, cycle: Cycle) -> list[ChargeLine]:
    """The month's lines of a licence billed on a cycle other than Monthly."""
    if cycle in TERM_MONTHS:
        return term_lines(ledger, period, TERM_MONTHS[cycle])
    if cycle is Cycle.ONE_TIME:
        return one_time_lines(ledger, period)
    return []  # Trial costs nothing


def all_lines(ledgers: list[Ledger], period: Period, mode: str,
              proration: str) -> tuple[list[ChargeLine], list[tuple[Ledger, str]]]:
    """Every licence's lines for the month by its cycle, and the licences whose cycle is unknown
    (reported, never guessed: they get no line)."""
    from core.billing.charges import advance, arrears

    monthly = advance if mode == "advance" else arrears
    lines: list[ChargeLine] = []
    unknown: list[tuple[Ledger, str]] = []
    for ledger in ledgers:
        text = ledger_cycle_text(ledger)
        cycle = parse_cycle(text)
        if cycle is None:
            unknown.append((ledger, text or ""))
        elif cycle is Cycle.MONTHLY:
            lines += monthly(ledger, period, proration)
        else:
            lines += cycle_lines(ledger, period, cycle)
    return lines, unknown
