"""Building the plugin manager, and the typed facade through which the core calls one vendor."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

import pluggy

from core import hookspecs
from core.config.settings import VendorSettings
from core.errors import IntegratorError, PluginError
from core.host import contract
from core.host.lifecycle import default_deactivations
from core.types import (
    Connection,
    Deactivation,
    DemoSandbox,
    LicenceGone,
    Listing,
    VendorCharge,
    VendorCustomer,
    VendorSubscription,
)

if TYPE_CHECKING:
    import click

log = logging.getLogger(__name__)
PROJECT = "integrator"
#: Comma-separated plugin names that are not loaded, e.g. ``INTEGRATOR_DISABLE_PLUGINS=acme,other``.
DISABLE_ENV = "INTEGRATOR_DISABLE_PLUGINS"


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str | None
    module: str
    hooks: tuple[str, ...]


def get_plugin_manager(load_entry_points: bool = True) -> pluggy.PluginManager:
    """A fresh manager: specs, disabled names, then every plugin of the ``integrator`` group."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    disabled = [name.strip() for name in os.environ.get(DISABLE_ENV, "").split(",") if name.strip()]
    for name in disabled:
        pm.set_blocked(name)
    if load_entry_points:
        installed = installed_plugins()
        for name in disabled:
            if name not in installed:
                from core.config.yamlload import did_you_mean

                log.warning("%s names %r, which is no installed plugin%s", DISABLE_ENV, name,
                            did_you_mean(name, list(installed)) or f" (installed: {', '.join(sorted(installed))})")
        _load_entry_points(pm)
    pm.check_pending()
    return pm


def installed_plugins() -> dict[str, list[str]]:
    """Every entry-point name of the ``integrator`` group -> who registers it ("dist version (module)"),
    disabled ones included."""
    found: dict[str, list[str]] = {}
    for ep in entry_points(group=PROJECT):
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else "an unknown distribution"
        found.setdefault(ep.name, []).append(f"{dist} ({ep.value})")
    return found


def _refuse_duplicates(pm: pluggy.PluginManager) -> None:
    """Two distributions registering one name: which one loads would depend on sys.path order, and a
    look-alike would silently replace the real vendor. Refuse, naming both (unless that name is disabled)."""
    for name, owners in sorted(installed_plugins().items()):
        if len(owners) > 1 and not pm.is_blocked(name):
            raise PluginError(f"the plugin name {name!r} is registered by {len(owners)} installed distributions: "
                              f"{' and '.join(owners)}; uninstall all but one (pip uninstall ...), "
                              f"or disable the name with {DISABLE_ENV}={name}")


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    _refuse_duplicates(pm)
    versions: dict[str, str | None] = {}
    for ep in entry_points(group=PROJECT):
        if pm.is_blocked(ep.name) or pm.get_plugin(ep.name) is not None:
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken third-party plugin must not look like a core crash
            raise PluginError(
                f"plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}"
            ) from exc
        _check_contract(ep.name, plugin)
        register(pm, plugin, ep.name)
        versions[ep.name] = ep.dist.version if ep.dist is not None else None
    pm.integrator_versions = versions  # type: ignore[attr-defined]


def register(pm: pluggy.PluginManager, plugin: Any, name: str) -> None:
    """Register a plugin after checking its hooks against the specs (missing or mis-signed: refused)."""
    contract.check_plugin(pm, name, plugin)
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {name!r} was refused: {exc}") from None


def _check_contract(name: str, plugin: Any) -> None:
    """A plugin may declare ``HOOK_CONTRACT = (min, max)``; refuse it when ours is outside."""
    supported = getattr(plugin, "HOOK_CONTRACT", None)
    if supported is None:
        return
    low, high = supported
    if not low <= hookspecs.HOOK_CONTRACT_VERSION <= high:
        raise PluginError(
            f"plugin {name!r} supports hook contract versions {low} to {high}, "
            f"but this integrator has version {hookspecs.HOOK_CONTRACT_VERSION}: upgrade one of them"
        )


def describe_plugins(pm: pluggy.PluginManager) -> list[PluginInfo]:
    versions: dict[str, str | None] = getattr(pm, "integrator_versions", {})
    infos = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        if plugin is None:
            continue
        hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()))
        module = getattr(plugin, "__name__", type(plugin).__name__)
        infos.append(PluginInfo(name=name, version=versions.get(name), module=module, hooks=hooks))
    return infos


def vendor_names(pm: pluggy.PluginManager) -> list[str]:
    """The loaded plugins that are vendors: those implementing integrator_connect."""
    def is_vendor(plugin: object) -> bool:
        return any(c.name == "integrator_connect" for c in pm.get_hookcallers(plugin) or ())

    return sorted(name for name, plugin in pm.list_name_plugin() if plugin is not None and is_vendor(plugin))


