"""What every command module shares: the lazily built application, ``--json`` output, vendor arguments."""

from __future__ import annotations

from typing import Any

import click

from core import store
from core.config import config_path, load_config
from core.db import open_database
from core.plugins import get_plugin_manager
from core.sync import App


class Context:
    """Builds the plugin manager, config and database on first use, so that each command pays only for
    what it needs."""

    def __init__(self, config: str | None, pm: Any = None) -> None:
        self.config_option = config
        self._pm: Any = pm
        self._app: App | None = None

    @property
    def pm(self) -> Any:
        if self._pm is None:
            self._pm = get_plugin_manager()
        return self._pm

    @property
    def app(self) -> App:
        if self._app is None:
            config = load_config(config_path(self.config_option), self.pm)
            self._app = App(config=config, pm=self.pm, sessions=open_database(config.database_url))
        return self._app


pass_ctx = click.make_pass_decorator(Context)


def echo_json(value: Any) -> None:
    """One JSON document on stdout."""
    click.echo(store.dump(value))


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
