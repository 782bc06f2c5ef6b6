"""Commands that talk to a vendor: ``test-connection``, ``import`` and ``run``."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from core.cli import logs
from core.cli.common import Context, echo_json, json_option, pass_ctx, vendor_argument
from core.cli.interrupt import exit_if_stopped, interruptible
from core.errors import IntegratorError
from core.text import visible

log = logging.getLogger("integrator")


@click.command("test-connection")
@vendor_argument
@json_option
@pass_ctx
def test_connection(ctx: Context, vendor: str | None, as_json: bool) -> None:
    """Log in and read the account's own company and its customers (VENDOR: default the only configured one).

    --json, in the style of Airbyte's check: {"type": "CONNECTION_STATUS", "connectionStatus":
    {"status": "SUCCEEDED" | "FAILED", "message": ...}, ...}; exit 1 when it failed."""
    from core.sync.connection import check_connection

    app = ctx.app
    vendor = ctx.vendor(vendor)
    try:
        check = check_connection(app, vendor)
    except IntegratorError as exc:
        if not as_json:
            raise
        echo_json({"type": "CONNECTION_STATUS", "vendor": vendor,
                   "connectionStatus": {"status": "FAILED", "message": str(exc)}})
        sys.exit(1)
    message = check.line()
    if as_json:
        echo_json({"type": "CONNECTION_STATUS", "vendor": vendor,
                   "connectionStatus": {"status": "SUCCEEDED", "message": message},
                   "account": None if check.account_id is None else {"external_id": check.account_id,
                                                                     "name": check.account_name},
                   "customers": check.customers, "unreadable": check.unreadable})
    else:
        click.echo(message)


# -- imports -------------------------------------------------------------------------------------

@click.group("import")
def import_group() -> None:
    """Import customers or subscriptions from a vendor now."""


def report_json(report: Any) -> dict[str, Any]:
    """One entity's sync as JSON (``import ... --json`` and each entry of ``run --once --json``)."""
    return {"vendor": report.vendor, "entity": report.entity, "run_id": report.run_id, "status": report.status,
            "dry_run": report.dry_run, "created": report.created, "updated": report.updated,
            "deactivated": report.deactivated, "held_back": report.held_back, "unchanged": report.unchanged,
            "skipped": report.skipped, "errors": list(report.errors), "plan": list(report.lines)}


def _level(status: str) -> str:
    from core.db.models import RunStatus

    return "warning" if status == RunStatus.PARTIAL else "error"


def _finish_report(report: Any, as_json: bool, stop: Any) -> None:
    from core.db.models import RunStatus

    if as_json:
        echo_json(report_json(report))
    else:
        for line in report.lines:
            click.echo(visible(line))  # vendor names: a bidi control must not reorder the line
        click.echo(report.summary())
    if not as_json or logs.verbose():  # --json: the errors are in the document; -v repeats them here
        for error in report.errors:
            logs.echo(f"error: {error}", _level(report.status))
    elif report.status != RunStatus.OK:
        _why(report.errors, report.status, f"{report.vendor} {report.entity}")
    exit_if_stopped(stop)
    if report.status != RunStatus.OK:
        sys.exit(1)


def _why(errors: list[str], status: Any, where: str) -> None:
    """--json without -v: the errors are in the document, and one line on stderr says why the exit is 1."""
    if not errors:
        logs.echo(f"error: {where}: {status}", _level(status))
        return
    more = f" (and {len(errors) - 1} more in the JSON)" if len(errors) > 1 else ""
    logs.echo(f"error: {where}: {errors[0]}{more}", _level(status))


@import_group.command("customers")
@vendor_argument
@click.option("--dry-run", is_flag=True, help="Print the plan record by record and write nothing.")
@json_option
@pass_ctx
def import_customers_cmd(ctx: Context, vendor: str | None, dry_run: bool, as_json: bool) -> None:
    """Import customers: update mapped ones, map exact names, create the rest."""
    from core.sync.customers import import_customers

    vendor = ctx.vendor(vendor)
    with interruptible() as stop:
        report = import_customers(ctx.app, vendor, dry_run=dry_run, cancel=stop)
    _finish_report(report, as_json, stop)


