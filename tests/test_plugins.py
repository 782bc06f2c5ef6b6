"""Plugin discovery, the hook contract, and calls reaching only the configured vendor."""

from __future__ import annotations

import inspect
import re
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from core import Connection, Listing, VendorAccount, VendorCustomer, hookimpl, hookspecs
from core.config.settings import VendorSettings
from core.errors import PluginError
from core.host.plugins import VendorFacade, get_plugin_manager

ROOT = Path(__file__).resolve().parent.parent


def test_installed_metadata_declares_both_builtin_plugins_in_the_entry_point_group():
    found = {ep.name: ep.value for ep in entry_points(group="integrator")}
    assert found["also"] == "plugins.also"
    assert found["westcoast_stub"] == "plugins.westcoast_stub"


def test_plugins_command_lists_the_builtin_plugins_with_version_and_hooks(cli):
    result = cli("plugins", "--json")
    assert result.code == 0
    by_name = {p["name"]: p for p in result.json}
    assert {"also", "westcoast_stub"} <= set(by_name)
    for name in ("also", "westcoast_stub"):
        assert by_name[name]["version"]
        assert "integrator_list_subscriptions" in by_name[name]["hooks"]


def test_a_plugin_is_disabled_by_name_through_the_environment(cli, monkeypatch):
    monkeypatch.setenv("INTEGRATOR_DISABLE_PLUGINS", "westcoast_stub")
    names = [p["name"] for p in cli("plugins", "--json").json]
    assert "also" in names and "westcoast_stub" not in names


class FakeVendor:
    """A vendor registered inline, as a third party would through an entry point."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[str] = []

    @hookimpl
    def integrator_connect(self, settings):
        self.calls.append("connect")
        return Connection(vendor=self.name, title=self.name, account=VendorAccount("1", "Me"))

    @hookimpl
    def integrator_list_customers(self, connection):
        self.calls.append("list_customers")
        return Listing(items=[VendorCustomer(external_id="9", name=f"{self.name} customer", active=True,
                                             state="Active")])


def test_an_inline_plugin_is_called_through_the_hooks_and_only_for_its_own_vendor():
    pm = get_plugin_manager(load_entry_points=False)
    first, second = FakeVendor("first"), FakeVendor("second")
    pm.register(first, name="first")
    pm.register(second, name="second")
    facade = VendorFacade(pm, "second")
    connection = facade.connect(VendorSettings())
    listing = facade.list_customers(connection)
    assert [c.name for c in listing.items] == ["second customer"]
    assert first.calls == [] and second.calls == ["connect", "list_customers"]


def test_an_unimplemented_hook_raises_a_clear_error_instead_of_pretending():
    pm = get_plugin_manager(load_entry_points=False)
    pm.register(FakeVendor("partial"), name="partial")
    facade = VendorFacade(pm, "partial")
    with pytest.raises(PluginError, match="partial.*does not implement integrator_list_subscriptions"):
        facade.list_subscriptions(facade.connect(VendorSettings()), VendorCustomer("9", "x", True, "Active"))


def test_an_unknown_vendor_names_the_loaded_ones():
    with pytest.raises(PluginError, match=r"no vendor plugin named 'nope'.*also"):
        VendorFacade(get_plugin_manager(), "nope")


def test_a_plugin_declaring_an_incompatible_contract_is_refused_naming_both_versions(monkeypatch):
    import types

    from core.host import plugins

    module = types.SimpleNamespace(HOOK_CONTRACT=(7, 9))
    with pytest.raises(PluginError, match=r"versions 7 to 9.*version 1"):
        plugins._check_contract("future", module)


def test_every_hook_is_documented_in_the_readme_with_the_specs_signature():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    hooks = [name for name in dir(hookspecs) if name.startswith("integrator_")]
    assert len(hooks) >= 4
    documented = dict(re.findall(r"^\| `(integrator_\w+)\(([^)]*)\)`", readme, flags=re.M))
    wrong = {h: documented.get(h) for h in hooks
             if [p.strip() for p in documented.get(h, "?").split(",") if p.strip()]
             != list(inspect.signature(getattr(hookspecs, h)).parameters)}
    assert not wrong, f"README.md's hook table disagrees with core/hookspecs.py: {wrong}"


def test_every_hook_spec_documents_each_parameter():
    for name in (n for n in dir(hookspecs) if n.startswith("integrator_")):
        spec = getattr(hookspecs, name)
        for param in inspect.signature(spec).parameters:
            assert f":param {param}:" in (spec.__doc__ or ""), f"{name} does not document {param}"
