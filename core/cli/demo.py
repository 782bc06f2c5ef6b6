"""``integrator demo``: the whole product on embedded defaults, for a newcomer.

The core runs the demo; each vendor plugin that offers a sandbox (``integrator_demo_sandbox``)
contributes only that loopback server and the settings pointing at it.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from core.cli.lazy import lazy_module
from core.cli.output import table
from core.errors import UsageError

if TYPE_CHECKING:  # the sync, the database and YAML load when the demo runs, not for --help
    import pluggy

    from core.sync.app import App
    from core.types import DemoSandbox

store = lazy_module("core.db.store")
shapes = lazy_module("core.shapes")


def run_demo(pm: pluggy.PluginManager, folder: str, as_json: bool = False) -> int:
    """With ``as_json`` the text goes to stderr and one JSON document (runs, customers, licences) to stdout."""
    import yaml

    from core.cli import logs
    from core.cli.progress import entity_progress
    from core.config.file import load_config
    from core.db import open_database
    from core.db.models import RunStatus
    from core.host.plugins import VendorFacade, display_name, vendor_names
    from core.sync.app import App
    from core.sync.scheduler import sync_all

    # --json: the document on stdout, the human report on stderr only with -v.
    say = (functools.partial(logs.echo, level="info") if logs.verbose() else _silent) if as_json else click.echo
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
            say(f"{display_name(pm, vendor)} sandbox on {sandbox.url}")
        say(f"config and database in {root}")
        config = load_config(config_file, pm)
        app = App(config=config, pm=pm, sessions=open_database(config.database_url))
        with entity_progress(enabled=not as_json or logs.verbose()) as progress:
            reports = sync_all(app, progress=progress)
        _show(app, say)
        say("")
        for report in reports:
            for error in report.errors if not as_json or logs.verbose() else ():
                logs.echo(f"error: {error}", "warning" if report.status == "partial" else "error")
            say(report.summary())
            for line in report.lines:  # what "N skipped" means, record by record
                if line.startswith("skip"):
                    say(f"  {line}")
        if as_json:
            _print_json(app, root, sandboxes, reports)
        say(f"\nTry: integrator -c {config_file} licences list   (the sandbox stops when the demo ends)")
        return 0 if all(r.status == RunStatus.OK for r in reports) else 1


def _silent(*_args: object, **_kwargs: object) -> None:
    pass


def _print_json(app: App, root: Path, sandboxes: dict[str, DemoSandbox], reports: list) -> None:  # type: ignore[type-arg]
    from core.cli.syncing import report_json

    with app.sessions() as session:
        customers = [shapes.customer_json(c) for c in store.list_customers(session)]
        licences = [shapes.licence_json(lic) for lic in session.scalars(store.licence_query())]
    click.echo(shapes.dump({"folder": str(root), "config": str(root / "integrator.yaml"),
                           "sandboxes": {v: s.url for v, s in sandboxes.items()},
                           "runs": [report_json(r) for r in reports], "customers": customers, "licences": licences}))


def _show(app: App, say: Callable[..., None] = click.echo) -> None:
    with app.sessions() as session:
        customers = store.list_customers(session)
        licences = [shapes.licence_json(lic) for lic in session.scalars(store.licence_query())]
    say("\nCustomers")
    say(table(["name", "top level", "city", "country"], [
        [c.name, c.top_level, c.main_site.city if c.main_site else None,
         c.main_site.country if c.main_site else None] for c in customers]))
    say("\nLicences")
    say(table(["customer", "licence", "status", "active", "qty", "price", "cost", "cur", "end date"], [
        [r["customer"], r["name"], r["status"], r["active"], r["quantity"], r["price"], r["cost"], r["currency"],
         r["end_date"]] for r in licences],
        optional=["cost", "active", "status"], whole=["qty", "price", "cost", "end date"]))


@click.command("demo")
@click.option("--dir", "folder", default="integrator-demo", show_default=True,
              help="Where the demo config and SQLite database are written.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (runs, customers, licences).")
@click.option("--billing", is_flag=True,
              help="Play a month on a controlled clock (day 1 import, day 11 a quantity up, day 21 a licence "
                   "cancelled) and print its charges in arrears and in advance.")
@click.pass_context
def demo_cmd(ctx: click.Context, folder: str, as_json: bool, billing: bool) -> None:
    """Start the built-in vendor sandboxes, sync customers and subscriptions into a local SQLite file, show them."""
    if Path(folder).exists() and not Path(folder).is_dir():
        raise click.BadParameter(f"{folder} is a file, not a folder", param_hint="--dir")
    if billing:
        if as_json:
            raise click.BadParameter("--billing prints text only", param_hint="--json")
        from core.cli.demo_billing import run_billing_demo

        sys.exit(run_billing_demo(ctx.obj.pm, folder))
    sys.exit(run_demo(ctx.obj.pm, folder, as_json))
