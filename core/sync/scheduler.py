"""The integrator daemon: each enabled integration's entities synced daily at its run_at.

Built on ``schedule``. A stop signal (SIGTERM/SIGINT) lets the customer in flight finish its
transaction, records the run, and exits 0. A job that raises is logged and the daemon goes on.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import FrameType

import schedule

from core.db import clock
from core.db.models import RunStatus
from core.errors import IntegratorError, LockedError
from core.host.plugins import VendorFacade
from core.sync.alerts import notify
from core.sync.app import App
from core.sync.customers import import_customers
from core.sync.history import last_completed
from core.sync.locks import integration_lock
from core.sync.retry import next_retry
from core.sync.runs import Progress, RunReport
from core.sync.status import stale_integrations
from core.sync.subscriptions import import_subscriptions
from core.sync.upstream import Upstream

log = logging.getLogger("integrator.runs")
CATCH_UP_AFTER = timedelta(days=1)
ENTITY_SYNCS: dict[str, Callable[..., RunReport]] = {
    "customers": import_customers,
    "subscriptions": import_subscriptions,
}
#: A sync's events carry its outcome: a failed one is an error, a partial one a warning.
LEVELS = {RunStatus.OK: logging.INFO, RunStatus.PARTIAL: logging.WARNING, RunStatus.FAILED: logging.ERROR}


def scheduled_vendors(app: App) -> list[str]:
    return [v for v, s in app.config.integrations.items() if s.enabled and s.integrator.enabled]


def sync_integration(app: App, vendor: str, *, cancel: threading.Event | None = None,
                     progress: Callable[[str], Progress | None] | None = None) -> list[RunReport]:
    """Sync the integration's entities_to_sync, customers before subscriptions, holding its lock throughout."""
    settings = app.config.integrations[vendor]
    reports = []
    upstream = Upstream(VendorFacade(app.pm, vendor), settings, cancel)  # one login and company listing for all
    with integration_lock(app.sessions, vendor), contextlib.closing(upstream):
        for entity in settings.integrator.ordered_entities():
            if cancel is not None and cancel.is_set():
                break
            started = time.monotonic()
            log.info("event=sync_start vendor=%s entity=%s", vendor, entity)
            report = ENTITY_SYNCS[entity](app, vendor, cancel=cancel, upstream=upstream,
                                          progress=progress(entity) if progress else None)
            level = LEVELS.get(report.status, logging.ERROR)
            log.log(level, "event=sync_done vendor=%s entity=%s status=%s created=%d updated=%d deactivated=%d "
                     "held_back=%d errors=%d duration=%.2fs", vendor, entity, report.status, report.created,
                     report.updated, report.deactivated, report.held_back, len(report.errors),
                     time.monotonic() - started)
            for error in report.errors:
                log.log(level, "event=sync_error vendor=%s entity=%s error=%r", vendor, entity, error)
            reports.append(report)
    return reports


def sync_all(app: App, *, cancel: threading.Event | None = None,
             progress: Callable[[str], Progress | None] | None = None,
             skipped: dict[str, str] | None = None) -> list[RunReport]:
    """One sync of every scheduled integration (``integrator run --once``).

    With ``skipped`` given, an integration another process is syncing is skipped and put there, its
    name with the reason (so that several processes share the integrations); without it, that is an error.
    """
    reports: list[RunReport] = []
    for vendor in scheduled_vendors(app):
        try:
            reports += sync_integration(app, vendor, cancel=cancel, progress=progress)
        except LockedError as exc:
            if skipped is None:
                raise
            skipped[vendor] = str(exc)
    return reports


@dataclass
class OnceOutcome:
    """``integrator run --once``: every report, the integrations skipped as locked elsewhere, and the
    status of each integration and of the whole, as both faces show them."""

    reports: list[RunReport]
    skipped: dict[str, str]  # vendor -> why (another process is syncing it)
    interrupted: bool
    integrations: dict[str, RunStatus] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(r.status == RunStatus.OK for r in self.reports)

    @property
    def status(self) -> RunStatus:
        return RunStatus.INTERRUPTED if self.interrupted else RunStatus.OK if self.ok else RunStatus.FAILED


