"""Commands for looking on: ``plugins``, ``history`` and ``status``. None of them reads a secret."""

from __future__ import annotations

import sys
from typing import Any

import click

from core.cli import logs
from core.cli.common import Context, FiniteFloat, count_option, echo_json, json_option, pass_ctx
from core.cli.output import fill, table

EXIT_STALE = 3


@click.command("plugins")
@json_option
@pass_ctx
def plugins_cmd(ctx: Context, as_json: bool) -> None:
    """The loaded plugins, their versions and hooks."""
    from core.host.plugins import describe_plugins

    infos = describe_plugins(ctx.pm)
    if as_json:
        echo_json([{"name": i.name, "version": i.version, "module": i.module, "hooks": list(i.hooks)}
                   for i in infos])
        return
    click.echo(table(["plugin", "version", "module", "hooks"],
                     [[i.name, i.version, i.module, ", ".join(i.hooks)] for i in infos], optional=["module"]))


@click.command("history")
@json_option
@count_option("--limit", default=50, high=10_000_000, help="How many runs to show (0: all).")
@pass_ctx
def history_cmd(ctx: Context, as_json: bool, limit: int) -> None:
    """The sync runs, newest first, with each integration's last sync and last error.

    --json: the list of runs; each carries "integration": its integration's last sync and last error."""
    from core.sync.status import integration_status, recent_runs

    app = ctx.local_app
    runs = recent_runs(app, limit)
    info = integration_status(app)
    if as_json:
        for run in runs:
            item = info.get(run["vendor"], {})
            run["integration"] = {"last_sync": item.get("last_completed"), "last_error": item.get("last_error")}
        echo_json(runs)
        return
    _print_integrations(info)
    click.echo(table(["id", "vendor", "entity", "started (UTC)", "status", "created", "updated", "deactivated",
                      "errors"],
                     [[r["id"], r["vendor"], r["entity"], _when(r["started_at"]), r["status"], r["created"],
                       r["updated"], r["deactivated"], len(r["errors"])] for r in runs]))


@click.command("status", epilog="Exit codes: 0 fresh; 3 a scheduled integration is stale (--strict: or its last "
                                 "run was partial or failed); 2 configuration error.")
@json_option
@click.option("--max-age-hours", type=FiniteFloat(low=0.001, high=24 * 366 * 10), default=None,
              help="How old the last completed sync (ok or partial) may be [default: stale_after_hours, 26].")
@click.option("--strict", is_flag=True, help="Exit 3 as well when an integration's last run was partial or failed.")
@pass_ctx
def status_cmd(ctx: Context, as_json: bool, max_age_hours: float | None, strict: bool) -> None:
    """Each integration's last sync, last error and the errors of its last run; exits 3 when a scheduled
    one is stale: no sync completed (ok or partial) within --max-age-hours. For monitoring and container
    health checks: no vendor is contacted and no secret is read."""
    from datetime import timedelta

    from core.sync.status import integration_status, stale_integrations

    app = ctx.local_app
    hours = max_age_hours if max_age_hours is not None else app.config.stale_after_hours
    info = integration_status(app)
    stale = stale_integrations(app, timedelta(hours=hours), strict=strict)
    if as_json:
        echo_json({"ok": not stale, "integrations": info, "stale": stale, "max_age_hours": hours, "strict": strict})
    else:
        _print_integrations(info, errors=True)
    if stale:
        logs.echo(f"integrator: stale (older than {hours:g} hours): " + "; ".join(stale), "error")
        sys.exit(EXIT_STALE)


def _print_integrations(info: dict[str, dict[str, Any]], errors: bool = False) -> None:
    for vendor, item in info.items():
        stamp = item["last_completed"]
        partial = " (partial)" if stamp and stamp != item["last_success"] else ""
        attempt = item.get("next_attempt")
        click.echo(fill(f"{vendor}: last sync {_when(stamp) + ' UTC' + partial if stamp else 'never'}; "
                        f"last error {item['last_error'] or 'none'}"))
        if attempt:
            what = "retry after a failed sync" if item.get("retrying") else "next sync"
            click.echo(f"{vendor}: {what} {_when(attempt)} UTC")
        if errors:
            for error in item["errors"]:
                click.echo(fill(f"  {error}", indent="    "))


def _when(stamp: object) -> str:
    """``2026-11-26T00:59:21.028Z`` -> ``2026-11-26 00:59:21`` (the column says UTC)."""
    return str(stamp)[:19].replace("T", " ") if stamp else "-"


COMMANDS = [plugins_cmd, history_cmd, status_cmd]
