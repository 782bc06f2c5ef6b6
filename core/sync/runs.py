"""Recording a run: its report, the integration lock, the outcome written over its own 'running', the alerts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from core.db import clock, store
from core.db import reason as db_reason
from core.db.models import RunStatus, SyncRun
from core.errors import IntegratorError, LockLostError
from core.redact import mask_urls_in
from core.sync import alerts
from core.sync.app import App
from core.sync.locks import integration_lock
from core.text import counted

Progress = Callable[[int, int], None]  # (done, total)
PLAN_LINES_KEPT = 1000  # plan lines a run that writes keeps for its output; a dry run keeps all


@dataclass
class RunReport:
    vendor: str
    entity: str
    dry_run: bool = False
    status: str = RunStatus.OK
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    held_back: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # the plan, record by record (see add_lines)
    lines_left_out: int = 0
    run_id: int | None = None

    def add_lines(self, lines: Iterable[str]) -> None:
        """Keep the plan's lines: all of them for a dry run (the plan is what it is for), the first
        PLAN_LINES_KEPT otherwise, so that a run's memory does not grow with every licence it writes."""
        for line in lines:
            if self.dry_run or len(self.lines) < PLAN_LINES_KEPT:
                self.lines.append(line)
            else:
                self.lines_left_out += 1

    def end_lines(self) -> None:
        if self.lines_left_out:
            self.lines.append(f"... and {self.lines_left_out} more (--dry-run lists every one)")

    def summary(self) -> str:
        parts = [f"{self.created} created", f"{self.updated} updated", f"{self.deactivated} deactivated"]
        if self.held_back:
            parts.append(f"{self.held_back} held back")
        parts += [f"{self.unchanged} unchanged", f"{self.skipped} skipped"]
        tail = f"; {counted(len(self.errors), 'error')}" if self.errors else ""
        state = "dry run, nothing written" if self.dry_run else self.status
        return f"{self.vendor} {self.entity} ({state}): {', '.join(parts)}{tail}"



@contextmanager
def recorded(app: App, report: RunReport) -> Iterator[None]:
    """Hold the integration lock and record the run, whatever happens inside."""
    if report.dry_run:
        yield
        return
    with integration_lock(app.sessions, report.vendor):
        with app.sessions.begin() as session:
            report.run_id = store.start_run(session, report.vendor, report.entity).id
        try:
            yield
        except IntegratorError as exc:
            report.status = RunStatus.FAILED
            report.errors.append(str(exc))
        except SQLAlchemyError as exc:  # the database went away mid-run: what was committed stays
            report.status = RunStatus.FAILED
            report.errors.append(f"database error: {db_reason(exc)}")
        except BaseException as exc:
            report.status = RunStatus.FAILED
            report.errors.append(f"interrupted: {type(exc).__name__}: {exc}".rstrip(": "))
            _finish(app, report)
            raise
        _finish(app, report)


def _finish(app: App, report: RunReport) -> None:
    if report.status != RunStatus.FAILED and (report.errors or report.held_back):
        report.status = RunStatus.PARTIAL
    _record(app, report)
    for event in alerts.events_of(report.status, report.held_back):
        alerts.notify(app.config.alerts, event, {
            "vendor": report.vendor, "entity": report.entity, "run_id": report.run_id, "status": report.status,
            "held_back": report.held_back, "errors": [mask_urls_in(e) for e in report.errors[:50]],
            "summary": report.summary()})


def _record(app: App, report: RunReport) -> None:
    """Write the run's outcome only over its own 'running' (compare-and-set): a run another process
    took for dead stays failed, and a run that lost its lock writes nothing (the next sync fails it)."""
    try:
        with app.sessions.begin() as session:
            mine = (SyncRun.id == report.run_id) & (SyncRun.status == RunStatus.RUNNING)
            owned = session.execute(update(SyncRun).where(mine)
                                    .values(status=report.status, finished_at=clock.now(), created=report.created,
                                            updated=report.updated, deactivated=report.deactivated,
                                            held_back=report.held_back,
                                            errors=[mask_urls_in(e) for e in report.errors])).rowcount
    except LockLostError as exc:
        owned, why = 0, str(exc)
    else:
        why = "another process marked this run failed while it ran; its outcome is not recorded"
    if not owned:
        report.status = RunStatus.FAILED
        if why not in report.errors:
            report.errors.append(why)



def changes_text(changes: dict[str, tuple[Any, Any]]) -> str:
    if not changes:
        return ""
    return ": " + ", ".join(f"{k} {_shown(old)} -> {_shown(new)}" for k, (old, new) in changes.items())


def _shown(value: Any) -> str:
    return "(none)" if value is None else repr(store.as_text(value))