def display_name(pm: pluggy.PluginManager, vendor: str) -> str:
    """The vendor's name as people write it (its ``integrator_display_name``), else its plugin name."""
    names: dict[str, str] = pm.__dict__.setdefault("integrator_display_names", {})
    if vendor in names:
        return names[vendor]
    shown = vendor
    plugin = pm.get_plugin(vendor)
    if plugin is not None and any(c.name == "integrator_display_name" for c in pm.get_hookcallers(plugin) or ()):
        others = [p for name, p in pm.list_name_plugin() if name != vendor and p is not None]
        try:
            given = pm.subset_hook_caller("integrator_display_name", remove_plugins=others)()
        except Exception as exc:  # a name is not worth a failed command
            log.warning("plugin %r: integrator_display_name failed (%s): showing %r",
                        vendor, type(exc).__name__, vendor)
        else:
            if isinstance(given, str) and given.strip() and len(given.strip()) <= 40:
                shown = given.strip()
            else:
                log.warning("plugin %r: integrator_display_name must return a name of 1 to 40 characters", vendor)
    names[vendor] = shown
    return shown


class VendorFacade:
    """Typed forwarding to exactly one vendor plugin's hooks."""

    def __init__(self, pm: pluggy.PluginManager, vendor: str) -> None:
        if pm.get_plugin(vendor) is None:
            loaded = ", ".join(vendor_names(pm)) or "none"
            raise PluginError(f"no vendor plugin named {vendor!r} is loaded (loaded: {loaded})")
        self.vendor = vendor
        self._pm = pm
        self._others = [p for name, p in pm.list_name_plugin() if name != vendor and p is not None]
        self._secrets: list[str] = []  # never shown in an error: the settings' secret values

    def _caller(self, hook: str) -> Any:
        return self._pm.subset_hook_caller(hook, remove_plugins=self._others)

    def _call(self, hook: str, **kwargs: Any) -> Any:
        """Call the vendor's hook; an exception it was not meant to raise becomes a PluginError naming it."""
        try:
            result = self._caller(hook)(**kwargs)
        except IntegratorError:
            raise
        except Exception as exc:
            raise contract.unexpected(self.vendor, hook, exc, self._secrets) from exc
        if result is None:
            raise PluginError(f"plugin {self.vendor!r} does not implement {hook}")
        return result

    def plugin(self) -> Any:
        """The vendor's plugin object (a module, for the plugins installed by entry point)."""
        return self._pm.get_plugin(self.vendor)

    def implements(self, hook: str) -> bool:
        plugin = self._pm.get_plugin(self.vendor)
        return any(c.name == hook for c in self._pm.get_hookcallers(plugin) or ())

    def settings_model(self) -> type[VendorSettings]:
        if not self.implements("integrator_settings_model"):
            return VendorSettings
        model = self._call("integrator_settings_model")
        if not (isinstance(model, type) and issubclass(model, VendorSettings)):
            raise PluginError(
                f"plugin {self.vendor!r}: integrator_settings_model must return a VendorSettings subclass")
        return model

    def connect(self, settings: VendorSettings) -> Connection:
        self._secrets = contract.secret_values(settings)
        connection = contract.checked_connection(self.vendor, self._call("integrator_connect", settings=settings))
        closer = connection.closer
        if closer is not None:
            def close() -> None:  # a failing logout is worth a warning, never a failed run
                try:
                    closer()
                except Exception as exc:
                    log.warning("%s", contract.unexpected(self.vendor, "Connection.close", exc, self._secrets))

            connection.closer = close
        return connection

    def list_customers(self, connection: Connection) -> Listing[VendorCustomer]:
        return contract.checked_customers(self.vendor, self._call("integrator_list_customers", connection=connection))

    def list_subscriptions(self, connection: Connection, customer: VendorCustomer) -> Listing[VendorSubscription]:
        result = self._call("integrator_list_subscriptions", connection=connection, customer=customer)
        return contract.checked_subscriptions(self.vendor, result, customer)

    def deactivate(self, licences: list[LicenceGone], settings: VendorSettings) -> list[Deactivation]:
        """The plugin's decisions, or the core's default rule when it has no integrator_deactivate."""
        if not licences:
            return []
        if not self.implements("integrator_deactivate"):
            return default_deactivations(licences, settings)
        decisions = self._call("integrator_deactivate", licences=licences, settings=settings)
        return contract.checked_decisions(self.vendor, decisions, [lic.external_id for lic in licences])

    def demo_sandbox(self) -> DemoSandbox | None:
        """The vendor's loopback sandbox for ``integrator demo``, started; None when it offers none."""
        if not self.implements("integrator_demo_sandbox"):
            return None
        sandbox = self._call("integrator_demo_sandbox")
        if not isinstance(sandbox, DemoSandbox):
            raise PluginError(f"plugin {self.vendor!r}: integrator_demo_sandbox must return a DemoSandbox")
        return sandbox

    def sandbox_command(self) -> click.Command | None:
        """The click command serving the vendor's sandbox; None when it offers none."""
        if not self.implements("integrator_sandbox_command"):
            return None
        command = self._call("integrator_sandbox_command")
        import click

        if not isinstance(command, click.Command):
            raise PluginError(f"plugin {self.vendor!r}: integrator_sandbox_command must return a click.Command")
        return command

    def list_charges(self, connection: Connection, year: int, month: int) -> Listing[VendorCharge] | None:
        """The vendor's invoice lines for one month; None when the plugin has no invoice data (no such hook)."""
        if not self.implements("integrator_list_charges"):
            return None
        result = self._call("integrator_list_charges", connection=connection, year=year, month=month)
        return contract.checked_listing(self.vendor, "integrator_list_charges", result, VendorCharge)
