"""``integrator sandbox [VENDOR] [...]``: serves a vendor plugin's loopback sandbox in the foreground.

Each plugin offering ``integrator_sandbox_command`` becomes a subcommand named after it, with its
own options. VENDOR may be left out only when exactly one loaded plugin has a sandbox.
"""

from __future__ import annotations

from typing import Any

import click
import pluggy


class SandboxGroup(click.Group):
    """A group whose one subcommand may be left out: ``integrator sandbox --port 0`` serves the only one."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        names = sorted(self.commands)
        help_asked = bool(args) and args[0] in ctx.help_option_names
        if len(names) == 1 and (not args or args[0] not in self.commands):
            args = [names[0], *args]
        elif not names and not help_asked:
            raise click.UsageError("no loaded plugin offers a sandbox", ctx)
        elif not help_asked and (not args or args[0] not in self.commands):
            given = f"{args[0]!r} is not one" if args and not args[0].startswith("-") else "name one"
            raise click.UsageError(f"several plugins offer a sandbox ({', '.join(names)}): {given}, "
                                   f"e.g. integrator sandbox {names[0]}", ctx)
        return super().parse_args(ctx, args)


def sandbox_group(pm: pluggy.PluginManager) -> click.Group:
    from core.host.plugins import VendorFacade, vendor_names

    group = SandboxGroup("sandbox", short_help="Serve a vendor plugin's loopback sandbox in the foreground.",
                         help="Serve a vendor plugin's loopback sandbox (demo data) in the foreground: "
                              "integrator sandbox VENDOR [its options]. VENDOR may be left out when exactly "
                              "one loaded plugin has a sandbox.")
    for vendor in vendor_names(pm):
        command = VendorFacade(pm, vendor).sandbox_command()
        if command is not None:
            group.add_command(command, name=vendor)
    return group


def register(cli: click.Group, pm: Any) -> None:
    cli.add_command(sandbox_group(pm))
