"""The ``integrator`` command: thin click commands that parse, call and print."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from core import store
from core.cli_billing import billing_group
from core.cli_reconcile import reconcile_cmd
from core.config import config_path, load_config
from core.db import open_database
from core.db import reason as db_reason
from core.errors import IntegratorError
from core.output import table
from core.plugin_commands import register as register_plugin_commands
from core.plugins import VendorFacade, describe_plugins, get_plugin_manager
from core.sync import App, RunReport, generate_mappings, import_customers, import_subscriptions
from core.web.command import web_group

log = logging.getLogger("integrator")


class Context:
    """Builds the plugin manager, config and database on first use, so that each command pays only for
    what it needs."""

    def __init__(self, config: str | None, pm: Any = None) -> None:
        self.config_option = config
        self._pm: Any = pm
        self._app: App | None = None

    @property
    def pm(self) -> Any:
        if self._pm is None:
            self._pm = get_plugin_manager()
        return self._pm

    @property
    def app(self) -> App:
        if self._app is None:
            config = load_config(config_path(self.config_option), self.pm)
            self._app = App(config=config, pm=self.pm, sessions=open_database(config.database_url))
        return self._app


pass_ctx = click.make_pass_decorator(Context)


def echo_json(value: Any) -> None:
    click.echo(store.dump(value))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-c", "--config", metavar="PATH",
              help="Configuration file [default: $INTEGRATOR_CONFIG, else config/integrator.yaml].")
@click.option("-v", "--verbose", is_flag=True, help="Log what happens to stderr.")
@click.version_option(package_name="psa-integrator")
@click.pass_context
def cli(ctx: click.Context, config: str | None, verbose: bool) -> None:
    """Imports customers and cloud subscriptions from distributor marketplaces into the PSA database."""
    _configure_logging(verbose)
    for noisy in ("urllib3", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ctx.obj = Context(config, ctx.obj)


def _configure_logging(verbose: bool) -> None:
    """One handler on stderr (the stderr of this call: tests swap it), replaced on every invocation."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "integrator", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.integrator = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("integrator: %(levelname)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("integrator.runs").setLevel(logging.NOTSET)


# -- plugins and connection ---------------------------------------------------------------------

@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def plugins_cmd(ctx: Context, as_json: bool) -> None:
    """The loaded plugins, their versions and hooks."""
    infos = describe_plugins(ctx.pm)
    if as_json:
        echo_json([{"name": i.name, "version": i.version, "module": i.module, "hooks": list(i.hooks)}
                   for i in infos])
        return
    click.echo(table(["plugin", "version", "module", "hooks"],
                     [[i.name, i.version, i.module, ", ".join(i.hooks)] for i in infos]))


@cli.command("test-connection")
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


# -- customers -----------------------------------------------------------------------------------

@cli.group("customers")
def customers_group() -> None:
    """Customers in the PSA database."""


@customers_group.command("add")
@click.argument("name")
@click.option("--top-level", default=None, help="The top level the customer belongs to.")
@pass_ctx
def customers_add(ctx: Context, name: str, top_level: str | None) -> None:
    """Create a customer."""
    with ctx.app.sessions.begin() as session:
        customer = store.add_customer(session, name, top_level)
        click.echo(f"Added customer {customer.name!r} (id {customer.id})")


@customers_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def customers_list(ctx: Context, as_json: bool) -> None:
    """The customers."""
    with ctx.app.sessions() as session:
        rows = [store.customer_json(c) for c in store.list_customers(session)]
    if as_json:
        echo_json(rows)
        return
    click.echo(table(["id", "name", "top level", "active", "main site"], [
        [r["id"], r["name"], r["top_level"], r["active"],
         ", ".join(v for v in (r["main_site"] or {}).values() if v) or None] for r in rows]))


# -- mappings ------------------------------------------------------------------------------------

@cli.group("mappings")
def mappings_group() -> None:
    """Which vendor company is which customer."""