@import_group.command("subscriptions")
@vendor_argument
@click.option("--dry-run", is_flag=True, help="Print the plan record by record and write nothing.")
@click.option("--allow-mass-deactivation", is_flag=True,
              help="Apply deactivations the mass-deactivation guard would hold back.")
@json_option
@pass_ctx
def import_subscriptions_cmd(ctx: Context, vendor: str | None, dry_run: bool, allow_mass_deactivation: bool,
                             as_json: bool) -> None:
    """Import the subscriptions of mapped customers as licences."""
    from core.cli.progress import entity_progress
    from core.db import store
    from core.sync.subscriptions import import_subscriptions

    vendor = ctx.vendor(vendor)
    app = ctx.app
    with app.sessions() as session:
        mapped = len(store.mapping_rows(session, vendor))
    with interruptible() as stop, entity_progress(enabled=not as_json or logs.verbose()) as progress:
        report = import_subscriptions(app, vendor, dry_run=dry_run, allow_mass_deactivation=allow_mass_deactivation,
                                      progress=progress("subscriptions"), cancel=stop)
    if not mapped and (not as_json or logs.verbose()):
        logs.echo(f"integrator: hint: no {ctx.display(vendor)} company is mapped to a customer yet, so no "
                  f"subscription was imported: run 'integrator import customers {vendor}' "
                  f"(or 'integrator mappings generate {vendor}') first", "warning")
    _finish_report(report, as_json, stop)


# -- the integrator ------------------------------------------------------------------------------

@click.command("run")
@click.option("--once", is_flag=True, help="One sync of every scheduled integration, then exit.")
@click.option("--skip-locked", is_flag=True,
              help="With --once: skip integrations another process is syncing instead of failing.")
@json_option
@pass_ctx
def run_cmd(ctx: Context, once: bool, skip_locked: bool, as_json: bool) -> None:
    """The daemon: sync each enabled integration's entities_to_sync daily at its run_at.

    SIGTERM or SIGINT stops the daemon cleanly with exit 0. With --once: Ctrl-C stops at the next safe
    point and exits 130 (a second Ctrl-C exits at once); --json prints a summary per integration and entity."""
    from core.sync.scheduler import Daemon, scheduled_vendors

    app = ctx.app
    if not scheduled_vendors(app):
        from core.errors import ConfigError

        raise ConfigError(f"{app.config.path}: no integration has integrator.enabled: true")
    if not once:
        daemon = Daemon(app)
        daemon.install_signal_handlers()
        daemon.run_forever()
        return
    _run_once(app, skip_locked, as_json)


def _run_once(app: Any, skip_locked: bool, as_json: bool) -> None:
    from core.cli.progress import entity_progress
    from core.db.models import RunStatus
    from core.sync.scheduler import run_once

    # The sync's events are for -v (and the daemon): without it, the lines below say what went wrong.
    events = logging.getLogger("integrator.runs")
    before = events.level
    if not logs.verbose():
        events.setLevel(logging.CRITICAL + 1)
    try:
        with interruptible() as stop, entity_progress(enabled=not as_json or logs.verbose()) as progress:
            outcome = run_once(app, skip_locked=skip_locked, cancel=stop, progress=progress)
    finally:
        events.setLevel(before)
    human = not as_json or logs.verbose()
    for message in outcome.skipped.values() if human else ():
        logs.echo(f"skipped: {message}", "warning")
    for report in outcome.reports:
        for error in report.errors if human else ():
            logs.echo(f"error: {report.vendor} {report.entity}: {error}", _level(report.status))
        if not as_json:
            click.echo(report.summary())
    if as_json:
        echo_json({"status": outcome.status,
                   "integrations": {vendor: {"status": status, "entities": {
                       r.entity: report_json(r) for r in outcome.reports if r.vendor == vendor}}
                       for vendor, status in outcome.integrations.items()},
                   "skipped": list(outcome.skipped.values())})
        failing = [r for r in outcome.reports if r.status != RunStatus.OK]
        if failing and not human:
            first = failing[0]
            errors = [e for r in failing for e in r.errors]
            _why(errors, first.status, f"{first.vendor} {first.entity}")
    exit_if_stopped(stop)
    if not outcome.ok:
        sys.exit(1)


COMMANDS = [test_connection, import_group, run_cmd]
