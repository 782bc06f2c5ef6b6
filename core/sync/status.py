"""What the history and status commands show: runs, last success and last error per integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from core import shapes
from core.db import clock
from core.db.models import RunStatus, SyncRun
from core.shapes import utc
from core.sync.app import App
from core.sync.history import last_completed, last_run, last_success, latest_runs
from core.sync.retry import next_attempt
from core.text import counted


def recent_runs(app: App, limit: int = 0) -> list[dict[str, Any]]:
    with app.sessions() as session:
        query = select(SyncRun).order_by(SyncRun.id.desc())
        if limit:
            query = query.limit(limit)
        return [shapes.run_json(r) for r in session.scalars(query)]


def integration_status(app: App) -> dict[str, dict[str, Any]]:
    """Per configured integration: last successful and last completed sync, the errors of the newest
    runs, and the last error, as the PSA screens show them."""
    result = {}
    for vendor, settings in app.config.integrations.items():
        ok = last_success(app, vendor)
        done = last_completed(app, vendor)
        bad = last_run(app, vendor, RunStatus.FAILED, RunStatus.PARTIAL)
        last_error = None
        if bad is not None and (ok is None or bad.started_at > ok) and bad.errors:
            last_error = f"{bad.errors[0]} ({bad.started_at.isoformat(timespec='seconds')} UTC)"
        newest = last_run(app, vendor, RunStatus.OK, RunStatus.FAILED, RunStatus.PARTIAL)
        attempt, retrying = next_attempt(app, vendor)
        result[vendor] = {
            "enabled": settings.enabled,
            "scheduled": settings.integrator.enabled,
            "last_success": utc(ok.replace(microsecond=0)) if ok else None,
            "last_completed": utc(done.replace(microsecond=0)) if done else None,
            "last_error": last_error,
            "errors": [error for run in latest_runs(app, vendor) for error in run.errors or []],
            "last_run": None if newest is None else {
                "id": newest.id, "entity": newest.entity, "status": newest.status,
                "started_at": utc(newest.started_at), "finished_at": utc(newest.finished_at)},
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
                      f"({run.started_at.isoformat(timespec='seconds')} UTC, {counted(len(run.errors or []), 'error')})"
                      for run in latest_runs(app, vendor) if run.status != RunStatus.OK]
    return stale
