"""Commands for looking on: ``plugins``, ``history`` and ``status``."""

from __future__ import annotations

import sys

import click

from core.cli.common import Context, echo_json, pass_ctx
from core.output import table
from core.plugins import describe_plugins


@click.command("plugins")
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


@click.command("history")
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


@click.command("status")
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


def _utc(stamp: str | None) -> str:
    return f"{stamp} UTC" if stamp else "never"


COMMANDS = [plugins_cmd, history_cmd, status_cmd]
