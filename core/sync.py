"""Syncing one entity of one integration: fetch through the facade, plan, apply, record the run."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pluggy
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core import alerts, store
from core.config import Config
from core.db import reason as db_reason
from core.db.models import SyncRun
from core.errors import AuthenticationError, ConfigError, DatabaseError, IntegratorError, LockLostError
from core.locks import integration_lock
from core.names import lookup_name
from core.plugins import VendorFacade
from core.reconcile.customers import CREATE, MAP, SKIP, UPDATE, CustomerPlan, plan_customer_import, screen_companies
from core.reconcile.licences import LicenceChangeSet, LicencePlan, LicenceRow, plan_deleted, plan_listed
from core.reconcile.ownership import Claim, RunOwnership
from core.redact import mask_urls_in
from core.settings import VendorSettings
from core.types import Connection, Disappearance, LicenceGone, Listing, VendorCustomer, VendorSubscription
from core.workers import Workers, call_abandonable

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (done, total)
BATCH_CUSTOMERS = 200  # customers whose licences are written in one transaction
BATCH_SECONDS = 0.5  # ...or fewer, when their listings come slowly
PLAN_LINES_KEPT = 1000  # plan lines a run that writes keeps for its output; a dry run keeps all
STATISTICS_AFTER = 2000  # licences created in a run before the database's statistics are refreshed


@dataclass
class App:
    """What every command works with: the configuration, the plugins and the database."""

    config: Config
    pm: pluggy.PluginManager
    sessions: sessionmaker[Session]


@dataclass
class RunReport:
    vendor: str
    entity: str
    dry_run: bool = False
    status: str = "ok"
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
        tail = f"; {len(self.errors)} error(s)" if self.errors else ""
        state = "dry run, nothing written" if self.dry_run else self.status
        return f"{self.vendor} {self.entity} ({state}): {', '.join(parts)}{tail}"


def _settings(app: App, vendor: str) -> tuple[VendorSettings, VendorFacade]:
    return app.config.integration(vendor), VendorFacade(app.pm, vendor)


@contextmanager
def _recorded(app: App, report: RunReport) -> Iterator[None]:
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
            report.status = "failed"
            report.errors.append(str(exc))
        except SQLAlchemyError as exc:  # the database went away mid-run: what was committed stays
            report.status = "failed"
            report.errors.append(f"database error: {db_reason(exc)}")
        except BaseException as exc:
            report.status = "failed"
            report.errors.append(f"interrupted: {type(exc).__name__}: {exc}".rstrip(": "))
            _finish(app, report)
            raise
        _finish(app, report)


def _finish(app: App, report: RunReport) -> None:
    if report.status != "failed" and (report.errors or report.held_back):
        report.status = "partial"
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
            owned = session.execute(update(SyncRun).where(SyncRun.id == report.run_id, SyncRun.status == "running")
                                    .values(status=report.status, finished_at=store.now(), created=report.created,
                                            updated=report.updated, deactivated=report.deactivated,
                                            held_back=report.held_back,
                                            errors=[mask_urls_in(e) for e in report.errors])).rowcount
    except LockLostError as exc:
        owned, why = 0, str(exc)
    else:
        why = "another process marked this run failed while it ran; its outcome is not recorded"
    if not owned:
        report.status = "failed"
        if why not in report.errors:
            report.errors.append(why)


class Upstream:
    """The vendor as one sync sees it: one login and one company listing, shared by the entities
    synced together (``integrator run``) and made only when first needed. Failures are not kept,
    except a refused login: trying the same credentials again in one run can lock the account out."""

    def __init__(self, facade: VendorFacade, settings: VendorSettings, cancel: threading.Event | None = None) -> None:
        self.facade, self.settings, self.cancel = facade, settings, cancel
        self._connection: Connection | None = None
        self._companies: Listing[VendorCustomer] | None = None
        self._refused: AuthenticationError | None = None

    def connection(self) -> Connection:
        if self._refused is not None:
            raise type(self._refused)(str(self._refused))
        if self._connection is None:
            try:
                self._connection = call_abandonable(self.facade.connect, self.settings, cancel=self.cancel,
                                                    what="the login")
            except AuthenticationError as exc:
                self._refused = exc
                raise
        return self._connection

    def companies(self) -> Listing[VendorCustomer]:
        if self._companies is None:
            listing = call_abandonable(self.facade.list_customers, self.connection(), cancel=self.cancel,
                                       what="the company listing")
            items, problems = screen_companies(listing.items)
            self._companies = Listing(items, [*listing.problems, *problems])
        return self._companies

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@contextmanager
def _upstream(facade: VendorFacade, settings: VendorSettings, shared: Upstream | None,
              cancel: threading.Event | None = None) -> Iterator[Upstream]:
    """The shared upstream if the caller has one (and closes it); else one of this sync's own."""
    if shared is not None:
        yield shared
        return
    own = Upstream(facade, settings, cancel)
    try:
        yield own
    finally:
        own.close()


