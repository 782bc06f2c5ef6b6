"""Imports (dry-run plan, "Start", live progress, result, "Allow"), Licences and History."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import shapes
from core.db import store
from core.errors import IntegratorError
from core.sync.app import App
from core.sync.status import integration_status, recent_runs
from core.web import audit
from core.web.jobs import ENTITIES, Job
from core.web.pages import action, back, client_of, console_of, page, vendor_of
from core.web.security import ConsoleSession

VERBS = ("hold back", "deactivate", "create", "update", "map", "skip")
LICENCES_SHOWN = 500
HISTORY_SHOWN = 2000


def plan_rows(lines: list[str]) -> list[dict[str, str]]:
    """The report's plan lines ("create    Contoso Ltd (100010): ...") as (action, what) for a table."""
    rows = []
    for line in lines:
        verb = next((v for v in VERBS if line.startswith(v)), "")
        rows.append({"kind": verb or "note", "text": line[len(verb):].strip() if verb else line})
    return rows


# -- imports ------------------------------------------------------------------------------------

@page
async def imports(request: Request, session: ConsoleSession) -> Response:
    console = console_of(request)
    vendors = [{"vendor": v, "enabled": s.enabled} for v, s in console.app.config.integrations.items()]
    return console.render(request, session, "imports.html", active="imports", integrations=vendors,
                          jobs=console.jobs.recent())


@action
async def start_import(request: Request, session: ConsoleSession, form: FormData) -> Response:
    console = console_of(request)
    vendor = vendor_of(request, console.app)
    entity = str(request.path_params["entity"])
    if entity not in ENTITIES:
        raise HTTPException(404, "no such import")
    dry_run = form.get("mode") != "start"
    allow = form.get("allow") == "1"
    if allow and form.get("confirm") != "yes":
        console.flash(session, "error", "Tick the box to confirm that these deactivations are real.")
        return back(str(form.get("job_page") or "/imports"))
    try:
        job = console.jobs.start(vendor, entity, dry_run=dry_run, allow_mass_deactivation=allow,
                                 session_label=session.label, client=client_of(request))
    except IntegratorError as exc:
        console.flash(session, "error", str(exc))
        await console.record(request, session, f"import {entity} {vendor}", "refused", str(exc))
        return back("/imports")
    return back(f"/imports/job/{quote(job.id)}")


def _job(request: Request) -> Job:
    job = console_of(request).jobs.get(str(request.path_params["job"]))
    if job is None:
        raise HTTPException(404, "no such import in this console (it may have been started before a restart)")
    return job


@page
async def job_page(request: Request, session: ConsoleSession) -> Response:
    console = console_of(request)
    job = _job(request)
    report = job.report
    title = f"Import {job.entity}"
    return console.render(
        request, session, "job.html", active="imports", job=job, report=report, title=title,
        rows=plan_rows(report.lines) if report else [],
        counts=_counts(report) if report else [])


def _counts(report: Any) -> list[tuple[str, int]]:
    pairs = [("created", report.created), ("updated", report.updated), ("deactivated", report.deactivated),
             ("held back", report.held_back), ("unchanged", report.unchanged), ("skipped", report.skipped),
             ("errors", len(report.errors))]
    return [(name, value) for name, value in pairs if value or name in ("created", "updated", "errors")]


@page
async def job_status(request: Request, session: ConsoleSession) -> Response:
    return JSONResponse(_job(request).as_json())


# -- licences and history -----------------------------------------------------------------------

def _licences(app: App, customer: str | None) -> dict[str, Any]:
    with app.sessions() as session:
        customers = [c.name for c in store.customer_rows(session)]
        if customer is not None:
            customer = store.find_customer(session, customer).name
        licences = [shapes.licence_json(lic) for lic in session.scalars(
            store.licence_query(customer).limit(LICENCES_SHOWN + 1))]
        changes: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for change in session.scalars(store.history_query(customer).limit(HISTORY_SHOWN)):
            row = shapes.change_json(change)
            changes.setdefault((row["vendor"], row["external_id"]), []).append(row)
    more = len(licences) > LICENCES_SHOWN
    for lic in licences:
        lic["history"] = changes.get((lic["vendor"], lic["external_id"]), [])
    return {"licences": licences[:LICENCES_SHOWN], "more": more, "customers": sorted(customers, key=str.casefold)}


@page
async def licences(request: Request, session: ConsoleSession) -> Response:
    console = console_of(request)
    customer = request.query_params.get("customer") or None
    try:
        view = await run_in_threadpool(_licences, console.app, customer)
        error = None
    except IntegratorError as exc:
        view, error = await run_in_threadpool(_licences, console.app, None), str(exc)
    return console.render(request, session, "licences.html", active="licences", customer=customer, error=error,
                          shown=LICENCES_SHOWN, **view)


def _history(app: App) -> dict[str, Any]:
    return {"status": integration_status(app), "runs": recent_runs(app, 100), "actions": audit.recent(app.sessions)}


@page
async def history(request: Request, session: ConsoleSession) -> Response:
    console = console_of(request)
    view = await run_in_threadpool(_history, console.app)
    return console.render(request, session, "history.html", active="history", **view)


ROUTES = [
    Route("/imports", imports, methods=["GET"]),
    Route("/imports/{vendor}/{entity}", start_import, methods=["POST"]),
    Route("/imports/job/{job}", job_page, methods=["GET"]),
    Route("/imports/job/{job}/status", job_status, methods=["GET"]),
    Route("/licences", licences, methods=["GET"]),
    Route("/history", history, methods=["GET"]),
]
