"""The ``integrator`` command: thin click commands that parse, call and print.

The commands live in modules of one concern each and are registered below in ``COMMAND_MODULES``:
a module ``core.x`` that defines ``COMMANDS = [...]`` (click commands or groups) is added with one
line. Plugins add theirs through the ``integrator_register_commands`` hook.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

import click
from sqlalchemy.exc import SQLAlchemyError

from core.cli.common import Context
from core.db import reason as db_reason
from core.errors import IntegratorError
from core.plugins import get_plugin_manager

log = logging.getLogger("integrator")

#: Modules whose ``COMMANDS`` list is added to ``integrator``: one line per module.
COMMAND_MODULES: list[str] = [
    "core.cli.monitor",  # plugins, history, status
    "core.cli.syncing",  # test-connection, import customers|subscriptions, run
    "core.cli.records",  # customers, mappings, licences
]


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


def register_commands(group: click.Group) -> None:
    for name in COMMAND_MODULES:
        for command in importlib.import_module(name).COMMANDS:
            group.add_command(command)


register_commands(cli)


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