def _problems(listing: Listing[Any], prefix: str = "") -> list[str]:
    return [prefix + problem.describe() for problem in listing.problems]


# -- customers ---------------------------------------------------------------------------------

def import_customers(app: App, vendor: str, *, dry_run: bool = False, progress: Progress | None = None,
                     cancel: threading.Event | None = None, upstream: Upstream | None = None) -> RunReport:
    # ``progress`` is accepted so every entity sync has one signature; a customer import is a single
    # listing and a single transaction: a stop abandons the listing, or else lets the transaction end.
    settings, facade = _settings(app, vendor)
    report = RunReport(vendor, "customers", dry_run=dry_run)
    with _recorded(app, report), _upstream(facade, settings, upstream, cancel) as vendor_side:
        listing = vendor_side.companies()
        report.errors += _problems(listing)

        def plan_and_apply(session: Session) -> CustomerPlan:
            plan = plan_customer_import(
                listing.items, store.customer_rows(session), store.mapping_rows(session, vendor),
                update_main_site_address=settings.update_main_site_address,
            )
            if not dry_run:
                store.apply_customer_plan(session, vendor, plan, settings.top_level_for_new_customers)
            else:
                session.rollback()
            return plan

        plan = _replanned_on_conflict(app, plan_and_apply)
        _report_customer_plan(report, plan, settings.top_level_for_new_customers)
        report.end_lines()
    return report


def _replanned_on_conflict(app: App, work: Callable[[Session], CustomerPlan], attempts: int = 3) -> CustomerPlan:
    """Run ``work`` in a transaction; when another process created the same customer or mapping
    meanwhile (a unique constraint), plan again from what is there now."""
    for attempt in range(attempts):
        try:
            with app.sessions.begin() as session:
                return work(session)
        except IntegrityError as exc:
            if attempt == attempts - 1:
                raise DatabaseError(f"another process kept writing the same customers ({db_reason(exc)}); "
                                    "run the import again") from None
            log.info("customer import met a concurrent write; planning again")
    raise AssertionError("unreachable")


def generate_mappings(app: App, vendor: str) -> tuple[CustomerPlan, list[str]]:
    """Map every unmapped company to the customer of exactly the same name; nothing else."""
    settings, facade = _settings(app, vendor)
    with _upstream(facade, settings, None) as vendor_side:
        listing = vendor_side.companies()

    def plan_and_apply(session: Session) -> CustomerPlan:
        plan = plan_customer_import(listing.items, store.customer_rows(session), store.mapping_rows(session, vendor),
                                    update_main_site_address=False, create_new=False)
        plan.actions = [a for a in plan.actions if a.kind in (MAP, SKIP)]
        store.apply_customer_plan(session, vendor, plan, None)
        return plan

    return _replanned_on_conflict(app, plan_and_apply), _problems(listing)


def _report_customer_plan(report: RunReport, plan: CustomerPlan, top_level: str | None) -> None:
    counts = plan.counts()
    report.created = counts[CREATE]
    report.updated = counts[MAP] + counts[UPDATE]
    report.unchanged = counts["unchanged"]
    report.skipped = counts[SKIP]
    for action in plan.actions:
        label = action.label()
        if action.kind == CREATE:
            under = f" under {top_level!r}" if top_level else ""
            report.add_lines([f"create    {label}: new customer{under}"])
        elif action.kind == MAP:
            report.add_lines([f"map       {label} -> customer {action.customer_name!r}" + _fields(action.changes)])
        elif action.kind == UPDATE:
            report.add_lines([f"update    {label} (customer {action.customer_name!r})" + _fields(action.changes)])
        elif action.kind == SKIP:
            report.add_lines([f"skip      {label}: {action.reason}"])
            if action.needs_attention:
                report.errors.append(f"{label}: {action.reason}")


def _fields(changes: dict[str, tuple[Any, Any]]) -> str:
    if not changes:
        return ""
    return ": " + ", ".join(f"{k} {_show(old)} -> {_show(new)}" for k, (old, new) in changes.items())


def _show(value: Any) -> str:
    return "(none)" if value is None else repr(store.as_text(value))


# -- subscriptions -----------------------------------------------------------------------------

