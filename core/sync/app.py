"""The composition root: what every command works with."""

from __future__ import annotations

from dataclasses import dataclass

import pluggy
from sqlalchemy.orm import Session, sessionmaker

from core.config.file import Config


@dataclass
class App:
    """What every command works with: the configuration, the plugins and the database."""

    config: Config
    pm: pluggy.PluginManager
    sessions: sessionmaker[Session]
