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

from core.config.alerts import AlertSettings
from core.config.billing import BillingSettings
from core.config.settings import VendorSettings
from core.config.yamlload import YamlTooBig, did_you_mean, load_yaml
from core.errors import ConfigError, IntegratorError
from core.host.plugins import VendorFacade, vendor_names
from core.redact import is_secret_place, is_secret_setting

log = logging.getLogger(__name__)

ENV_CONFIG = "INTEGRATOR_CONFIG"
DEFAULT_CONFIG = Path("config/integrator.yaml")
DEFAULT_DATABASE = "sqlite:///integrator.db"
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@'\"]*@")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
#: Stands in for a secret that a command never needs (it does not talk to the vendor); never sent anywhere.
UNRESOLVED_SECRET = "<not read by this command>"


class _TopLevel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

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
            listed = ", ".join(self.integrations) or "none"
            raise ConfigError(f"{self.path}: integrations.{vendor} is not configured"
                              f"{did_you_mean(vendor, self.integrations)} (configured: {listed})")
        if not settings.enabled:
            raise ConfigError(f"{self.path}: integrations.{vendor}.enabled is false")
        return settings


def config_path(explicit: str | os.PathLike[str] | None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG])
    return DEFAULT_CONFIG


def load_config(path: Path, pm: pluggy.PluginManager, *, secrets: bool = True, warn: bool = True) -> Config:
    """The validated configuration. With ``secrets=False`` (commands that never talk to a vendor or send
    an alert) no secret is read: its variable may be unset, its file or keyring absent. ``warn=False``:
    the file was loaded (and warned about) already by this command."""
    raw = _read_yaml(path)
    if isinstance(raw.get("alerts"), dict):
        alerts = raw["alerts"]
        if not secrets and isinstance(alerts.get("email"), dict):
            alerts = {**alerts, "email": _without_secrets(alerts["email"])}
        raw["alerts"] = _resolve_files(_expand(alerts, path, "alerts"), path.parent)
        if isinstance(raw["alerts"].get("email"), dict):
            raw["alerts"]["email"] = _resolve_files(raw["alerts"]["email"], path.parent)
    try:
        top = _TopLevel.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc, prefix="", model=_TopLevel)) from None
    integrations: dict[str, VendorSettings] = {}
    for vendor, block in top.integrations.items():
        where = f"integrations.{vendor}"
        if vendor not in vendor_names(pm):
            loaded = ", ".join(vendor_names(pm)) or "none"
            raise ConfigError(f"{path}: {where}: no vendor plugin named {vendor!r} is installed"
                              f"{did_you_mean(vendor, vendor_names(pm))} (loaded: {loaded})")
        if not isinstance(block, dict):
            raise ConfigError(f"{path}: {where}: expected a mapping of settings")
        if warn:
            _warn_literal_secrets(path, where, block)
        if not secrets:
            block = _without_secrets(block)
        expanded = _resolve_files(_expand(block, path, where), path.parent)
        try:
            model = VendorFacade(pm, vendor).settings_model()
        except IntegratorError as exc:
            raise ConfigError(f"{path}: {where}: {exc}") from None
        try:
            integrations[vendor] = model.model_validate(expanded)
        except ValidationError as exc:
            raise ConfigError(_describe(path, exc, prefix=where + ".", model=model)) from None
    return Config(
        path=path,
        database_url=resolve_database_url(top.database, path),
        stale_after_hours=top.stale_after_hours,
        integrations=integrations,
        alerts=top.alerts,
        billing=top.billing,
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    if path.is_dir():
        raise ConfigError(f"config file {path} is a folder: pass -c PATH of a YAML file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} not found: pass -c PATH or set {ENV_CONFIG} (see config/ for examples)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        data = load_yaml(text)
    except YamlTooBig as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}") from None
    if not data:
        raise ConfigError(f"{path}: the configuration is empty: it needs at least an integrations: block "
                          "(see config/ for examples)")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys (database, integrations)")
    return data


def _without_secrets(block: dict[str, Any]) -> dict[str, Any]:
    """The block with its secret settings replaced by a placeholder that is never used: nothing is read."""
    result = {k: v for k, v in block.items() if not is_secret_place(k)}
    for key in list(result):
        if is_secret_setting(key):
            result[key] = UNRESOLVED_SECRET
    if "password" not in result and any(k in block for k in ("password_file", "password_keyring")):
        result["password"] = UNRESOLVED_SECRET
    return result


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
        if is_secret_setting(key) and isinstance(value, str) and value:
            if not _VAR.search(value):
                log.warning("%s: %s.%s is written in the file; use ${VARIABLE} to read it from the environment",
                            path, where, key)


def _describe(path: Path, exc: ValidationError, prefix: str, model: type[BaseModel] | None = None) -> str:
    errors = exc.errors(include_input=False, include_url=False)
    inputs = exc.errors(include_url=False)
    first = errors[0]
    loc = prefix + ".".join(str(p) for p in first["loc"])
    loc = loc.rstrip(".") or "(top level)"
    kind = first["type"]
    secret = any(is_secret_setting(p) or is_secret_place(p) for p in first["loc"])
    if kind == "extra_forbidden":
        text = "unknown key" + (did_you_mean(str(first["loc"][-1]), _known_keys(model)) if model else "")
    elif kind == "missing":
        text = "missing required setting"
    elif secret:  # never echo a secret, whatever its type or the validator's words
        text = "invalid value" if not kind.endswith("_type") else first["msg"]
        if "input" in inputs[0]:
            text += f" (got {type(inputs[0]['input']).__name__}; the value is not shown: it is a secret)"
    else:
        text = first["msg"].removeprefix("Value error, ")
        if "input" in inputs[0] and kind.endswith("_type"):
            text += f" (got {type(inputs[0]['input']).__name__} {inputs[0]['input']!r:.80})"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return f"{path}: {loc}: {mask_userinfo(text)}{more}"


def mask_userinfo(text: str) -> str:
    """``https://user:secret@host`` -> ``https://***@host`` wherever a URL appears in a message."""
    return _USERINFO.sub(r"\1***@", text)


def resolve_database_url(url: str, config: Path) -> str:
    """A relative SQLite path is relative to the config file's folder."""
    base = config.parent
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError(
            f"{config}: database: {mask_userinfo(url)!r} is not a SQLAlchemy URL such as sqlite:///integrator.db"
        ) from None
    try:
        parsed.get_dialect().import_dbapi()
    except NoSuchModuleError:
        raise ConfigError(f"{config}: database: {parsed.drivername!r} is not a database SQLAlchemy knows "
                          "(sqlite:///PATH or postgresql+psycopg://...)") from None
    except ImportError as exc:
        raise ConfigError(f"{config}: database: the driver for {parsed.drivername} is not installed "
                          f"(missing Python module {exc.name or '?'}; pip install it, or use sqlite or "
                          "postgresql+psycopg)") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        db_path = Path(parsed.database)
        if not db_path.is_absolute() and not parsed.database.startswith("file:"):
            parsed = parsed.set(database=str((base / db_path).resolve()))
            return parsed.render_as_string(hide_password=False)
    return url


def _known_keys(model: type[BaseModel] | None) -> set[str]:
    """Every setting name of ``model`` and of the models nested in it, for "did you mean"."""
    seen: set[str] = set()
    stack = [model] if model else []
    while stack:
        current = stack.pop()
        for name, info in current.model_fields.items():
            seen.add(info.alias or name)
            for arg in (info.annotation, *getattr(info.annotation, "__args__", ())):
                if isinstance(arg, type) and issubclass(arg, BaseModel) and arg is not current:
                    stack.append(arg)
    return seen
