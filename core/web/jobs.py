"""Imports started from the console run in a thread of their own, through the same core functions the
CLI calls, so a page can show their progress while they run. One import per integration at a time here;
across processes the core's integration lock says so when the daemon is syncing it."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from core.db import reason as db_reason
from core.db.clock import now
from core.errors import IntegratorError, UsageError
from core.sync.app import App
from core.sync.customers import import_customers
from core.sync.runs import RunReport
from core.sync.subscriptions import import_subscriptions
from core.web import audit

log = logging.getLogger("integrator.web")
ENTITIES = ("customers", "subscriptions")
KEEP = 50  # finished imports kept for their pages


@dataclass
class Job:
    id: str
    vendor: str
    entity: str
    dry_run: bool
    allow_mass_deactivation: bool
    session_label: str
    client: str | None
    started_at: datetime = field(default_factory=now)
    finished_at: datetime | None = None
    done: int = 0
    total: int = 0
    report: RunReport | None = None
    error: str | None = None
    action_id: int | None = None

    @property
    def running(self) -> bool:
        return self.finished_at is None

    @property
    def action(self) -> str:
        flags = " --dry-run" if self.dry_run else ""
        flags += " --allow-mass-deactivation" if self.allow_mass_deactivation else ""
        return f"import {self.entity} {self.vendor}{flags}"

    def as_json(self) -> dict[str, Any]:
        report = self.report
        return {"id": self.id, "running": self.running, "done": self.done, "total": self.total,
                "error": self.error, "status": report.status if report else None,
                "summary": report.summary() if report else None}


class Jobs:
    def __init__(self, app: App) -> None:
        self.app = app
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.cancel = threading.Event()  # set when the console stops: imports end at their next safe point

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def recent(self) -> list[Job]:
        with self._lock:
            return list(reversed(self._jobs.values()))

    def start(self, vendor: str, entity: str, *, dry_run: bool, allow_mass_deactivation: bool, session_label: str,
              client: str | None) -> Job:
        if entity not in ENTITIES:
            raise UsageError(f"no such import: {entity!r}")
        self.app.config.integration(vendor)  # unknown or disabled: the configuration's one-line error
        with self._lock:
            busy = next((j for j in self._jobs.values() if j.vendor == vendor and j.running), None)
            if busy is not None:
                raise UsageError(f"the console is already running '{busy.action}' (started "
                                 f"{busy.started_at.isoformat(timespec='seconds')} UTC); wait for it to finish")
            job = Job(secrets.token_urlsafe(9), vendor, entity, dry_run, allow_mass_deactivation, session_label,
                      client)
            job.action_id = audit.record(self.app.sessions, session_label, client, job.action, "started")
            self._jobs[job.id] = job
            finished = [k for k, j in self._jobs.items() if not j.running]
            for key in finished[:max(0, len(self._jobs) - KEEP)]:
                del self._jobs[key]
            if self.cancel.is_set():
                raise UsageError("the console is stopping")
            thread = threading.Thread(target=self._run, args=(job,), name=f"console-import-{vendor}", daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return job

    def stop(self, timeout: float = 60.0) -> None:
        """Ask running imports to stop between customers and wait for them to record how far they got."""
        self.cancel.set()
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self, job: Job) -> None:
        try:
            self._import(job)
            self._record(job)
        finally:  # only now does the page (and a test) see it finished: its record is complete
            job.finished_at = now()

    def _import(self, job: Job) -> None:
        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        try:
            if job.entity == "customers":
                job.report = import_customers(self.app, job.vendor, dry_run=job.dry_run, progress=progress,
                                              cancel=self.cancel)
            else:
                job.report = import_subscriptions(self.app, job.vendor, dry_run=job.dry_run, progress=progress,
                                                  allow_mass_deactivation=job.allow_mass_deactivation,
                                                  cancel=self.cancel)
        except IntegratorError as exc:  # e.g. the daemon holds the integration's lock
            job.error = str(exc)
        except SQLAlchemyError as exc:
            job.error = f"database error: {db_reason(exc)}"
        except Exception as exc:  # the page must say it ended, whatever happened
            log.exception("console import failed")
            job.error = f"internal error: {type(exc).__name__}: {exc}"

    def _record(self, job: Job) -> None:
        report = job.report
        outcome = "failed" if job.error else ("dry run" if job.dry_run else report.status if report else "failed")
        detail = job.error or (report.summary() if report else None)
        try:
            assert job.action_id is not None
            audit.finish(self.app.sessions, job.action_id, outcome, detail, report.run_id if report else None)
        except SQLAlchemyError as exc:
            log.error("could not record the console action %s: %s", job.action, db_reason(exc))