@dataclass
class _Target:
    company: VendorCustomer
    customer_id: int
    customer_name: str

    @property
    def label(self) -> str:
        return f"{self.company.name} ({self.company.external_id})"


def _select_targets(app: App, vendor: str, settings: VendorSettings, companies: list[VendorCustomer],
                    report: RunReport) -> list[_Target]:
    with app.sessions() as session:
        mapped = store.mapped_customers(session, vendor)
    upstream = {c.external_id: c for c in companies}
    wanted = settings.customer_subscriptions_to_import
    if wanted == "all":
        chosen = list(mapped)
    else:
        chosen = []
        for entry in wanted:
            key = lookup_name(str(entry))  # names are stored NFC and trimmed: "Café" typed on a Mac is NFD
            hits = [ext for ext, (_, _, ext_name) in mapped.items()
                    if key == ext or key == ext_name or (ext in upstream and upstream[ext].name == key)]
            if not hits:
                raise ConfigError(f"{app.config.path}: integrations.{vendor}.customer_subscriptions_to_import: "
                                  f"{key!r} matches no mapped company (see 'integrator mappings list {vendor}')")
            chosen += [h for h in hits if h not in chosen]
    targets = []
    for ext in sorted(chosen, key=lambda e: (len(e), e)):
        customer_id, customer_name, ext_name = mapped[ext]
        company = upstream.get(ext)
        if company is None:
            report.errors.append(f"{ext_name or '?'} ({ext}): not in the vendor's company listing; "
                                 "its licences are left as they were")
            continue
        targets.append(_Target(company, customer_id, customer_name))
    return targets


def import_subscriptions(app: App, vendor: str, *, dry_run: bool = False, allow_mass_deactivation: bool = False,
                         progress: Progress | None = None, cancel: threading.Event | None = None,
                         upstream: Upstream | None = None) -> RunReport:
    settings, facade = _settings(app, vendor)
    report = RunReport(vendor, "subscriptions", dry_run=dry_run)
    with _recorded(app, report), _upstream(facade, settings, upstream, cancel) as vendor_side:
        companies = vendor_side.companies()
        connection = vendor_side.connection()
        report.errors += _problems(companies)
        targets = _select_targets(app, vendor, settings, companies.items, report)
        run = _LicenceRun(app, vendor, settings, facade, report, allow_mass_deactivation, targets)

        def fetch(target: _Target) -> tuple[_Target, Listing[VendorSubscription] | None, str | None]:
            try:
                return target, facade.list_subscriptions(connection, target.company), None
            except IntegratorError as exc:
                return target, None, str(exc)

        done = 0
        batch: list[tuple[_Target, Listing[VendorSubscription]]] = []
        flushed = time.monotonic()
        # A stop abandons the listings in flight (never waited for, never written): see core.workers.
        with Workers(settings.max_concurrency, name="listing") as pool:
            for target, listing, error in pool.map_bounded(fetch, targets, settings.max_concurrency * 32, cancel):
                if listing is None:
                    report.errors.append(f"{target.label}: {error}")
                    run.listing_failed(target)
                else:
                    report.errors += _problems(listing, prefix=f"{target.label}: ")
                    batch.append((target, listing))
                # Few transactions for speed, but never long without committing what is done.
                if len(batch) >= BATCH_CUSTOMERS or (batch and time.monotonic() - flushed > BATCH_SECONDS):
                    run.write_batch(batch)
                    batch, flushed = [], time.monotonic()
                done += 1
                if progress is not None:
                    progress(done, len(targets))
            if batch:
                run.write_batch(batch)
        run.refresh_statistics(final=True)
        complete = done == len(targets)
        if not complete:
            report.status = "failed"
            report.errors.append(f"stopped after {done} of {len(targets)} customers; the rest were left as they were")
        run.decide_deletions(complete)
        report.end_lines()
    return report


