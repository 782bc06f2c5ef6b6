"""The customer import, and mapping generation: companies to customers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import reason as db_reason
from core.db import store
from core.errors import DatabaseError
from core.planning.customers import CREATE, MAP, SKIP, UNCHANGED, UPDATE, CustomerPlan, plan_customer_import
from core.sync.app import App
from core.sync.runs import Progress, RunReport, changes_text, recorded
from core.sync.upstream import Upstream, integration, problems_of, upstream_for

log = logging.getLogger(__name__)

def import_customers(app: App, vendor: str, *, dry_run: bool = False, progress: Progress | None = None,
                     cancel: threading.Event | None = None, upstream: Upstream | None = None) -> RunReport:
    # ``progress`` is accepted so every entity sync has one signature; a customer import is a single
    # listing and a single transaction: a stop abandons the listing, or else lets the transaction end.
    settings, facade = integration(app, vendor)
    report = RunReport(vendor, "customers", dry_run=dry_run)
    with recorded(app, report), upstream_for(facade, settings, upstream, cancel) as vendor_side:
        listing = vendor_side.companies()
        report.errors += problems_of(listing)

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
    settings, facade = integration(app, vendor)
    with upstream_for(facade, settings, None) as vendor_side:
        listing = vendor_side.companies()

    def plan_and_apply(session: Session) -> CustomerPlan:
        plan = plan_customer_import(listing.items, store.customer_rows(session), store.mapping_rows(session, vendor),
                                    update_main_site_address=False, create_new=False)
        plan.actions = [a for a in plan.actions if a.kind in (MAP, SKIP)]
        store.apply_customer_plan(session, vendor, plan, None)
        return plan

    return _replanned_on_conflict(app, plan_and_apply), problems_of(listing)


def _report_customer_plan(report: RunReport, plan: CustomerPlan, top_level: str | None) -> None:
    counts = plan.counts()
    report.created = counts[CREATE]
    report.updated = counts[MAP] + counts[UPDATE]
    report.unchanged = counts[UNCHANGED]
    report.skipped = counts[SKIP]
    for action in plan.actions:
        label = action.label()
        if action.kind == CREATE:
            under = f" under {top_level!r}" if top_level else ""
            report.add_lines([f"create    {label}: new customer{under}"])
        elif action.kind == MAP:
            report.add_lines([f"map       {label} -> customer {action.customer_name!r}" + changes_text(action.changes)])
        elif action.kind == UPDATE:
            report.add_lines([f"update    {label} (customer {action.customer_name!r})" + changes_text(action.changes)])
        elif action.kind == SKIP:
            report.add_lines([f"skip      {label}: {action.reason}"])
            if action.needs_attention:
                report.errors.append(f"{label}: {action.reason}")
