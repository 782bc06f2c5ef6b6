"""What a month's charges cannot show by themselves: that the month is still running, or that the
licence history starts after it began.

- The running month in arrears is charged **projected to the month's end**: every licence as it
  stands today, to the last day of the month (a change later this month will change the charges).
- A month before the licence history starts (the first import's day) has no charges because the
  integrator knew nothing then, not because nothing was held: its note says **history starts
  YYYY-MM-DD**. A month in which the history starts is charged from that day.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.billing.ledger import local_day
from core.config.billing import BillingSettings, Period
from core.db import clock
from core.db.models import LicenceChange


def history_start(session: Session, zone: ZoneInfo) -> date | None:
    """The day (in the billing time zone) of the first licence change recorded: the first import."""
    first: datetime | None = session.scalar(select(func.min(LicenceChange.changed_at)))
    return local_day(first, zone) if first is not None else None


def month_notes(session: Session, period: Period, settings: BillingSettings, mode: str | None = None,
                today: date | None = None) -> list[str]:
    """Plain sentences to show under the month's heading (none for an ordinary past month)."""
    zone = ZoneInfo(settings.timezone)
    today = today or local_day(clock.now(), zone)
    mode = mode or settings.mode
    notes = []
    start = history_start(session, zone)
    if start is None:
        notes.append("No licence history yet: charges start on the day of the first import of subscriptions.")
    elif period.last < start:
        notes.append(f"History starts {start.isoformat()}: the integrator knew nothing of this month, "
                     "so it has no charges to show.")
    elif period.first < start:
        notes.append(f"History starts {start.isoformat()}: this month is charged from that day.")
    if mode == "arrears" and period.first <= today <= period.last:
        notes.append(f"This month is still running: its charges are projected to the month's end "
                     f"({period.last.isoformat()}) from the licences as they stand on {today.isoformat()}.")
    return notes
