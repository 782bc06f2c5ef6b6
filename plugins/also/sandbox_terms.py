"""The sandbox's invoice lines for subscriptions paid per term up front (Annual, 2-Year, 3-Year).

As ALSO bills them: the whole term (units x unit cost) in the month it starts (BillingStartDate, then
each anniversary: the same day N months later, or that month's last day); added units mid-term
pro-rata to the term's end (added x unit cost x days left, the change day included / days in the
term); removed units credited the same way only in the term's first 7 days.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
TERM_MONTHS = {"annual": 12, "2-year": 24, "3-year": 36}
CANCEL_WINDOW_DAYS = 7


def term_months(item_type: object, prepaid_months: object) -> int | None:
    """The term in months of a priceable item paid up front; None for one billed monthly."""
    if isinstance(prepaid_months, int | float) and not isinstance(prepaid_months, bool) and prepaid_months > 1:
        return int(prepaid_months)
    return TERM_MONTHS.get(str(item_type or "").strip().lower())


def add_months(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1]))


def _term_of(start: date, months: int, day: date) -> tuple[date, date]:
    count = 0
    while add_months(start, (count + 1) * months) <= day:
        count += 1
    return add_months(start, count * months), add_months(start, (count + 1) * months) - timedelta(days=1)


def term_stretches(start: date, months: int, first: date, last: date,
                   units_on: Callable[[date], int]) -> list[tuple[date, date, int, Decimal]]:
    """(from, to, units, share of the term) billed in ``first``..``last``."""
    lines: list[tuple[date, date, int, Decimal]] = []
    day = max(first, start)
    while day <= last:
        begin, end = _term_of(start, months, day)
        length = (end - begin).days + 1
        units = units_on(day)
        if day == begin:
            if units:
                lines.append((begin, end, units, Decimal(1)))
        else:
            change = units - units_on(day - timedelta(days=1))
            if change > 0 or (change < 0 and (day - begin).days < CANCEL_WINDOW_DAYS):
                lines.append((day, end, change, Decimal((end - day).days + 1) / length))
        day += timedelta(days=1)
    return lines


def money(unit: Decimal, units: int, share: Decimal) -> float:
    return float((unit * units * share).quantize(CENT, rounding=ROUND_HALF_UP))