class _LicenceRun:
    """The licences of one subscription sync: listings are planned and written per batch, but whether a
    licence moved, is listed twice or was deleted is decided across the whole run
    (:mod:`core.reconcile.ownership`), so the result never depends on how the run was batched."""

    def __init__(self, app: App, vendor: str, settings: VendorSettings, facade: VendorFacade, report: RunReport,
                 allow_mass: bool, targets: list[_Target]) -> None:
        self.app, self.vendor, self.settings, self.facade = app, vendor, settings, facade
        self.report, self.allow_mass = report, allow_mass
        self.labels = {t.company.external_id: t.label for t in targets}
        self.ownership = RunOwnership(self.labels)
        # Only for companies whose listing lacked a licence they hold: what the guard needs at the end.
        self.lacking: dict[str, tuple[_Target, int, set[str], int]] = {}
        # New licences -> the company that creates them. A real run writes each batch, so a later batch
        # sees the row an earlier one created and this is kept per batch only (memory stays bounded by the
        # window); a dry run rolls each batch back, so there it is kept for the whole run.
        self.new_here: dict[str, str] = {}
        self.created_since_statistics = 0  # licences created since the planner statistics were refreshed
        self.created_before_statistics = 0

    def listing_failed(self, target: _Target) -> None:
        for waiting in self.ownership.failed(target.company.external_id):
            lister, sub = waiting.payload
            self._twice(lister, sub, target.company.external_id, "whose listing failed; left there")

    def _twice(self, lister: _Target, sub: VendorSubscription, holder: str, how: str) -> None:
        self.report.errors.append(f"{lister.label}: {sub.name} ({sub.external_id}): also listed under "
                                  f"{self.labels.get(holder, holder)}, {how}")

    def write_batch(self, batch: list[tuple[_Target, Listing[VendorSubscription]]]) -> None:
        """Plan each customer of the batch, in run order, and apply them all in one transaction."""
        report = self.report
        with self.app.sessions.begin() as session:
            current = store.licence_rows_by_company(
                session, self.vendor,
                {t.company.external_id: [s.external_id for s in listing.items] for t, listing in batch})
            writes: list[tuple[str, LicenceChangeSet]] = []
            plans: list[tuple[_Target, LicencePlan]] = []
            new_here = self.new_here if self.report.dry_run else {}
            for target, listing in batch:
                company = target.company.external_id
                rows = current.get(company, [])
                held = [row for row in rows if row.vendor_customer_id == company]
                unreadable = {p.external_id for p in listing.problems if p.external_id}
                listed = {s.external_id for s in listing.items} | unreadable
                settled = self.ownership.listed(company, (row.external_id for row in held), listed)
                if any(row.external_id not in listed for row in held):
                    unidentified = sum(1 for p in listing.problems if not p.external_id)
                    self.lacking[company] = (target, len(listing.items), unreadable, unidentified)
                for waiting in settled.kept:
                    lister, sub = waiting.payload
                    self._twice(lister, sub, company, "which keeps it")
                for waiting in settled.moves:  # listed earlier in the run by another company: it moves there
                    lister, sub = waiting.payload
                    row = next(r for r in held if r.external_id == sub.external_id)
                    plans.append((lister, self._plan(lister, [sub], [row], writes)))
                by_external = {row.external_id: row for row in rows}
                items = []
                for sub in listing.items:
                    row = by_external.get(sub.external_id)
                    if row is None:
                        if sub.external_id in new_here:
                            self._twice(target, sub, new_here[sub.external_id], "which keeps it")
                            continue
                        new_here[sub.external_id] = company
                    elif row.vendor_customer_id != company:
                        claim = self.ownership.claim(sub.external_id, row.vendor_customer_id, company, (target, sub))
                        if claim is Claim.HELD_BY_HOLDER:
                            self._twice(target, sub, row.vendor_customer_id, "which keeps it")
                        elif claim is Claim.HOLDER_FAILED:
                            self._twice(target, sub, row.vendor_customer_id, "whose listing failed; left there")
                        elif claim is Claim.TAKEN:
                            first = self.ownership.claimant(sub.external_id) or row.vendor_customer_id
                            self._twice(target, sub, first, "which listed it first in this run")
                        if claim is not Claim.MOVE:
                            continue
                    items.append(sub)
                plans.append((target, self._plan(target, items, rows, writes)))
            self._apply(session, writes)
        for target, plan in plans:
            _report_licence_plan(report, target, plan)
        self.created_since_statistics += sum(len(plan.creates) for _, plan in plans)
        self.refresh_statistics()

    def refresh_statistics(self, final: bool = False) -> None:
        """A first import grows the licence table from nothing: refresh the database's statistics each
        time it has doubled (and at the end), or every later batch is planned as if it were empty."""
        created, before = self.created_since_statistics, self.created_before_statistics
        if self.report.dry_run or created < STATISTICS_AFTER or (created < before and not final):
            return
        with self.app.sessions.begin() as session:
            store.refresh_statistics(session)
        self.created_before_statistics, self.created_since_statistics = before + created, 0

    def _plan(self, target: _Target, items: list[VendorSubscription], rows: list[LicenceRow],
              writes: list[tuple[str, LicenceChangeSet]]) -> LicencePlan:
        existing = {row.external_id for row in rows}
        terminated = [LicenceGone(s.external_id, s.name, Disappearance.TERMINATED)
                      for s in items if s.terminated and s.external_id in existing]
        decisions = {d.external_id: d.action for d in self.facade.deactivate(terminated, self.settings)}
        plan = plan_listed(target.company, target.customer_id, items, rows, decisions,
                           set_price_and_cost=self.settings.set_price_and_cost)
        writes += [(target.company.external_id, change) for change in plan.writes]
        return plan

    def _apply(self, session: Session, writes: list[tuple[str, LicenceChangeSet]]) -> None:
        if self.report.dry_run:
            session.rollback()
        else:
            store.apply_licence_changes(session, self.vendor, writes, self.report.run_id)

    def decide_deletions(self, complete: bool) -> None:
        """Once every listing is in: the licences gone from their holder's listing and claimed by no other."""
        candidates = self.ownership.deletion_candidates()
        if not candidates:
            return
        count = sum(len(ids) for ids in candidates.values())
        if not complete or self.ownership.any_failed():
            why = "the run stopped early" if not complete else "a listing failed, and it may hold them"
            self.report.held_back += count
            self.report.errors.append(
                f"{count} licence(s) missing from their company's listing were left as they were: {why}; "
                "they are decided by the next run in which every listing succeeds")
            return
        companies = sorted(candidates, key=lambda c: (len(c), c))
        for start in range(0, len(companies), BATCH_CUSTOMERS):
            chunk = companies[start:start + BATCH_CUSTOMERS]
            plans: list[tuple[_Target, LicencePlan]] = []
            with self.app.sessions.begin() as session:
                current = store.licence_rows_by_company(session, self.vendor, {c: [] for c in chunk})
                writes: list[tuple[str, LicenceChangeSet]] = []
                for company in chunk:
                    target, listed_count, unreadable, unidentified = self.lacking[company]
                    rows = current.get(company, [])
                    ids = candidates[company]
                    gone = [LicenceGone(r.external_id, r.name, Disappearance.DELETED)
                            for r in rows if r.external_id in ids and r.vendor_customer_id == company]
                    decisions = {d.external_id: d.action for d in self.facade.deactivate(gone, self.settings)}
                    plan = plan_deleted(target.company, rows, ids, decisions, listed_count=listed_count,
                                        unreadable=unreadable, unidentified=unidentified,
                                        mass_threshold=self.settings.mass_deactivation_threshold,
                                        allow_mass_deactivation=self.allow_mass)
                    writes += [(company, change) for change in plan.writes]
                    plans.append((target, plan))
                self._apply(session, writes)
            for target, plan in plans:
                _report_licence_plan(self.report, target, plan)


