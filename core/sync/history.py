"""What the recorded runs say about an integration: each entity's last run of a status, the last success
and the last completed sync. The status, the retry rule and the daemon read them here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from core.db.models import RunStatus, SyncRun
from core.sync.app import App


def last_run(app: App, vendor: str, *statuses: str, entity: str | None = None) -> SyncRun | None:
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
        run = last_run(app, vendor, *statuses, entity=entity)
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


def latest_runs(app: App, vendor: str) -> list[SyncRun]:
    """Each entity's newest finished run."""
    runs = [last_run(app, vendor, RunStatus.OK, RunStatus.PARTIAL, RunStatus.FAILED, entity=entity)
            for entity in _entities(app, vendor)]
    return [run for run in runs if run is not None]