@mappings_group.command("generate")
@click.argument("vendor")
@pass_ctx
def mappings_generate(ctx: Context, vendor: str) -> None:
    """Map every unmapped vendor company to the customer with exactly the same name."""
    plan, problems = generate_mappings(ctx.app, vendor)
    mapped = [a for a in plan.actions if a.kind == "map"]
    for action in mapped:
        click.echo(f"mapped    {action.label()} -> {action.customer_name!r}")
    for action in plan.actions:
        if action.kind == "skip":
            click.echo(f"unmapped  {action.label()}: {action.reason}")
    for problem in problems:
        click.echo(f"error     {problem}", err=True)
    click.echo(f"{len(mapped)} mapped, {len(plan.actions) - len(mapped)} left unmapped")


@mappings_group.command("add")
@click.argument("vendor")
@click.option("--external-id", required=True, help="The vendor's id of the company (for ALSO its AccountId).")
@click.option("--customer", required=True, help="The customer's exact name.")
@pass_ctx
def mappings_add(ctx: Context, vendor: str, external_id: str, customer: str) -> None:
    """Map a vendor company to a customer by hand."""
    VendorFacade(ctx.pm, vendor)
    with ctx.app.sessions.begin() as session:
        mapping = store.add_mapping(session, vendor, external_id, customer)
        click.echo(f"Mapped {vendor} company {mapping.external_id} to {mapping.customer.name!r}")


@mappings_group.command("remove")
@click.argument("vendor")
@click.option("--external-id", required=True)
@pass_ctx
def mappings_remove(ctx: Context, vendor: str, external_id: str) -> None:
    """Remove one mapping (the customer and its licences stay)."""
    with ctx.app.sessions.begin() as session:
        mapping = store.remove_mapping(session, vendor, external_id)
        click.echo(f"Removed the mapping of {vendor} company {mapping.external_id} to {mapping.customer.name!r}")


@mappings_group.command("list")
@click.argument("vendor")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def mappings_list(ctx: Context, vendor: str, as_json: bool) -> None:
    """The mappings table."""
    with ctx.app.sessions() as session:
        rows = [store.mapping_json(m) for m in store.list_mappings(session, vendor)]
    if as_json:
        echo_json(rows)
        return
    click.echo(table(["external id", "vendor company", "customer", "source"],
                     [[r["external_id"], r["external_name"], r["customer"], r["source"]] for r in rows]))


@mappings_group.command("suggest")
@click.argument("vendor")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def mappings_suggest(ctx: Context, vendor: str, as_json: bool) -> None:
    """Likely customers for unmapped companies, for a person to confirm with 'mappings add'."""
    from core.suggest import suggest_mappings

    suggestions = suggest_mappings(ctx.app, vendor)
    if as_json:
        echo_json(suggestions)
        return
    if not suggestions:
        click.echo("No suggestions: every company is mapped or nothing resembles it.")
        return
    for s in suggestions:
        click.echo(f"{s['external_name']} ({s['external_id']}):")
        for c in s["candidates"]:
            click.echo(f"  {c['score']:>3}  {c['customer']!r}  ({c['why']})")
            click.echo(f"       integrator mappings add {vendor} --external-id {s['external_id']} "
                       f"--customer {_quote(c['customer'])}")


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


# -- imports -------------------------------------------------------------------------------------

@cli.group("import")
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


# -- licences and history ------------------------------------------------------------------------

@cli.group("licences")
def licences_group() -> None:
    """Licences (imported subscriptions)."""


