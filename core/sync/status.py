"""What the history and status commands show: runs, last success and last error per integration."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from core import shapes
from core.db import clock
from core.db.models import RunStatus, SyncRun
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


#: The run reached its end, though some records or customers may have failed.
COMPLETED = (RunStatus.OK, RunStatus.PARTIAL)


def _entities(app: App, vendor: str) -> list[str | None]:
    settings = app.config.integrations.get(vendor)
    return [*(settings.integrator.ordered_entities() if settings else [])] or [None]


def _oldest_last(app: App, vendor: str, *statuses: str) -> datetime | None:
    """The oldest, over the entities the integration syncs, of each one's last run with one of ``statuses``."""
    times = []
    for entity in _entities(app, vendor):
        run = _last(app, vendor, *statuses, entity=entity)
        if run is None or run.finished_at is None:
            return None
        times.append(run.finished_at)
    return min(times)


def last_success(app: App, vendor: str) -> datetime | None:
    """When every entity the integration syncs last succeeded without an error."""
    return _oldest_last(app, vendor, RunStatus.OK)


def last_completed(app: App, vendor: str) -> datetime | None:
    """When every entity the integration syncs last completed a sync (``ok`` or ``partial``): what
    staleness, monitoring and the daemon's catch-up go by (interface.md, "Monitoring after a partial run")."""
    return _oldest_last(app, vendor, *COMPLETED)


def _latest_runs(app: App, vendor: str) -> list[SyncRun]:
    """Each entity's newest finished run."""
    runs = [_last(app, vendor, RunStatus.OK, RunStatus.PARTIAL, RunStatus.FAILED, entity=entity)
            for entity in _entities(app, vendor)]
    return [run for run in runs if run is not None]


def integration_status(app: App) -> dict[str, dict[str, Any]]:
    """Per configured integration: last successful and last completed sync, the errors of the newest
    runs, and the last error, as the PSA screens show them."""
    result = {}
    for vendor, settings in app.config.integrations.items():
        ok = last_success(app, vendor)
        done = last_completed(app, vendor)
        bad = _last(app, vendor, RunStatus.FAILED, RunStatus.PARTIAL)
        last_error = None
        if bad is not None and (ok is None or bad.started_at > ok) and bad.errors:
            last_error = f"{bad.errors[0]} ({bad.started_at.isoformat(timespec='seconds')} UTC)"
        last_run = _last(app, vendor, RunStatus.OK, RunStatus.FAILED, RunStatus.PARTIAL)
        attempt, retrying = next_attempt(app, vendor)
        result[vendor] = {
            "enabled": settings.enabled,
            "scheduled": settings.integrator.enabled,
            "last_success": utc(ok.replace(microsecond=0)) if ok else None,
            "last_completed": utc(done.replace(microsecond=0)) if done else None,
            "last_error": last_error,
            "errors": [error for run in _latest_runs(app, vendor) for error in run.errors or []],
            "last_run": None if last_run is None else {
                "id": last_run.id, "entity": last_run.entity, "status": last_run.status,
                "started_at": utc(last_run.started_at), "finished_at": utc(last_run.finished_at)},
            "next_attempt": utc(attempt) if attempt else None,  # when the daemon syncs it next
            "retrying": retrying,  # that attempt retries a failed sync (integrator.retry_after_failure)
        }
    return result


def stale_integrations(app: App, max_age: timedelta, strict: bool = False) -> list[str]:
    """Enabled, scheduled integrations whose last completed sync is older than ``max_age``; with
    ``strict``, also those whose newest run of an entity was partial or failed."""
    now = clock.now()
    stale = []
    for vendor, settings in app.config.integrations.items():
        if not (settings.enabled and settings.integrator.enabled):
            continue
        done = last_completed(app, vendor)
        if done is None:
            stale.append(f"{vendor}: never synced successfully")
        elif now - done > max_age:
            hours = (now - done).total_seconds() / 3600
            what = "successful" if last_success(app, vendor) == done else "completed"
            stale.append(f"{vendor}: last {what} sync {hours:.1f} hours ago ({done.isoformat(timespec='seconds')} UTC)")
        if strict:
            stale += [f"{vendor}: last {run.entity} run was {run.status} "
                      f"({run.started_at.isoformat(timespec='seconds')} UTC, {len(run.errors or [])} error(s))"
                      for run in _latest_runs(app, vendor) if run.status != RunStatus.OK]
    return stale
