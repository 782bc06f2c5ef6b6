"""What every command module shares: the lazily built application, ``--json`` output, vendor arguments,
and the checked number types."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import click

from core.config.yamlload import did_you_mean
from core.errors import ConfigError, UsageError

if TYPE_CHECKING:  # the heavy modules are imported when a command needs them: --help stays fast
    from core.sync.app import App

log = logging.getLogger("integrator")


class Context:
    """Builds the plugin manager, config and database on first use, so that each command pays only for
    what it needs. ``app`` reads the secrets (for commands that talk to a vendor or send alerts);
    ``local_app`` never does, so that looking at the database works with a password variable unset."""

    def __init__(self, config: str | None, pm: Any = None) -> None:
        self.config_option = config
        self._pm: Any = pm
        self._apps: dict[bool, App] = {}

    @property
    def pm(self) -> Any:
        if self._pm is None:
            from core.host.plugins import get_plugin_manager

            self._pm = get_plugin_manager()
        return self._pm

    @property
    def app(self) -> App:
        return self._app(secrets=True)

    @property
    def local_app(self) -> App:
        return self._apps.get(True) or self._app(secrets=False)

    def _app(self, secrets: bool) -> App:
        if secrets not in self._apps:
            from core.config.file import config_path, load_config
            from core.db import open_database
            from core.sync.app import App

            path = config_path(self.config_option)
            other = self._apps.get(not secrets)
            config = load_config(path, self.pm, secrets=secrets, warn=other is None)
            log.info("configuration %s; integrations: %s", path, ", ".join(config.integrations) or "none")
            sessions = other.sessions if other is not None else open_database(config.database_url)
            self._apps[secrets] = App(config=config, pm=self.pm, sessions=sessions)
        return self._apps[secrets]

    def display(self, vendor: str) -> str:
        """The vendor's name as people write it, from its plugin."""
        from core.host.plugins import display_name

        return display_name(self.pm, vendor)

    def vendor(self, name: str | None, *, configured: bool = True) -> str:
        """The vendor a command is about: as given (checked), else the only configured one."""
        from core.host.plugins import vendor_names

        installed = vendor_names(self.pm)
        config = self.local_app.config
        listed = list(config.integrations)
        if name is None:
            enabled = [v for v, s in config.integrations.items() if s.enabled]
            if len(enabled) == 1:
                return enabled[0]
            raise UsageError("name the vendor: " + (f"configured are {', '.join(enabled)}" if enabled
                                                     else f"none is configured in {config.path}"))
        if name not in installed:
            raise UsageError(f"no vendor plugin named {name!r}{did_you_mean(name, listed + installed)}; "
                             f"configured: {', '.join(listed) or 'none'}; installed: {', '.join(installed)}")
        if configured and name not in listed:
            raise ConfigError(f"{config.path}: integrations.{name} is not configured "
                              f"(configured: {', '.join(listed) or 'none'})")
        return name


pass_ctx = click.make_pass_decorator(Context)


def echo_json(value: Any) -> None:
    """One JSON document on stdout."""
    from core.shapes import dump

    click.echo(dump(value))


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
vendor_argument = click.argument("vendor", required=False, metavar="[VENDOR]")


class FiniteFloat(click.ParamType):
    """A float that is a real number (no nan or inf), within [low, high]."""

    name = "number"

    def __init__(self, low: float = 0.0, high: float = 1e6) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number) or not self.low <= number <= self.high:
            self.fail(f"{value} is not a number from {self.low:g} to {self.high:g}", param, ctx)
        return number


def count_option(*names: str, default: int, high: int = 1_000_000, help: str) -> Any:
    """An integer option refused when negative or absurd."""
    return click.option(*names, type=click.IntRange(0, high), default=default, show_default=True, help=help)
