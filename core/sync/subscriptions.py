"""The subscription import: listings fetched concurrently, planned and written per batch; deletions decided
across the run."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.config.settings import VendorSettings
from core.db import store
from core.db.models import RunStatus
from core.errors import ConfigError, IntegratorError
from core.host.plugins import VendorFacade
from core.planning.licences import LicenceChangeSet, LicencePlan, LicenceRow, plan_deleted, plan_listed
from core.planning.names import lookup_name
from core.planning.ownership import Claim, RunOwnership
from core.sync.app import App
from core.sync.listing_processes import ListingProcesses, processes_for
from core.sync.runs import PLAN_LINES_KEPT, Progress, RunReport, changes_text, recorded
from core.sync.upstream import Upstream, integration, problems_of, upstream_for
from core.text import counted
from core.types import Disappearance, LicenceGone, Listing, VendorCustomer, VendorSubscription
from core.workers import Workers

BATCH_CUSTOMERS = 200  # customers whose licences are written in one transaction
BATCH_SECONDS = 0.5  # ...or fewer, when their listings come slowly
STATISTICS_AFTER = 2000  # licences created in a run before the database's statistics are refreshed


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
    settings, facade = integration(app, vendor)
    report = RunReport(vendor, "subscriptions", dry_run=dry_run)
    with recorded(app, report), upstream_for(facade, settings, upstream, cancel) as vendor_side:
        companies = vendor_side.companies()
        connection = vendor_side.connection()
        report.errors += problems_of(companies)
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
        processes = processes_for(len(targets), connection, facade)
        with (ListingProcesses(processes, connection, facade, -(-settings.max_concurrency // processes))
              if processes else Workers(settings.max_concurrency, name="listing")) as pool:
            listings = (pool.map(targets, lambda t: t.company, cancel) if isinstance(pool, ListingProcesses)
                        else pool.map_bounded(fetch, targets, settings.max_concurrency * 32, cancel))
            for target, listing, error in listings:
                if listing is None:
                    report.errors.append(f"{target.label}: {error}")
                    run.listing_failed(target)
                else:
                    report.errors += problems_of(listing, prefix=f"{target.label}: ")
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
            report.status = RunStatus.FAILED
            report.errors.append(f"stopped after {done} of {len(targets)} customers; the rest were left as they were")
        run.decide_deletions(complete)
        report.end_lines()
    return report


class _LicenceRun:
    """The licences of one subscription sync: listings are planned and written per batch, but whether a
    licence moved, is listed twice or was deleted is decided across the whole run
    (:mod:`core.planning.ownership`), so the result never depends on how the run was batched."""

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
                f"{counted(count, 'licence')} missing from their company's listing " + ("was" if count == 1 else "were")
                + f" left as they were: {why}; "
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
        return text + changes_text({k: v for k, v in change.changes.items() if k != "customer_id"})

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
            f"{target.company.name} ({target.company.external_id}): held back "
            f"{counted(len(plan.held_back), 'deactivation')}: {plan.guard_reason}; "
            "re-run with --allow-mass-deactivation if they are real")