def run_once(app: App, *, skip_locked: bool = False, cancel: threading.Event | None = None,
             progress: Callable[[str], Progress | None] | None = None) -> OnceOutcome:
    """One sync of every scheduled integration, with each integration's status decided here."""
    skipped: dict[str, str] = {}
    reports = sync_all(app, cancel=cancel, progress=progress, skipped=skipped if skip_locked else None)
    outcome = OnceOutcome(reports, skipped, interrupted=cancel is not None and cancel.is_set())
    for vendor in scheduled_vendors(app):
        mine = [r.status for r in reports if r.vendor == vendor]
        outcome.integrations[vendor] = (
            RunStatus.SKIPPED if vendor in skipped else
            RunStatus.OK if mine and all(s == RunStatus.OK for s in mine) else
            RunStatus.INTERRUPTED if outcome.interrupted and not mine else
            RunStatus.FAILED if RunStatus.FAILED in mine or not mine else RunStatus.PARTIAL)
    return outcome


class Daemon:
    """``integrator run``: the daily schedule, catch-up at start, clean stop on a signal."""

    def __init__(self, app: App, scheduler: schedule.Scheduler | None = None) -> None:
        self.app = app
        self.scheduler = scheduler or schedule.Scheduler()
        self.stop = threading.Event()
        for vendor in scheduled_vendors(app):
            run_at = app.config.integrations[vendor].integrator.run_at
            self.scheduler.every().day.at(run_at).do(self.job, vendor).tag(vendor)
        self.scheduler.every().hour.do(self.check_stale).tag("stale-check")
        self._alerted_stale: set[str] = set()

    def check_stale(self) -> list[str]:
        """Alert once per stale episode of each integration; returns the stale ones."""
        stale = stale_integrations(self.app, timedelta(hours=self.app.config.stale_after_hours))
        vendors = {line.split(":", 1)[0] for line in stale}
        for line in stale:
            vendor = line.split(":", 1)[0]
            if vendor not in self._alerted_stale:
                log.warning("event=stale %s", line)
                notify(self.app.config.alerts, "stale", {"vendor": vendor, "summary": line, "errors": [line]})
        self._alerted_stale = vendors
        return stale

    def job(self, vendor: str) -> None:
        """One scheduled sync; whatever it raises is logged, never fatal to the daemon."""
        if self.stop.is_set():
            return
        try:
            sync_integration(self.app, vendor, cancel=self.stop)
        except LockedError as exc:
            log.warning("event=sync_skipped vendor=%s reason=%r", vendor, str(exc))
        except IntegratorError as exc:
            log.error("event=sync_failed vendor=%s error=%r", vendor, str(exc))
        except Exception as exc:  # a bug in one job must not stop tomorrow's
            log.error("event=sync_crashed vendor=%s error=%r", vendor, f"{type(exc).__name__}: {exc}")

    def catch_up(self) -> list[str]:
        """Sync at once every integration whose last completed sync (ok or partial) is older than a day (the
        daemon was down)."""
        due = []
        for vendor in scheduled_vendors(self.app):
            last = last_completed(self.app, vendor)
            if last is None or clock.now() - last > CATCH_UP_AFTER:
                log.info("event=catch_up vendor=%s last_completed=%s", vendor, last.isoformat() if last else "never")
                due.append(vendor)
                self.job(vendor)
        return due

    def retry_due(self) -> list[str]:
        """Sync again every integration whose failed sync's retry time has come (retry_after_failure)."""
        due = []
        for vendor in scheduled_vendors(self.app):
            if self.stop.is_set():
                break
            when = next_retry(self.app, vendor)
            if when is not None and clock.now() >= when:
                log.info("event=retry vendor=%s due=%s", vendor, when.isoformat(timespec="seconds"))
                due.append(vendor)
                self.job(vendor)
        return due

    def install_signal_handlers(self) -> None:
        def handle(signum: int, _frame: FrameType | None) -> None:
            log.info("event=stopping signal=%s", signal.Signals(signum).name)
            self.stop.set()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    def run_forever(self, max_sleep: float = 30.0) -> None:
        jobs = ", ".join(f"{next(iter(j.tags))} " + (f"at {j.at_time}" if j.at_time else f"every {j.interval} {j.unit}")
                         for j in self.scheduler.get_jobs())
        log.info("event=daemon_start jobs=%r", jobs or "none")
        self.catch_up()
        self.check_stale()
        while not self.stop.is_set():
            self.scheduler.run_pending()
            self.retry_due()
            idle = self.scheduler.idle_seconds
            self.stop.wait(timeout=max(0.05, min(max_sleep, idle if idle is not None else max_sleep)))
        log.info("event=daemon_stop")
