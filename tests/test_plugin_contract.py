"""The core holds plugins to the contract: at load (hooks and signatures) and at the facade (every value
returned). A plugin's bad record or unexpected exception fails only what it concerns, named, and
``run --once`` goes on with the next integration."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PLUGIN = '''
from decimal import Decimal
from pydantic import SecretStr
from core import Connection, Listing, VendorAccount, VendorCustomer, VendorSubscription, hookimpl
from core.config.settings import VendorSettings


class OddSettings(VendorSettings):
    token: SecretStr = SecretStr("tok-s3cret")


@hookimpl
def integrator_settings_model():
    return OddSettings

MODE = {mode!r}


@hookimpl
def integrator_connect(settings):
    if MODE == "connect_crashes":
        secret = settings.token.get_secret_value()
        raise RuntimeError("socket exploded at https://user:hunter2@api.example/x with " + secret)
    def close():
        raise OSError("logout failed")

    return Connection(vendor={name!r}, title="Odd", account=VendorAccount("R", "Reseller"),
                      closer=close if MODE == "close_crashes" else None)


@hookimpl
def integrator_list_customers(connection):
    return Listing(items=[VendorCustomer("C1", "Odd One", True, "Active"),
                          VendorCustomer("C2", "Odd Two", True, "Active")])


@hookimpl
def integrator_list_subscriptions(connection, customer):
    if MODE == "listing_crashes" and customer.external_id == "C1":
        raise KeyError("Quantity")
    subs = [VendorSubscription("S-" + customer.external_id, customer.external_id, "Good licence", "Active", False, 2,
                               Decimal("1.50"), None, "EUR")]
    if MODE == "odd_values":
        subs.append(VendorSubscription("S-cur", customer.external_id, "Currency as number", "Active", False, 1,
                                       Decimal("2"), None, 978))
        subs.append(VendorSubscription("S-qty", customer.external_id, "Quantity as text", "Active", False, "3"))
    if MODE == "gone" and customer.external_id == "C1" and (connection.account.name == "Reseller"):
        import os
        if os.environ.get("ODD_DROP"):
            subs = []
    return Listing(items=subs)
'''


@pytest.fixture
def install_plugin(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                   ) -> Iterator[Callable[[str, str], None]]:
    """Install a plugin module as a distribution (dist-info with an entry point), as pip would."""
    modules: list[str] = []

    def install(name: str, source: str) -> None:
        site = tmp_path_factory.mktemp("site")
        module = f"{name}_plugin"
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        dist = site / f"{module}-1.0.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
        (dist / "entry_points.txt").write_text(f"[integrator]\n{name} = {module}\n")
        monkeypatch.syspath_prepend(str(site))
        modules.append(module)

    yield install
    for module in modules:
        sys.modules.pop(module, None)


def two_integrations(tmp_path: Path, database_url: str, odd: str) -> Path:
    export = tmp_path / "export.json"
    shutil.copy(ROOT / "config" / "westcoast-export.example.json", export)
    config = tmp_path / "integrator.yaml"
    config.write_text(json.dumps({"database": database_url, "integrations": {
        odd: {"integrator": {"enabled": True}},  # synced first
        "westcoast_stub": {"file": str(export), "integrator": {"enabled": True}},
    }}))
    return config


def test_a_plugin_missing_a_required_hook_is_refused_at_load_naming_the_hook_and_its_signature(
        install_plugin, cli):
    install_plugin("halfdone", '''
        from core import Connection, VendorAccount, hookimpl

        @hookimpl
        def integrator_connect(settings):
            return Connection(vendor="halfdone", title="H", account=VendorAccount("1", "H"))

        @hookimpl
        def integrator_list_customers(connection):
            raise NotImplementedError

        def integrator_list_subscriptions(connection, customer):  # forgot @hookimpl
            raise NotImplementedError
        ''')
    result = cli("plugins")
    assert result.code == 2  # an installation problem, like a configuration error
    assert result.err.strip() == (
        "integrator: error: plugin 'halfdone' is missing the required hook "
        "integrator_list_subscriptions(connection, customer) (it is defined, but without @hookimpl)")


def test_a_hook_whose_parameters_differ_from_the_spec_is_refused_at_load(install_plugin, cli):
    install_plugin("misnamed", PLUGIN.format(mode="", name="misnamed").replace(
        "def integrator_list_subscriptions(connection, customer):",
        "def integrator_list_subscriptions(connection, company):"))
    result = cli("plugins")
    assert result.code == 2
    assert ("plugin 'misnamed': integrator_list_subscriptions takes company, which the spec does not have; "
            "expected integrator_list_subscriptions(connection, customer)") in result.err


def test_a_record_with_odd_values_is_a_named_problem_and_the_next_integration_still_runs(
        install_plugin, cli, tmp_path, database_url):
    install_plugin("oddvalues", PLUGIN.format(mode="odd_values", name="oddvalues"))
    config = two_integrations(tmp_path, database_url, "oddvalues")
    result = cli("-c", str(config), "run", "--once")
    assert result.code == 1, result.err  # partial, not an internal error (70)
    assert "internal error" not in result.err
    assert ("Odd One (C1): Currency as number (S-cur): plugin 'oddvalues' returned an unusable record: "
            "currency input should be a valid string (got 978)") in result.err
    assert "Quantity as text (S-qty): plugin 'oddvalues' returned an unusable record: quantity" in result.err
    licences = cli("-c", str(config), "licences", "list", "--json").json
    assert sorted(lic["external_id"] for lic in licences if lic["vendor"] == "oddvalues") == ["S-C1", "S-C2"]
    assert any(lic["vendor"] == "westcoast_stub" for lic in licences)
    runs = {(r["vendor"], r["entity"]): r["status"] for r in cli("-c", str(config), "history", "--json").json}
    assert runs[("oddvalues", "subscriptions")] == "partial"
    assert runs[("westcoast_stub", "subscriptions")] == "ok"


def test_an_exception_inside_a_listing_fails_only_that_customer_naming_the_plugin(
        install_plugin, cli, tmp_path, database_url):
    install_plugin("crashy", PLUGIN.format(mode="listing_crashes", name="crashy"))
    config = two_integrations(tmp_path, database_url, "crashy")
    result = cli("-c", str(config), "run", "--once")
    assert result.code == 1 and "internal error" not in result.err
    history = cli("-c", str(config), "history", "--json").json
    run = next(r for r in history if r["vendor"] == "crashy" and r["entity"] == "subscriptions")
    assert run["status"] == "partial"
    assert run["errors"] == [
        "Odd One (C1): plugin 'crashy' failed in integrator_list_subscriptions: KeyError: 'Quantity'"]
    licences = cli("-c", str(config), "licences", "list", "--json").json
    assert [lic["external_id"] for lic in licences if lic["vendor"] == "crashy"] == ["S-C2"]
    assert any(r["vendor"] == "westcoast_stub" and r["status"] == "ok" for r in history)


def test_an_exception_inside_connect_fails_that_integration_and_the_next_one_runs(
        install_plugin, cli, tmp_path, database_url):
    install_plugin("noconnect", PLUGIN.format(mode="connect_crashes", name="noconnect"))
    config = two_integrations(tmp_path, database_url, "noconnect")
    result = cli("-c", str(config), "run", "--once")
    assert result.code == 1 and "internal error" not in result.err
    assert "hunter2" not in result.err and "tok-s3cret" not in result.err
    history = cli("-c", str(config), "history", "--json").json
    failed = [r for r in history if r["vendor"] == "noconnect"]
    assert failed and all(r["status"] == "failed" for r in failed)
    assert failed[0]["errors"] == ["plugin 'noconnect' failed in integrator_connect: RuntimeError: socket exploded "
                                   "at https://***@api.example/x with ***"]
    assert {r["status"] for r in history if r["vendor"] == "westcoast_stub"} == {"ok"}


def test_a_failing_logout_is_a_warning_and_the_run_is_ok(install_plugin, cli, tmp_path, database_url):
    install_plugin("badclose", PLUGIN.format(mode="close_crashes", name="badclose"))
    config = two_integrations(tmp_path, database_url, "badclose")
    result = cli("-c", str(config), "run", "--once")
    assert result.code == 0, result.err
    assert "plugin 'badclose' failed in Connection.close: OSError: logout failed" in result.err
    assert {r["status"] for r in cli("-c", str(config), "history", "--json").json} == {"ok"}


def test_a_plugin_without_a_deactivate_hook_gets_the_core_default_rule(install_plugin, cli, tmp_path, database_url,
                                                                      monkeypatch):
    install_plugin("nodeact", PLUGIN.format(mode="gone", name="nodeact"))
    config = tmp_path / "integrator.yaml"
    config.write_text(json.dumps({"database": database_url, "integrations": {"nodeact": {
        "mass_deactivation_threshold": 1.0, "integrator": {"enabled": True}}}}))
    assert cli("-c", str(config), "run", "--once").code == 0
    monkeypatch.setenv("ODD_DROP", "1")
    result = cli("-c", str(config), "import", "subscriptions", "nodeact", "--allow-mass-deactivation")
    assert result.code == 0, result.err
    licences = {lic["external_id"]: lic for lic in cli("-c", str(config), "licences", "list", "--json").json}
    assert licences["S-C1"]["quantity"] == 0 and licences["S-C1"]["active"] is True  # deleted, default rule


def _kit_fixtures(vendor: str):  # type: ignore[no-untyped-def]
    from core.host.plugins import VendorFacade, get_plugin_manager

    pm = get_plugin_manager()
    facade = VendorFacade(pm, vendor)
    settings = facade.settings_model().model_validate({})
    connection = facade.connect(settings)
    customers = facade.list_customers(connection).items
    return pm, facade, settings, connection, customers


def test_the_kit_fails_a_plugin_that_returns_odd_records(install_plugin):
    from core.testing import EVERY, VendorPluginContract

    install_plugin("kitodd", PLUGIN.format(mode="odd_values", name="kitodd"))
    pm, _, _, connection, customers = _kit_fixtures("kitodd")
    kit = VendorPluginContract()
    kit.vendor = "kitodd"
    with pytest.raises(AssertionError, match="currency input should be a valid string"):
        kit.test_subscriptions_are_valid_core_records_of_their_customer(pm, connection, customers, EVERY)


def test_the_kit_fails_a_plugin_whose_listing_is_not_thread_safe(install_plugin):
    from core.testing import VendorPluginContract

    install_plugin("kitshared", PLUGIN.format(mode="", name="kitshared").replace(
        "    return Listing(items=subs)",
        "    import time\n    BUFFER.clear()\n    time.sleep(0.01)\n    BUFFER.extend(subs)\n"
        "    time.sleep(0.01)\n    return Listing(items=list(BUFFER))") + "\nBUFFER = []\n")
    pm, _, _, connection, customers = _kit_fixtures("kitshared")
    kit = VendorPluginContract()
    kit.vendor = "kitshared"
    with pytest.raises(AssertionError):
        kit.test_list_subscriptions_is_safe_on_threads_sharing_one_connection(pm, connection, customers)


def test_the_kit_fails_a_plugin_that_shows_a_secret_in_its_settings(install_plugin):
    from core.testing import VendorPluginContract

    install_plugin("kitleak", PLUGIN.format(mode="", name="kitleak").replace(
        'token: SecretStr = SecretStr("tok-s3cret")', 'token: SecretStr = SecretStr("tok-s3cret")\n'
        '    token_copy: str = "tok-s3cret"'))
    pm, _, settings, connection, customers = _kit_fixtures("kitleak")
    kit = VendorPluginContract()
    kit.vendor = "kitleak"
    with pytest.raises(AssertionError, match="a secret setting shows"):
        kit.test_no_secret_in_reprs_or_errors(pm, connection, settings, customers)
