"""Reconcile: the vendor's invoice for a month against the licences and our charges, line by line with
each line's reason, as ``integrator billing reconcile`` computes it (``core.billing.reconcile``).

Looking is all it does: no leak alert is sent from here (the CLI's run, e.g. from cron, sends it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.errors import IntegratorError
from core.sync.app import App
from core.web.pages import console_of, page
from core.web.security import ConsoleSession

BADGES = {"leak": "bad", "unmapped": "bad", "negative_margin": "warn", "units_differ": "warn",
          "not_billed_by_vendor": "info", "matched": "ok"}


def _reconcile(app: App, period: str, vendor: str | None) -> Any:
    from core.billing.reconcile import reconcile_period
    from core.billing.report import parse_period

    return reconcile_period(app, parse_period(period), vendor=vendor)


@page
async def reconcile_page(request: Request, session: ConsoleSession) -> Response:
    console = console_of(request)
    query = request.query_params
    period = query.get("period") or datetime.now(UTC).strftime("%Y-%m")
    vendor = query.get("vendor") or None
    context: dict[str, Any] = {"active": "billing", "period": period, "vendor": vendor, "result": None,
                               "error": None, "badges": BADGES, "vendor_choices": list(console.app.config.integrations)}
    if vendor is not None and vendor not in console.app.config.integrations:
        context["error"] = f"No integration named {vendor!r} is configured."
    elif "period" in query:  # the vendor is asked only when the person asks
        try:
            result = await run_in_threadpool(_reconcile, console.app, period, vendor)
        except IntegratorError as exc:
            context["error"] = str(exc)
        else:
            context["result"] = result
            context["totals"] = result.totals_by_customer()
            context["leaks"] = sum(1 for ln in result.lines if ln.status.value == "leak")
            await console.record(request, session, f"billing reconcile --period {period}"
                                 + (f" --vendor {vendor}" if vendor else ""), "ok", f"{len(result.lines)} lines")
    return console.render(request, session, "reconcile.html", **context)


ROUTES = [Route("/billing/reconcile", reconcile_page, methods=["GET"])]
