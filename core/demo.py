"""``integrator demo``: the whole product on embedded defaults, for a newcomer.

The core runs the demo; each vendor plugin that offers a sandbox (``integrator_demo_sandbox``)
contributes only that loopback server and the settings pointing at it.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click
import pluggy
import yaml

from core import store
from core.config import load_config
from core.db import open_database
from core.errors import UsageError
from core.output import table
from core.plugins import VendorFacade, vendor_names
from core.progress import entity_progress
from core.scheduler import sync_all
from core.sync import App
from core.types import DemoSandbox


def run_demo(pm: pluggy.PluginManager, folder: str) -> int:
    with contextlib.ExitStack() as stack:
        sandboxes: dict[str, DemoSandbox] = {}
        for vendor in vendor_names(pm):
            sandbox = VendorFacade(pm, vendor).demo_sandbox()
            if sandbox is not None:
                stack.callback(sandbox.stop)
                sandboxes[vendor] = sandbox
        if not sandboxes:
            raise UsageError("no loaded plugin offers a demo sandbox (integrator_demo_sandbox)")
        root = Path(folder).resolve()
        root.mkdir(parents=True, exist_ok=True)
        config_file = root / "integrator.yaml"
        integrations = {
            vendor: {**sandbox.settings,
                     "integrator": {"enabled": True, "entities_to_sync": ["customers", "subscriptions"]}}
            for vendor, sandbox in sandboxes.items()}
        config_file.write_text(yaml.safe_dump({"database": "sqlite:///integrator.db", "integrations": integrations},
                                              sort_keys=False), encoding="utf-8")
        for vendor, sandbox in sandboxes.items():
            click.echo(f"{vendor} sandbox on {sandbox.url}")
        click.echo(f"config and database in {root}")
        config = load_config(config_file, pm)
        app = App(config=config, pm=pm, sessions=open_database(config.database_url))
        with entity_progress() as progress:
            reports = sync_all(app, progress=progress)
        _show(app)
        click.echo("")
        for report in reports:
            for error in report.errors:
                click.echo(f"error: {error}", err=True)
            click.echo(report.summary())
        click.echo(f"\nTry: integrator -c {config_file} licences list   (the sandbox stops when the demo ends)")
        return 0 if all(r.status == "ok" for r in reports) else 1


def _show(app: App) -> None:
    with app.sessions() as session:
        customers = store.list_customers(session)
        licences = [store.licence_json(lic) for lic in session.scalars(store.licence_query())]
    click.echo("\nCustomers")
    click.echo(table(["name", "top level", "city", "country"], [
        [c.name, c.top_level, c.main_site.city if c.main_site else None,
         c.main_site.country if c.main_site else None] for c in customers]))
    click.echo("\nLicences")
    click.echo(table(["customer", "licence", "status", "active", "qty", "price", "cost", "cur", "end date"], [
        [r["customer"], r["name"], r["status"], r["active"], r["quantity"], r["price"], r["cost"], r["currency"],
         r["end_date"]] for r in licences]))


@click.command("demo")
@click.option("--dir", "folder", default="integrator-demo", show_default=True,
              help="Where the demo config and SQLite database are written.")
@click.pass_context
def demo_cmd(ctx: click.Context, folder: str) -> None:
    """Start the built-in vendor sandboxes, sync customers and subscriptions into a local SQLite file, show them."""
    sys.exit(run_demo(ctx.obj.pm, folder))