@licences_group.command("list")
@click.option("--customer", default=None, help="Only this customer's licences.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def licences_list(ctx: Context, customer: str | None, as_json: bool) -> None:
    """The licences."""
    with ctx.app.sessions() as session:
        if customer is not None:
            store.find_customer(session, customer)
        rows = [store.licence_json(lic) for lic in session.scalars(store.licence_query(customer))]
    if as_json:
        echo_json(rows)
        return
    click.echo(table(
        ["customer", "vendor", "id", "licence", "status", "active", "qty", "price", "cost", "cur", "end date",
         "cycle", "term", "sku", "tenant"],
        [[r["customer"], r["vendor"], r["external_id"], r["name"], r["status"], r["active"], r["quantity"],
          r["price"], r["cost"], r["currency"], r["end_date"], r["billing_cycle"],
          f"{r['commitment_months']} mo" if r["commitment_months"] is not None else None, r["sku"],
          r["tenant_id"]] for r in rows]))


@licences_group.command("history")
@click.option("--customer", default=None, help="Only this customer's licences.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def licences_history(ctx: Context, customer: str | None, as_json: bool) -> None:
    """Every change made to a licence, newest first."""
    with ctx.app.sessions() as session:
        if customer is not None:
            store.find_customer(session, customer)
        rows = [store.change_json(c) for c in session.scalars(store.history_query(customer))]
    if as_json:
        echo_json(rows)
        return
    click.echo(table(["when (UTC)", "customer", "licence", "field", "old", "new"],
                     [[r["changed_at"][:19], r["customer"], f"{r['licence']} ({r['external_id']})", r["field"],
                       r["old"], r["new"]] for r in rows]))


@cli.command("history")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--limit", type=int, default=50, show_default=True, help="How many runs to show (0: all).")
@pass_ctx
def history_cmd(ctx: Context, as_json: bool, limit: int) -> None:
    """The sync runs, newest first, with each integration's last sync and last error."""
    from core.status import integration_status, recent_runs

    app = ctx.app
    runs = recent_runs(app, limit)
    if as_json:
        echo_json(runs)
        return
    for vendor, info in integration_status(app).items():
        click.echo(f"{vendor}: last sync {_utc(info['last_success'])}; "
                   f"last error {info['last_error'] or 'none'}")
    click.echo(table(["id", "vendor", "entity", "started (UTC)", "status", "created", "updated", "deactivated",
                      "errors"],
                     [[r["id"], r["vendor"], r["entity"], r["started_at"][:19], r["status"], r["created"],
                       r["updated"], r["deactivated"], len(r["errors"])] for r in runs]))


# -- the integrator ------------------------------------------------------------------------------

@cli.command("run")
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


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--max-age-hours", type=float, default=None,
              help="How old the last successful sync may be [default: stale_after_hours, 26].")
@pass_ctx
def status_cmd(ctx: Context, as_json: bool, max_age_hours: float | None) -> None:
    """Each integration's last sync and last error; exits 1 when a scheduled one is stale (for monitoring)."""
    from datetime import timedelta

    from core.status import integration_status, stale_integrations

    app = ctx.app
    hours = max_age_hours if max_age_hours is not None else app.config.stale_after_hours
    info = integration_status(app)
    stale = stale_integrations(app, timedelta(hours=hours))
    if as_json:
        echo_json({"integrations": info, "stale": stale, "max_age_hours": hours})
    else:
        for vendor, item in info.items():
            click.echo(f"{vendor}: last sync {_utc(item['last_success'])}; "
                       f"last error {item['last_error'] or 'none'}")
    if stale:
        click.echo(f"integrator: stale (older than {hours:g} hours): " + "; ".join(stale), err=True)
        sys.exit(1)


cli.add_command(web_group)  # the web console: core/web/


def _utc(stamp: str | None) -> str:
    return f"{stamp} UTC" if stamp else "never"


register_plugin_commands(cli)
cli.add_command(billing_group)
billing_group.add_command(reconcile_cmd)


def main(argv: list[str] | None = None) -> None:
    """Entry point: an expected failure is one line on stderr and exit 1, never a traceback."""
    try:
        pm = get_plugin_manager()
        pm.hook.integrator_register_commands(cli=cli)
        cli.main(args=argv, prog_name="integrator", standalone_mode=False, obj=pm)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("integrator: aborted", err=True)
        sys.exit(1)
    except IntegratorError as exc:
        click.echo(f"integrator: error: {exc}", err=True)
        sys.exit(1)
    except SQLAlchemyError as exc:
        click.echo(f"integrator: error: database: {db_reason(exc)}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("integrator: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("INTEGRATOR_DEBUG"):
            raise
        click.echo(f"integrator: internal error: {type(exc).__name__}: {exc} "
                   "(set INTEGRATOR_DEBUG=1 to see where)", err=True)
        sys.exit(70)


if __name__ == "__main__":
    main()

