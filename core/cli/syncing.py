"""Commands that talk to a vendor: ``test-connection``, ``import`` and ``run``."""

from __future__ import annotations

import logging
import sys

import click

from core.cli.common import Context, pass_ctx
from core.errors import IntegratorError
from core.plugins import VendorFacade
from core.sync import RunReport, import_customers, import_subscriptions


@click.command("test-connection")
@click.argument("vendor")
@pass_ctx
def test_connection(ctx: Context, vendor: str) -> None:
    """Log in and read the account's own company and its customers."""
    app = ctx.app
    settings = app.config.integration(vendor)
    facade = VendorFacade(app.pm, vendor)
    connection = facade.connect(settings)
    try:
        listing = facade.list_customers(connection)
    finally:
        connection.close()
    account = connection.account
    extra = f" ({len(listing.problems)} unreadable)" if listing.problems else ""
    click.echo(f"Connected to {connection.title} as {account.name} (account {account.external_id}): "
               f"{len(listing.items)} customers{extra}")


@click.group("import")
def import_group() -> None:
    """Import customers or subscriptions from a vendor now."""


def _finish_report(report: RunReport, show_plan: bool) -> None:
    if show_plan:
        for line in report.lines:
            click.echo(line)
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    click.echo(report.summary())
    if report.status != "ok":
        sys.exit(1)


@import_group.command("customers")
@click.argument("vendor")
@click.option("--dry-run", is_flag=True, help="Print the plan record by record and write nothing.")
@pass_ctx
def import_customers_cmd(ctx: Context, vendor: str, dry_run: bool) -> None:
    """Import customers: update mapped ones, map exact names, create the rest."""
    report = import_customers(ctx.app, vendor, dry_run=dry_run)
    _finish_report(report, show_plan=True)


@import_group.command("subscriptions")
@click.argument("vendor")
@click.option("--dry-run", is_flag=True, help="Print the plan record by record and write nothing.")
@click.option("--allow-mass-deactivation", is_flag=True,
              help="Apply deactivations the mass-deactivation guard would hold back.")
@pass_ctx
def import_subscriptions_cmd(ctx: Context, vendor: str, dry_run: bool, allow_mass_deactivation: bool) -> None:
    """Import the subscriptions of mapped customers as licences."""
    from core.progress import progress_bar

    with progress_bar("Listing subscriptions") as progress:
        report = import_subscriptions(ctx.app, vendor, dry_run=dry_run,
                                      allow_mass_deactivation=allow_mass_deactivation, progress=progress)
    _finish_report(report, show_plan=True)


@click.command("run")
@click.option("--once", is_flag=True, help="One sync of every scheduled integration, then exit.")
@click.option("--skip-locked", is_flag=True,
              help="With --once: skip integrations another process is syncing instead of failing.")
@pass_ctx
def run_cmd(ctx: Context, once: bool, skip_locked: bool) -> None:
    """The daemon: sync each enabled integration's entities_to_sync daily at its run_at."""
    from core.progress import entity_progress
    from core.scheduler import Daemon, scheduled_vendors, sync_all

    logging.getLogger("integrator.runs").setLevel(logging.INFO)
    app = ctx.app
    if not scheduled_vendors(app):
        raise IntegratorError(f"{app.config.path}: no integration has integrator.enabled: true")
    daemon = Daemon(app)
    daemon.install_signal_handlers()
    if not once:
        daemon.run_forever()
        return
    skipped: list[str] = []
    with entity_progress() as progress:
        reports = sync_all(app, cancel=daemon.stop, progress=progress, skipped=skipped if skip_locked else None)
    for message in skipped:
        click.echo(f"skipped: {message}", err=True)
    for report in reports:
        for error in report.errors:
            click.echo(f"error: {report.vendor} {report.entity}: {error}", err=True)
        click.echo(report.summary())
    if daemon.stop.is_set() or any(r.status != "ok" for r in reports):
        sys.exit(1)


COMMANDS = [test_connection, import_group, run_cmd]
