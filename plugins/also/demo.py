"""``integrator demo``: the whole product on embedded defaults, for a newcomer."""

from __future__ import annotations

from pathlib import Path

import click
import pluggy
import yaml

from core import store
from core.config import load_config
from core.db import open_database
from core.output import table
from core.progress import entity_progress
from core.scheduler import sync_all
from core.sync import App


def run_demo(pm: pluggy.PluginManager, folder: str) -> int:
    from plugins.also import sandbox

    server = sandbox.SandboxServer(sandbox.make_state(), "127.0.0.1", 0).start()
    try:
        root = Path(folder).resolve()
        root.mkdir(parents=True, exist_ok=True)
        config_file = root / "integrator.yaml"
        config_file.write_text(yaml.safe_dump({
            "database": "sqlite:///integrator.db",
            "integrations": {"also": {
                "url": server.url,
                "username": sandbox.DEFAULT_USERNAME,
                "password": "${ALSO_PASSWORD:-" + sandbox.DEFAULT_PASSWORD + "}",
                "top_level_for_new_customers": "ALSO Customers",
                "set_price_and_cost": True,
                "integrator": {"enabled": True, "entities_to_sync": ["customers", "subscriptions"]},
            }},
        }, sort_keys=False), encoding="utf-8")
        click.echo(f"ALSO sandbox on {server.url}; config and database in {root}")
        config = load_config(config_file, pm)
        app = App(config=config, pm=pm, sessions=open_database(config.database_url))
        with entity_progress() as progress:
            reports = sync_all(app, progress=progress)
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
        click.echo("")
        for report in reports:
            for error in report.errors:
                click.echo(f"error: {error}", err=True)
            click.echo(report.summary())
            for line in report.lines:  # what "N skipped" means, record by record
                if line.startswith("skip"):
                    click.echo(f"  {line}")
        click.echo(f"\nTry: integrator -c {config_file} licences list   (the sandbox stops when the demo ends)")
        return 0 if all(r.status == "ok" for r in reports) else 1
    finally:
        server.stop()
