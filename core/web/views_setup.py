"""Integrations (settings as loaded, "Test Configuration") and Mappings (the table, "Generate mappings",
add by picking, remove, suggestions with "Confirm")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import BaseModel, SecretStr
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core import shapes
from core.db import store
from core.errors import IntegratorError
from core.host.plugins import VendorFacade, display_name
from core.planning.customers import CustomerKind
from core.redact import is_secret_setting
from core.sync.app import App
from core.sync.connection import check_connection
from core.sync.customers import generate_mappings
from core.sync.mappings import add_manual_mapping
from core.sync.status import integration_status, stale_integrations
from core.sync.suggest import suggest_mappings
from core.sync.upstream import Upstream
from core.web.pages import action, back, console_of, page, vendor_of
from core.web.security import ConsoleSession

# -- Integrations -------------------------------------------------------------------------------

def shown_settings(settings: BaseModel) -> list[tuple[str, str]]:
    """The settings as loaded, flattened, with every secret replaced by whether it is set."""
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, model: BaseModel) -> None:
        for name in type(model).model_fields:
            value = getattr(model, name)
            key = f"{prefix}{name}"
            if isinstance(value, BaseModel):
                walk(key + ".", value)
            elif isinstance(value, SecretStr) or is_secret_setting(name):
                rows.append((key, "(set, hidden)" if value else "(not set)"))
            elif isinstance(value, str) and "://" in value:
                rows.append((key, _without_userinfo(value)))
            elif isinstance(value, bool):
                rows.append((key, "true" if value else "false"))
            elif isinstance(value, list):
                rows.append((key, ", ".join(str(v) for v in value) or "(none)"))
            else:
                rows.append((key, "(none)" if value is None else str(value)))

    walk("", settings)
    return rows


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _integrations(app: App) -> list[dict[str, Any]]:
    status = integration_status(app)
    stale = stale_integrations(app, timedelta(hours=app.config.stale_after_hours))
    rows = []
    for vendor, settings in app.config.integrations.items():
        info = status.get(vendor, {})
        rows.append({
            "vendor": vendor, "enabled": settings.enabled, "scheduled": settings.integrator.enabled,
            "entities": ", ".join(settings.integrator.ordered_entities()), "run_at": settings.integrator.run_at,
            "last_success": info.get("last_success"), "last_completed": info.get("last_completed"),
            "last_error": info.get("last_error"),
            "stale": next((s.split(": ", 1)[1] for s in stale if s.startswith(f"{vendor}: ")), None),
            "settings": shown_settings(settings),
        })
    return rows


@page
async def integrations(request: Request, session: ConsoleSession) -> Response:
    console = console_of(request)
    rows = await run_in_threadpool(_integrations, console.app)
    return console.render(request, session, "integrations.html", active="integrations", integrations=rows,
                          stale_hours=console.app.config.stale_after_hours)


@action
async def test_configuration(request: Request, session: ConsoleSession, form: FormData) -> Response:
    console = console_of(request)
    vendor = vendor_of(request, console.app)
    shown = display_name(console.app.pm, vendor)
    try:
        result = await run_in_threadpool(check_connection, console.app, vendor)
    except IntegratorError as exc:
        console.flash(session, "error", f"{shown}: {exc}")
        await console.record(request, session, f"test-connection {vendor}", "failed", str(exc))
    else:
        console.flash(session, "ok", f"{shown}: {result.line()}")
        await console.record(request, session, f"test-connection {vendor}", "ok", result.line())
    return back(f"/integrations#{vendor}")


# -- Mappings -----------------------------------------------------------------------------------

def _mappings_view(app: App, vendor: str) -> dict[str, Any]:
    with app.sessions() as session:
        mappings = [shapes.mapping_json(m) for m in store.list_mappings(session, vendor)]
        customers = [c.name for c in store.customer_rows(session)]
    mapped = {m["external_id"] for m in mappings}
    unmapped: list[dict[str, str]] = []
    suggestions: list[dict[str, Any]] = []
    error = None
    try:
        upstream = Upstream(VendorFacade(app.pm, vendor), app.config.integration(vendor))
        try:
            companies = upstream.companies().items
        finally:
            upstream.close()
        unmapped = [{"external_id": c.external_id, "name": c.name} for c in companies if c.external_id not in mapped]
        suggestions = suggest_mappings(app, vendor, companies=companies)
    except IntegratorError as exc:
        error = str(exc)
    taken = {m["customer"] for m in mappings}
    return {"mappings": mappings, "customers": sorted(customers, key=str.casefold),
            "free_customers": sorted((c for c in customers if c not in taken), key=str.casefold),
            "unmapped": sorted(unmapped, key=lambda c: c["name"].casefold()), "suggestions": suggestions,
            "vendor_error": error}


@page
async def mappings(request: Request, session: ConsoleSession) -> Response:
    console = console_of(request)
    vendor = vendor_of(request, console.app)
    view = await run_in_threadpool(_mappings_view, console.app, vendor)
    return console.render(request, session, "mappings.html", active="mappings", vendor=vendor, **view)


@action
async def mappings_generate(request: Request, session: ConsoleSession, form: FormData) -> Response:
    console = console_of(request)
    vendor = vendor_of(request, console.app)
    try:
        plan, problems = await run_in_threadpool(generate_mappings, console.app, vendor)
    except IntegratorError as exc:
        console.flash(session, "error", str(exc))
        await console.record(request, session, f"mappings generate {vendor}", "failed", str(exc))
    else:
        mapped = [a for a in plan.actions if a.kind == CustomerKind.MAP]
        summary = f"{len(mapped)} mapped, {len(plan.actions) - len(mapped)} left unmapped"
        console.flash(session, "ok", f"Generate mappings: {summary}")
        for problem in problems:
            console.flash(session, "error", problem)
        await console.record(request, session, f"mappings generate {vendor}", "ok", summary)
    return back(f"/mappings?vendor={quote(vendor)}")


@action
async def mappings_add(request: Request, session: ConsoleSession, form: FormData) -> Response:
    console = console_of(request)
    vendor = vendor_of(request, console.app)
    external_id = str(form.get("external_id") or "").strip()
    customer = str(form.get("customer") or "")
    what = f"mappings add {vendor} --external-id {external_id} --customer {customer!r}"

    def add() -> str:
        # The CLI's own rule: the vendor is asked, and the company's name is the vendor's, not the form's.
        added = add_manual_mapping(console.app, vendor, external_id, customer)
        if added.warning:
            console.flash(session, "warn", added.warning[0].upper() + added.warning[1:])
        return added.line()

    return await _change_mapping(request, session, vendor, what, add)


async def _change_mapping(request: Request, session: ConsoleSession, vendor: str, what: str,
                          change: Callable[[], str]) -> Response:
    """Run one mapping change, tell the person how it went and record it like a CLI command."""
    console = console_of(request)
    try:
        message = await run_in_threadpool(change)
    except IntegratorError as exc:
        console.flash(session, "error", str(exc))
        await console.record(request, session, what, "failed", str(exc))
    else:
        console.flash(session, "ok", message)
        await console.record(request, session, what, "ok")
    return back(f"/mappings?vendor={quote(vendor)}")


@action
async def mappings_remove(request: Request, session: ConsoleSession, form: FormData) -> Response:
    console = console_of(request)
    vendor = vendor_of(request, console.app)
    external_id = str(form.get("external_id") or "")
    what = f"mappings remove {vendor} --external-id {external_id}"

    def remove() -> str:
        with console.app.sessions.begin() as db:
            mapping = store.remove_mapping(db, vendor, external_id)
            shown = display_name(console.app.pm, vendor)
            return (f"Removed the mapping of {shown} company {mapping.external_id} "
                    f"to {mapping.customer.name!r}")

    return await _change_mapping(request, session, vendor, what, remove)


ROUTES = [
    Route("/integrations", integrations, methods=["GET"]),
    Route("/integrations/{vendor}/test", test_configuration, methods=["POST"]),
    Route("/mappings", mappings, methods=["GET"]),
    Route("/mappings/{vendor}/generate", mappings_generate, methods=["POST"]),
    Route("/mappings/{vendor}/add", mappings_add, methods=["POST"]),
    Route("/mappings/{vendor}/remove", mappings_remove, methods=["POST"]),
]