def _report_licence_plan(report: RunReport, target: _Target, plan: LicencePlan) -> None:
    report.created += len(plan.creates)
    report.updated += len(plan.updates)
    report.deactivated += len(plan.deactivations)
    report.held_back += len(plan.held_back)
    report.unchanged += plan.unchanged
    report.skipped += len(plan.skipped)
    who = target.customer_name

    def line(verb: str, change: LicenceChangeSet) -> str:
        text = f"{verb:<10}{who}: {change.name} ({change.external_id})"
        if change.reason:
            text += f" [{change.reason} upstream]"
        if change.licence_id is None:
            return text + f": quantity {change.values.get('quantity')}"
        return text + _fields({k: v for k, v in change.changes.items() if k != "customer_id"})

    if report.dry_run or len(report.lines) < PLAN_LINES_KEPT:
        report.add_lines(line("create", c) for c in plan.creates)
        report.add_lines(line("update", c) for c in plan.updates)
        report.add_lines(line("deactivate", c) for c in plan.deactivations)
        report.add_lines(line("hold back", c) for c in plan.held_back)
        report.add_lines(f"skip      {who}: {s}" for s in plan.skipped + plan.problems)
    else:  # not even made: a large first import would spend its CPU on lines nobody sees
        report.lines_left_out += (len(plan.creates) + len(plan.updates) + len(plan.deactivations)
                                  + len(plan.held_back) + len(plan.skipped) + len(plan.problems))
    label = f"{target.company.name} ({target.company.external_id})"
    report.errors += [f"{label}: {problem}" for problem in plan.problems]
    if plan.held_back:
        report.errors.append(
            f"{target.company.name} ({target.company.external_id}): held back {len(plan.held_back)} "
            f"deactivation(s): {plan.guard_reason}; re-run with --allow-mass-deactivation if they are real")


ENTITY_SYNCS: dict[str, Callable[..., RunReport]] = {
    "customers": import_customers,
    "subscriptions": import_subscriptions,
}
