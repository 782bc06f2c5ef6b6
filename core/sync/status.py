"""What the history and status commands show: runs, last success and last error per integration."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from core import shapes
from core.db import clock
from core.db.models import SyncRun
from core.shapes import utc
from core.sync.app import App
from core.sync.retry import next_attempt


def recent_runs(app: App, limit: int = 0) -> list[dict[str, Any]]:
    with app.sessions() as session:
        query = select(SyncRun).order_by(SyncRun.id.desc())
        if limit:
            query = query.limit(limit)
        return [shapes.run_json(r) for r in session.scalars(query)]


def _last(app: App, vendor: str, *statuses: str, entity: str | None = None) -> SyncRun | None:
    query = select(SyncRun).where(SyncRun.vendor == vendor, SyncRun.status.in_(statuses))
    if entity is not None:
        query = query.where(SyncRun.entity == entity)
    with app.sessions() as session:
        return session.scalars(query.order_by(SyncRun.id.desc()).limit(1)).first()


def last_success(app: App, vendor: str) -> datetime | None:
    """When every entity the integration syncs last succeeded: the oldest of their last successes."""
    settings = app.config.integrations.get(vendor)
    entities: list[str | None] = [*(settings.integrator.ordered_entities() if settings else [])] or [None]
    times = []
    for entity in entities:
        run = _last(app, vendor, "ok", entity=entity)
        if run is None or run.finished_at is None:
            return None
        times.append(run.finished_at)
    return min(times)


def integration_status(app: App) -> dict[str, dict[str, Any]]:
    """Per configured integration: last successful sync and last error, as the PSA screens show them."""
    result = {}
    for vendor, settings in app.config.integrations.items():
        ok = last_success(app, vendor)
        bad = _last(app, vendor, "failed", "partial")
        last_error = None
        if bad is not None and (ok is None or bad.started_at > ok) and bad.errors:
            last_error = f"{bad.errors[0]} ({bad.started_at.isoformat(timespec='seconds')} UTC)"
        last_run = _last(app, vendor, "ok", "failed", "partial")
        attempt, retrying = next_attempt(app, vendor)
        result[vendor] = {
            "enabled": settings.enabled,
            "scheduled": settings.integrator.enabled,
            "last_success": utc(ok.replace(microsecond=0)) if ok else None,
            "last_error": last_error,
            "last_run": None if last_run is None else {
                "id": last_run.id, "entity": last_run.entity, "status": last_run.status,
                "started_at": utc(last_run.started_at), "finished_at": utc(last_run.finished_at)},
            "next_attempt": utc(attempt) if attempt else None,  # when the daemon syncs it next
            "retrying": retrying,  # that attempt retries a failed sync (integrator.retry_after_failure)
        }
    return result


def stale_integrations(app: App, max_age: timedelta) -> list[str]:
    """Enabled, scheduled integrations whose last successful sync is older than ``max_age``."""
    now = clock.now()
    stale = []
    for vendor, settings in app.config.integrations.items():
        if not (settings.enabled and settings.integrator.enabled):
            continue
        ok = last_success(app, vendor)
        if ok is None:
            stale.append(f"{vendor}: never synced successfully")
        elif now - ok > max_age:
            hours = (now - ok).total_seconds() / 3600
            when = ok.isoformat(timespec="seconds")
            stale.append(f"{vendor}: last successful sync {hours:.1f} hours ago ({when} UTC)")
    return stale
