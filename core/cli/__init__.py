"""The ``integrator`` command: thin click commands that parse, call and print.

The commands live in modules of one concern each and are registered below in ``COMMAND_MODULES``:
a module that defines ``COMMANDS = [...]`` (click commands or groups) is added with one line.
Plugins add theirs through the ``integrator_register_commands`` hook.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from core.cli import logs
from core.cli.common import Context

#: Modules whose ``COMMANDS`` list is added to ``integrator``: one line per module.
COMMAND_MODULES: list[str] = [
    "core.cli.monitor",  # plugins, history, status
    "core.cli.syncing",  # test-connection, import customers|subscriptions, run
    "core.cli.records",  # customers, mappings, licences
    "core.web.command",  # web, web set-password
]

EXIT_CODES = """\b
Exit codes:
  0    ok
  1    a sync, check or reconciliation failed, is partial or found a leak
  2    usage or configuration error
  3    status: a scheduled integration is stale
  130  interrupted (Ctrl-C); 143: stopped by SIGTERM; the daemon exits 0 on either
"""

_state = logs.state  # verbosity and log format, as the options set them


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.option("-c", "--config", metavar="PATH",
              help="Configuration file [default: $INTEGRATOR_CONFIG, else config/integrator.yaml].")
@click.option("-v", "--verbose", count=True, help="Say what happens on stderr (-vv: debugging, HTTP included).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr; no progress bars.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one JSON object per log event on stderr (for log shippers).")
@click.version_option(package_name="psa-integrator")
@click.pass_context
def cli(ctx: click.Context, config: str | None, verbose: int, quiet: bool, log_format: str) -> None:
    """Imports customers and cloud subscriptions from distributor marketplaces into the PSA database.

    Every command that prints records takes --json (one document on stdout; logs go to stderr).
    Options -c, -v, -q and --log-format may also follow the command.
    """
    _state.update(verbosity=-1 if quiet else verbose, log_format=log_format)
    logs.configure(_state["verbosity"], log_format)
    ctx.obj = Context(config, ctx.obj)


def _set_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.find_object(Context).config_option = value  # type: ignore[union-attr]


def _set_verbosity(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if not value:
        return
    if param.name == "quiet":
        _state["verbosity"] = -1
    elif param.name == "verbose":
        _state["verbosity"] = max(_state["verbosity"], 0) + value
    else:
        _state["log_format"] = value
    logs.configure(_state["verbosity"], _state["log_format"])


_GLOBAL = [
    (("-c", "--config"), {"metavar": "PATH", "callback": _set_config}),
    (("-v", "--verbose"), {"count": True, "callback": _set_verbosity}),
    (("-q", "--quiet"), {"is_flag": True, "callback": _set_verbosity}),
    (("--log-format",), {"type": click.Choice(["text", "json"]), "callback": _set_verbosity}),
]


def _accept_global_options(command: click.Command) -> None:
    """Let -c/-v/-q/--log-format follow the subcommand too (``integrator status -c prod.yaml``)."""
    marked = getattr(command, "_integrator_globals", False)
    command._integrator_globals = True  # type: ignore[attr-defined]
    taken = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
    if command is not cli and not marked:
        for opts, kwargs in _GLOBAL:
            if not taken & set(opts):
                command.params.append(click.Option(list(opts), hidden=True, expose_value=False, is_eager=True,
                                                   **kwargs))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _accept_global_options(sub)


def register_commands(group: click.Group) -> None:
    for name in COMMAND_MODULES:
        for command in importlib.import_module(name).COMMANDS:
            group.add_command(command)
    # Command groups living in other modules: one line each.
    from core.cli.billing import billing_group
    from core.cli.plugins import register as register_plugin_commands
    from core.cli.reconcile import reconcile_cmd

    register_plugin_commands(group)  # plugins new, demo
    group.add_command(billing_group)  # billing charges
    billing_group.add_command(reconcile_cmd)  # billing reconcile


register_commands(cli)


def _check_arguments(args: list[str]) -> None:
    for position, arg in enumerate(args, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            from core.errors import UsageError

            raise UsageError(f"argument {position} ({shown}) is not valid UTF-8 text") from None


def _database_errors() -> tuple[type[BaseException], ...]:
    """SQLAlchemy's error class once SQLAlchemy is loaded: --help and other commands that never touch
    the database do not import it (no command that did not load it can raise it)."""
    loaded = sys.modules.get("sqlalchemy.exc")
    return (loaded.SQLAlchemyError,) if loaded is not None else ()


def _asks_for_json_logs(args: list[str]) -> bool:
    pairs = zip(args, [*args[1:], ""], strict=True)
    return "--log-format=json" in args or any(a == "--log-format" and b == "json" for a, b in pairs)


def main(argv: list[str] | None = None) -> None:
    """Entry point: an expected failure is one line on stderr, never a traceback; exit codes as in --help."""
    from core.errors import ConfigError, IntegratorError, PluginError, UsageError
    from core.host.plugins import get_plugin_manager

    args = sys.argv[1:] if argv is None else list(argv)
    # Errors found before the options are parsed are JSON lines too when JSON was asked for.
    logs.configure(0, "json" if _asks_for_json_logs(args) else "text")
    try:
        _check_arguments(args)
        pm = get_plugin_manager()
        pm.hook.integrator_register_commands(cli=cli)
        from core.cli.sandboxes import register as register_sandboxes

        register_sandboxes(cli, pm)  # integrator sandbox [VENDOR]: the plugins' sandboxes
        _accept_global_options(cli)
        cli.main(args=args, prog_name="integrator", standalone_mode=False, obj=pm)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except getattr(click.exceptions, "NoArgsIsHelpError", ()) as exc:  # a bare group: its help
        logs.echo(exc.format_message(), "error")
        sys.exit(2)
    except click.UsageError as exc:  # one line, with where to look
        path = exc.ctx.command_path if exc.ctx else "integrator"
        logs.echo(f"integrator: error: {exc.format_message()} (see {path} --help)", "error")
        sys.exit(2)
    except click.ClickException as exc:
        logs.echo(f"integrator: error: {exc.format_message()}", "error")
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        logs.echo("integrator: interrupted", "error")
        sys.exit(130)
    except (ConfigError, UsageError, PluginError) as exc:
        logs.echo(f"integrator: error: {exc}", "error")
        sys.exit(2)
    except IntegratorError as exc:
        logs.echo(f"integrator: error: {exc}", "error")
        sys.exit(1)
    except _database_errors() as exc:
        from core.db import reason as db_reason

        logs.echo(f"integrator: error: database: {db_reason(exc)}", "error")
        sys.exit(1)
    except Exception as exc:
        if os.environ.get("INTEGRATOR_DEBUG"):
            raise
        logs.echo(f"integrator: internal error: {type(exc).__name__}: {exc} "
                   "(set INTEGRATOR_DEBUG=1 to see where)", "error")
        sys.exit(70)
