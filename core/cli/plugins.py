"""Core commands about plugins that live outside cli.py: ``plugins new`` and ``demo``.

``register(cli)`` is called once from ``core.cli``; it turns ``integrator plugins`` into a group
that still lists the plugins when called alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from core.cli.demo import demo_cmd
from core.scaffold import ScaffoldError, new_plugin


@click.command("new")
@click.argument("name")
@click.option("--dir", "folder", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Where the plugin's folder NAME is written.")
def plugins_new(name: str, folder: str) -> None:
    """Write a working vendor plugin package for NAME (hooks over hard-coded records, tests, example config).

    NAME may not be an installed plugin's: installing the result would replace that plugin."""
    from core.host.plugins import installed_plugins

    owners = installed_plugins().get(name)
    if owners:
        raise click.UsageError(f"{name!r} is the name of an installed plugin ({' and '.join(owners)}): installing "
                               "a new plugin of that name would replace it; choose another name")
    try:
        target = new_plugin(name, Path(folder))
    except ScaffoldError as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.UsageError(f"cannot write the plugin under {folder}: {exc.strerror or exc}") from None
    click.echo(f"Wrote the {name} plugin to {target}. Next:\n"
               f"  pip install -e '{target}[test]'\n"
               f"  python -m pytest {target}\n"
               f"  integrator -c {target / 'config' / (name + '.example.yaml')} run --once")


def register(cli: click.Group) -> None:
    listing = cli.commands.get("plugins")
    if listing is not None and not isinstance(listing, click.Group):
        show = listing.callback

        @click.pass_context
        def callback(ctx: click.Context, **kwargs: Any) -> None:
            if ctx.invoked_subcommand is None:
                ctx.invoke(show, **kwargs)  # type: ignore[arg-type]

        group = click.Group("plugins", params=listing.params, callback=callback, invoke_without_command=True,
                            help=listing.help, short_help=listing.short_help)
        cli.add_command(group)
        listing = group
    if isinstance(listing, click.Group):
        listing.add_command(plugins_new)
    cli.add_command(demo_cmd)
