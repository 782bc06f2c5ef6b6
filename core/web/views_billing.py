"""Billing: a month picker, the charges per customer with totals and margin, "Download CSV".

Computed by ``core.billing.report`` exactly as ``integrator billing charges`` computes them."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.billing.report import compute_charges, parse_period, write_csv
from core.billing.usage import fetch_usage
from core.db import store
from core.errors import IntegratorError
from core.sync.app import App
from core.web.pages import console_of, page
from core.web.security import ConsoleSession

MODES = ("arrears", "advance")


def _filters(request: Request) -> dict[str, str | None]:
    query = request.query_params
    period = query.get("period") or datetime.now(UTC).strftime("%Y-%m")
    mode = query.get("mode") or None
    return {"period": period, "customer": query.get("customer") or None, "vendor": query.get("vendor") or None,
            "mode": mode if mode in MODES else None}


def _report(app: App, filters: dict[str, str | None]) -> Any:
    period = parse_period(filters["period"] or "")
    vendor = filters["vendor"]
    failed: list[str] = []  # usage lines come from the vendors' invoices; one that cannot be read is said
    lines, warnings = (fetch_usage(app, period, vendor, failed=failed)
                       if vendor is None or vendor in app.config.integrations else ([], []))
    usage = (lines, warnings + failed)
    with app.sessions() as session:
        return compute_charges(session, period, app.config.billing, mode=filters["mode"],
                                       customer=filters["customer"], vendor=vendor,
                                       known_vendors=list(app.config.integrations), usage=usage)


def _choices(app: App) -> dict[str, list[str]]:
    with app.sessions() as session:
        customers = sorted((c.name for c in store.customer_rows(session)), key=str.casefold)
    return {"customer_choices": customers, "vendor_choices": list(app.config.integrations)}


@page
async def billing_page(request: Request, session: ConsoleSession) -> Response:
    console = console_of(request)
    filters = _filters(request)
    context: dict[str, Any] = {"active": "billing", "filters": filters, "report": None, "groups": [], "error": None}
    context.update(await run_in_threadpool(_choices, console.app))
    try:
        report = await run_in_threadpool(_report, console.app, filters)
    except IntegratorError as exc:
        context["error"] = str(exc)
    else:
        context["report"] = report
        context["groups"] = [(name, lines, report.totals(name)) for name, lines in report.by_customer().items()]
        context["csv_query"] = urlencode({k: v for k, v in filters.items() if v})
        context["month_notes"] = await run_in_threadpool(_notes, console.app, report)
    return console.render(request, session, "billing.html", **context)


def _notes(app: App, report: Any) -> list[str]:
    """The running month and the history's start, as `billing charges` says them (core.billing.months)."""
    from core.billing.months import month_notes

    with app.sessions() as session:
        return month_notes(session, report.period, app.config.billing, report.mode)


@page
async def billing_csv(request: Request, session: ConsoleSession) -> Response:
    console = console_of(request)
    filters = _filters(request)
    try:
        report = await run_in_threadpool(_report, console.app, filters)
    except IntegratorError as exc:
        return Response(f"{exc}\n", status_code=400, media_type="text/plain")
    buffer = io.StringIO()
    write_csv(report.lines, buffer)
    await console.record(request, session, "billing charges " + " ".join(f"--{k} {v}" for k, v in filters.items() if v)
                   + " --csv", "ok", f"{len(report.lines)} lines")
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="charges-{report.period}.csv"'})


ROUTES = [
    Route("/billing", billing_page, methods=["GET"]),
    Route("/billing.csv", billing_csv, methods=["GET"]),
]
