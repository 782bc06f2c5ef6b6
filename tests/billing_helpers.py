"""Building a licence's history the way the sync writes it, for the pure billing tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from core.billing.ledger import HistoryEntry, Ledger, LicenceState, build_ledger
from core.db.store import as_text

UTC = ZoneInfo("UTC")


def at(text: str) -> datetime:
    """A naive-UTC moment, as the sync stores it: '2026-11-11 10:00'."""
    return datetime.fromisoformat(text)


def licence_history(created: str, first: LicenceState,
                    *changes: tuple[str, dict[str, Any]]) -> tuple[LicenceState, list[HistoryEntry]]:
    """The licence's current state and history rows after a sync at ``created`` imported it as ``first``
    and later syncs changed the given fields (one history row per changed field, as store does)."""
    history = [HistoryEntry(at(created), "created", None, as_text(first.quantity), 1)]
    state = first
    for moment, values in changes:
        for name, new in values.items():
            old = getattr(state, name)
            if old != new:
                history.append(HistoryEntry(at(moment), name, as_text(old), as_text(new), len(history) + 1))
        state = replace(state, **values)
    return state, history


def ledger(created: str, first: LicenceState, *changes: tuple[str, dict[str, Any]],
           zone: ZoneInfo = UTC, external_id: str = "200101") -> Ledger:
    current, history = licence_history(created, first, *changes)
    return build_ledger("also", external_id, current, history, zone)


def basic(quantity: int = 5, price: str | None = "5.60", cost: str | None = "4.80", *,
          customer: str = "Contoso Ltd", name: str = "Microsoft 365 Business Basic", active: bool = True,
          start: date | None = None, cycle: str | None = "Monthly") -> LicenceState:
    return LicenceState(customer=customer, name=name, active=active, quantity=quantity,
                        price=Decimal(price) if price is not None else None,
                        cost=Decimal(cost) if cost is not None else None, currency="EUR",
                        start_date=start, billing_cycle=cycle)


def money(lines: list[Any], what: str = "amount") -> list[str | None]:
    return [line.as_json()[what] for line in lines]


def spans(lines: list[Any]) -> list[tuple[str, str, int, int]]:
    return [(line.start.isoformat(), line.end.isoformat(), line.days, line.quantity) for line in lines]
