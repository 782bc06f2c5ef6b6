"""When the daemon tries an integration again after a failed sync, read from the recorded runs alone, so the
daemon and ``integrator status`` (another process) agree without any state of their own.

After a failed sync (the integration's newest run failed) the next attempt is ``retry_after_failure`` after
it, and then the wait doubles with the failing streak: the wait is the longer of ``retry_after_failure``
and the time since the streak's first failure (30 min, 30 min, 1 h, 2 h, ...). No retry is made at or
after the first ``run_at`` following the failure: the scheduled run takes over.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.db import clock
from core.db.models import SyncRun
from core.sync.app import App
from core.sync.history import last_success


def next_scheduled(run_at: str, after: datetime) -> datetime:
    """The first ``run_at`` (local time, as the daemon's schedule reads it) after ``after`` (naive UTC)."""
    hour, minute = (int(part) for part in run_at.split(":"))
    local = after.replace(tzinfo=UTC).astimezone()
    due = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if due <= local:
        due = (due + timedelta(days=1)).replace(hour=hour, minute=minute)
    return due.astimezone(UTC).replace(tzinfo=None)


def next_retry(app: App, vendor: str) -> datetime | None:
    """When the daemon retries ``vendor`` after its failed sync; None when no retry is pending."""
    schedule = app.config.integrations[vendor].integrator
    delay = schedule.retry_delay()
    if delay is None:
        return None
    with app.sessions() as session:
        newest = session.scalars(select(SyncRun).where(SyncRun.vendor == vendor, SyncRun.status != "running")
                                 .order_by(SyncRun.id.desc()).limit(1)).first()
        if newest is None or newest.status != "failed":
            return None
        failed_at = newest.finished_at or newest.started_at
        ok = last_success(app, vendor)
        streak = select(SyncRun.started_at).where(SyncRun.vendor == vendor, SyncRun.status == "failed")
        if ok is not None:
            streak = streak.where(SyncRun.started_at > ok)
        first = session.scalars(streak.order_by(SyncRun.id).limit(1)).first() or failed_at
    attempt = failed_at + max(delay, failed_at - first)
    return attempt if attempt < next_scheduled(schedule.run_at, failed_at) else None


def next_attempt(app: App, vendor: str) -> tuple[datetime | None, bool]:
    """(when the daemon next syncs ``vendor``, whether that is a retry); (None, False) when unscheduled."""
    settings = app.config.integrations[vendor]
    if not (settings.enabled and settings.integrator.enabled):
        return None, False
    retry = next_retry(app, vendor)
    if retry is not None:
        return retry, True
    return next_scheduled(settings.integrator.run_at, clock.now()), False
