"""``integrator demo --billing``: pro-rata in one command, for a newcomer.

A month is played on a controlled clock against the vendor sandboxes that tell a billing story
(``DemoSandbox.billing_story``): the first import on day 1, then each day's changes at the vendor
followed by that day's sync. Then the month's charges of the story's customer are printed in
arrears and in advance (the month billed on its first day, and the next month's bill correcting it).
The month is fixed (November 2026) so that what it prints is the README's worked example.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from core.errors import UsageError

if TYPE_CHECKING:
    import pluggy

    from core.types import DemoSandbox

MONTH = date(2026, 11, 1)
SYNC_HOUR = 2  # the daily sync's time (UTC) on each day of the story


def run_billing_demo(pm: pluggy.PluginManager, folder: str) -> int:
    import yaml

    from core.billing.report import compute_charges, parse_period
    from core.cli.billing import render_text
    from core.config.file import load_config
    from core.db import clock, open_database
    from core.host.plugins import VendorFacade, display_name, vendor_names
    from core.sync.app import App
    from core.sync.scheduler import sync_all

    with contextlib.ExitStack() as stack:
        sandboxes: dict[str, DemoSandbox] = {}
        for vendor in vendor_names(pm):
            sandbox = VendorFacade(pm, vendor).demo_sandbox()
            if sandbox is None:
                continue
            stack.callback(sandbox.stop)
            if sandbox.billing_story and sandbox.billing_customer:
                sandboxes[vendor] = sandbox
        if not sandboxes:
            raise UsageError("no loaded plugin's demo sandbox tells a billing story (DemoSandbox.billing_story)")
        root = Path(folder).resolve()
        root.mkdir(parents=True, exist_ok=True)
        database = root / "billing-demo.db"
        database.unlink(missing_ok=True)  # the story starts from nothing every time
        config_file = root / "billing-demo.yaml"
        integrations = {vendor: {**sandbox.settings, "integrator": {"enabled": True}}
                        for vendor, sandbox in sandboxes.items()}
        config_file.write_text(yaml.safe_dump({"database": f"sqlite:///{database.name}",
                                               "integrations": integrations}, sort_keys=False), encoding="utf-8")
        config = load_config(config_file, pm)
        app = App(config=config, pm=pm, sessions=open_database(config.database_url))
        changes = sorted((change.day, vendor, change) for vendor, sandbox in sandboxes.items()
                         for change in sandbox.billing_story)
        days = sorted({1, *(day for day, _, _ in changes)})
        moment = [datetime(MONTH.year, MONTH.month, 1, SYNC_HOUR)]
        real_now = clock.now
        clock.now = lambda: moment[0]  # every sync records its changes on the story's day
        stack.callback(setattr, clock, "now", real_now)
        click.echo(f"A month on a controlled clock: {MONTH:%B %Y}, one sync a day at {SYNC_HOUR:02d}:00 UTC "
                   f"(config and database in {folder})")
        for day in days:
            moment[0] = moment[0].replace(day=day)
            todays = [f"{display_name(pm, vendor)}: {change.what}" for d, vendor, change in changes if d == day]
            for _, _, change in (c for c in changes if c[0] == day):
                change.apply()
            reports = sync_all(app)
            what = "; ".join(todays) if todays else "first import"
            counts = ", ".join(f"{r.entity} {r.status}" for r in reports)
            click.echo(f"  {day} {moment[0]:%b}: {what} (sync: {counts})")
        next_month = date(MONTH.year + MONTH.month // 12, MONTH.month % 12 + 1, 1)
        shows = [(MONTH, "arrears", "the month as it happened, billed after it"),
                 (MONTH, "advance", f"billed on {MONTH:%d %B} at that day's state"),
                 (next_month, "advance", f"{next_month:%B}'s bill: its month in full plus {MONTH:%B}'s correction")]
        moment[0] = datetime(next_month.year, next_month.month, 1, SYNC_HOUR)
        for vendor, sandbox in sandboxes.items():
            for month, mode, why in shows:
                with app.sessions() as session:
                    report = compute_charges(session, parse_period(f"{month:%Y-%m}"), config.billing, mode=mode,
                                             customer=sandbox.billing_customer, vendor=vendor,
                                             known_vendors=list(config.integrations))
                click.echo(f"\n$ integrator billing charges --period {month:%Y-%m} "
                           f"--customer {sandbox.billing_customer!r} --mode {mode}      # {why}")
                click.echo(render_text(report, config.billing.timezone))
        click.echo(f"\nTry: integrator -c {Path(folder) / config_file.name} billing charges "
                   f"--period {MONTH:%Y-%m} --mode advance")
    return 0
