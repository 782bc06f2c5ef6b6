"""Loading and validating the YAML configuration. Every error names the key and the file."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.alerts import AlertSettings
from core.billing_settings import BillingSettings
from core.errors import ConfigError, IntegratorError
from core.plugins import VendorFacade, vendor_names
from core.settings import VendorSettings

log = logging.getLogger(__name__)

ENV_CONFIG = "INTEGRATOR_CONFIG"
DEFAULT_CONFIG = Path("config/integrator.yaml")
DEFAULT_DATABASE = "sqlite:///integrator.db"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_KEYS = ("password", "token", "secret")
_SECRET_SOURCES = ("password_file", "password_keyring")


class _TopLevel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    database: str = DEFAULT_DATABASE
    stale_after_hours: float = Field(default=26.0, gt=0)
    alerts: AlertSettings | None = None
    billing: BillingSettings = Field(default_factory=BillingSettings)
    integrations: dict[str, dict[str, Any]] = Field(default_factory=dict)



@dataclass
class Config:
    path: Path
    database_url: str
    stale_after_hours: float = 26.0
    integrations: dict[str, VendorSettings] = field(default_factory=dict)
    alerts: AlertSettings | None = None
    billing: BillingSettings = field(default_factory=BillingSettings)

    def integration(self, vendor: str) -> VendorSettings:
        settings = self.integrations.get(vendor)
        if settings is None:
            raise ConfigError(f"{self.path}: integrations.{vendor} is not configured")
        if not settings.enabled:
            raise ConfigError(f"{self.path}: integrations.{vendor}.enabled is false")
        return settings


def config_path(explicit: str | os.PathLike[str] | None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG])
    return DEFAULT_CONFIG


def load_config(path: Path, pm: pluggy.PluginManager) -> Config:
    raw = _read_yaml(path)
    if isinstance(raw.get("alerts"), dict):
        raw["alerts"] = _resolve_files(_expand(raw["alerts"], path, "alerts"), path.parent)
        if isinstance(raw["alerts"].get("email"), dict):
            raw["alerts"]["email"] = _resolve_files(raw["alerts"]["email"], path.parent)
    try:
        top = _TopLevel.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc, prefix="")) from None
    integrations: dict[str, VendorSettings] = {}
    for vendor, block in top.integrations.items():
        where = f"integrations.{vendor}"
        if vendor not in vendor_names(pm):
            loaded = ", ".join(vendor_names(pm)) or "none"
            raise ConfigError(f"{path}: {where}: no vendor plugin named {vendor!r} is installed (loaded: {loaded})")
        if not isinstance(block, dict):
            raise ConfigError(f"{path}: {where}: expected a mapping of settings")
        _warn_literal_secrets(path, where, block)
        expanded = _resolve_files(_expand(block, path, where), path.parent)
        try:
            model = VendorFacade(pm, vendor).settings_model()
        except IntegratorError as exc:
            raise ConfigError(f"{path}: {where}: {exc}") from None
        try:
            integrations[vendor] = model.model_validate(expanded)
        except ValidationError as exc:
            raise ConfigError(_describe(path, exc, prefix=where + ".")) from None
    return Config(
        path=path,
        database_url=resolve_database_url(top.database, path),
        stale_after_hours=top.stale_after_hours,
        integrations=integrations,
        alerts=top.alerts,
        billing=top.billing,
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} not found: pass -c PATH or set {ENV_CONFIG} (see config/ for examples)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys (database, integrations)")
    return data


def _expand(value: Any, path: Path, where: str) -> Any:
    """Replace ``${VAR}`` (or ``${VAR:-default}``) in every string with the environment's value."""
    if isinstance(value, dict):
        return {k: _expand(v, path, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, path, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ConfigError(f"{path}: {where}: environment variable {name} is not set")

    return _VAR.sub(substitute, value)


def _resolve_files(block: dict[str, Any], base: Path) -> dict[str, Any]:
    """A relative path in a ``file`` or ``*_file`` setting is relative to the config file's folder."""
    resolved = dict(block)
    for key, value in block.items():
        if (key == "file" or str(key).endswith("_file")) and isinstance(value, str) and value \
                and not Path(value).is_absolute():
            resolved[key] = str(base / value)
    return resolved


def _warn_literal_secrets(path: Path, where: str, block: dict[str, Any]) -> None:
    for key, value in block.items():
        if key in _SECRET_SOURCES:
            continue
        if any(s in str(key).lower() for s in _SECRET_KEYS) and isinstance(value, str) and value:
            if not _VAR.search(value):
                log.warning("%s: %s.%s is written in the file; use ${VARIABLE} to read it from the environment",
                            path, where, key)


def _describe(path: Path, exc: ValidationError, prefix: str) -> str:
    errors = exc.errors()
    first = errors[0]
    loc = prefix + ".".join(str(p) for p in first["loc"])
    loc = loc.rstrip(".") or "(top level)"
    kind = first["type"]
    if kind == "extra_forbidden":
        text = "unknown key"
    elif kind == "missing":
        text = "missing required setting"
    else:
        text = first["msg"].removeprefix("Value error, ")
        if "input" in first and kind.endswith("_type"):
            text += f" (got {type(first['input']).__name__} {first['input']!r})"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return f"{path}: {loc}: {text}{more}"


def resolve_database_url(url: str, config: Path) -> str:
    """A relative SQLite path is relative to the config file's folder."""
    base = config.parent
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"{config}: database: {url!r} is not a SQLAlchemy URL such as sqlite:///integrator.db") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        db_path = Path(parsed.database)
        if not db_path.is_absolute() and not parsed.database.startswith("file:"):
            parsed = parsed.set(database=str((base / db_path).resolve()))
            return parsed.render_as_string(hide_password=False)
    return url
