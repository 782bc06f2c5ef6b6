"""The ledger: a licence's state day by day, rebuilt from its history. Pure functions, no database.

The sync writes the licence's current values on its row and one history row per changed field
(``old`` and ``new`` as text) plus a ``created`` row when it first imports a licence. Walking the
history backwards from the current row gives the state after every change; a change takes effect
on the calendar day (in the billing time zone) of the sync that saw it, and when one day holds
several changes the later one wins. "Later" is the order the rows were written (their ids): a change
stamped before an earlier-written one (the clock stepped back) counts from that earlier one's day.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

CREATED = "created"


@dataclass(frozen=True)
class LicenceState:
    """What billing needs of a licence at one moment."""

    customer: str
    name: str
    active: bool
    quantity: int
    price: Decimal | None = None
    cost: Decimal | None = None
    currency: str | None = None
    start_date: date | None = None
    billing_cycle: str | None = None

    @property
    def billable(self) -> bool:
        return self.active and self.quantity > 0

    def terms(self) -> tuple[Any, ...]:
        """What makes two days bill differently (a rename or a status text alone does not)."""
        return (self.customer, self.quantity, self.price, self.cost, self.currency)


@dataclass(frozen=True)
class HistoryEntry:
    """One history row: ``changed_at`` in naive UTC, as stored; ``order``: the row id, the order of writing.

    The row id, not the time stamp, orders the rows: a clock stepped back (a paused VM, an NTP correction)
    can stamp a later sync before an earlier one, and undoing the changes out of order invents states."""

    changed_at: datetime
    field: str
    old: str | None
    new: str | None
    order: int = 0


@dataclass(frozen=True)
class Stretch:
    """Days ``first`` to ``last`` (inclusive; None: open-ended) in one state; None: no licence to bill."""

    first: date
    last: date | None
    state: LicenceState | None

    @property
    def billable(self) -> bool:
        return self.state is not None and self.state.billable


@dataclass(frozen=True)
class Ledger:
    """One licence's states over time, as consecutive stretches from ``date.min`` on."""

    vendor: str
    external_id: str
    stretches: tuple[Stretch, ...]

    def state_on(self, day: date) -> LicenceState | None:
        for stretch in self.stretches:
            if stretch.first <= day and (stretch.last is None or day <= stretch.last):
                return stretch.state
        return None

    def between(self, first: date, last: date) -> list[Stretch]:
        """The stretches covering ``first``..``last``, cut to those days."""
        cut = []
        for stretch in self.stretches:
            if stretch.first > last or (stretch.last is not None and stretch.last < first):
                continue
            end = last if stretch.last is None else min(stretch.last, last)
            cut.append(Stretch(max(stretch.first, first), end, stretch.state))
        return cut


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The calendar day in ``zone`` of a naive-UTC (or aware) moment."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).date()


def build_ledger(vendor: str, external_id: str, current: LicenceState, history: list[HistoryEntry],
                 zone: ZoneInfo) -> Ledger:
    """The licence's stretches from its current state and its history rows (any order)."""
    entries = sorted(history, key=lambda e: (e.order, e.changed_at))
    after: list[LicenceState] = [current] * len(entries)  # the state right after each entry
    state = current
    for index in range(len(entries) - 1, -1, -1):
        after[index] = state
        state = _undo(state, entries[index])
    created = next((i for i, e in enumerate(entries) if e.field == CREATED), None)

    # (first day, state in force from then on); a licence without a "created" row predates its history.
    changes: list[tuple[date, LicenceState | None]] = [(date.min, None if created is not None else state)]
    begins = date.min
    for index, entry in enumerate(entries):
        if created is not None and index < created:
            continue
        day = max(local_day(entry.changed_at, zone), changes[-1][0])  # never before an earlier change
        if index == created:
            start = after[index].start_date
            begins = max(day, start) if start is not None else day
        if changes[-1][0] == day:
            changes[-1] = (day, after[index])  # the later change of one day wins
        else:
            changes.append((day, after[index]))
    if begins > date.min:  # a licence created with a later start date starts then
        changes = _not_before(changes, begins)
    return Ledger(vendor, external_id, _stretches(changes))


def _not_before(changes: list[tuple[date, LicenceState | None]],
                begins: date) -> list[tuple[date, LicenceState | None]]:
    in_force: LicenceState | None = None
    kept: list[tuple[date, LicenceState | None]] = [(date.min, None)]
    for day, state in changes:
        if day <= begins:
            in_force = state
        else:
            kept.append((day, state))
    kept.insert(1, (begins, in_force))
    return kept


def _stretches(changes: list[tuple[date, LicenceState | None]]) -> tuple[Stretch, ...]:
    stretches = []
    for index, (first, state) in enumerate(changes):
        last = changes[index + 1][0] - timedelta(days=1) if index + 1 < len(changes) else None
        if stretches and stretches[-1].state == state:
            stretches[-1] = Stretch(stretches[-1].first, last, state)
        else:
            stretches.append(Stretch(first, last, state))
    return tuple(stretches)


def _undo(state: LicenceState, entry: HistoryEntry) -> LicenceState:
    """The state before ``entry``: the field set back to its old value."""
    name = {"customer_id": "customer"}.get(entry.field, entry.field)
    if name not in _PARSERS:
        return state  # fields billing does not use (status, end date, SKU...)
    try:
        value = _PARSERS[name](entry.old)
    except (ValueError, InvalidOperation):
        return state
    return replace(state, **{name: value})


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None or text == "" else Decimal(text)


def _int(text: str | None) -> int:
    return int(text) if text not in (None, "") else 0


def _bool(text: str | None) -> bool:
    return (text or "").strip().lower() in ("true", "1", "yes")


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _str(text: str | None) -> str | None:
    return text


_PARSERS: dict[str, Any] = {
    "customer": lambda t: t or "",
    "name": lambda t: t or "",
    "active": _bool,
    "quantity": _int,
    "price": _decimal,
    "cost": _decimal,
    "currency": _str,
    "start_date": _date,
    "billing_cycle": _str,
}
