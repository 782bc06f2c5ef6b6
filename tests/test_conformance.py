"""One conformance suite for every vendor plugin (as the Singer SDK's standard tap tests are).

Every loaded vendor must have a setup here: a new plugin without one fails
``test_every_vendor_plugin_has_a_conformance_setup``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.errors import VendorError
from core.plugins import VendorFacade, get_plugin_manager, vendor_names
from core.types import (
    Connection,
    Deactivation,
    DeactivationAction,
    Disappearance,
    LicenceGone,
    Listing,
    VendorCustomer,
    VendorSubscription,
)
from plugins.also import sandbox as sb

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Setup:
    good: dict[str, Any]
    bad: dict[str, Any]  # settings that must fail to connect with a typed VendorError


def also_setup(server: sb.SandboxServer, tmp: Path) -> Setup:
    good = {"url": server.url, "username": sb.DEFAULT_USERNAME, "password": sb.DEFAULT_PASSWORD, "retries": 1,
            "backoff_seconds": 0.01}
    return Setup(good, {**good, "password": "wrong"})


def westcoast_setup(server: sb.SandboxServer, tmp: Path) -> Setup:
    return Setup({"file": str(ROOT / "config" / "westcoast-export.example.json")}, {"file": str(tmp / "none.json")})


def acme_setup(server: sb.SandboxServer, tmp: Path) -> Setup:
    return Setup({"api_key": "good-key"}, {"api_key": "bad-key"})


SETUPS: dict[str, Callable[[sb.SandboxServer, Path], Setup]] = {
    "also": also_setup,
    "westcoast_stub": westcoast_setup,
    "acme_cloud": acme_setup,
}
VENDORS = sorted(SETUPS)


@pytest.fixture
def facade_for(external_plugin, sandbox, tmp_path):
    pm = get_plugin_manager()

    def make(vendor: str) -> tuple[VendorFacade, Setup]:
        facade = VendorFacade(pm, vendor)
        return facade, SETUPS[vendor](sandbox, tmp_path)

    return make


def test_every_vendor_plugin_has_a_conformance_setup(external_plugin):
    assert set(vendor_names(get_plugin_manager())) <= set(SETUPS)


@pytest.mark.parametrize("vendor", VENDORS)
def test_connect_returns_a_connection_naming_the_account(facade_for, vendor):
    facade, setup = facade_for(vendor)
    connection = facade.connect(facade.settings_model().model_validate(setup.good))
    assert isinstance(connection, Connection) and connection.vendor == vendor
    assert connection.account.external_id and connection.account.name
    connection.close()


@pytest.mark.parametrize("vendor", VENDORS)
def test_bad_settings_raise_a_typed_error_with_a_message(facade_for, vendor):
    facade, setup = facade_for(vendor)
    with pytest.raises(VendorError) as info:
        facade.connect(facade.settings_model().model_validate(setup.bad))
    assert str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("vendor", VENDORS)
def test_listings_return_core_types(facade_for, vendor):
    facade, setup = facade_for(vendor)
    connection = facade.connect(facade.settings_model().model_validate(setup.good))
    customers = facade.list_customers(connection)
    assert isinstance(customers, Listing) and customers.items
    assert all(isinstance(c, VendorCustomer) and isinstance(c.external_id, str) for c in customers.items)
    assert len({c.external_id for c in customers.items}) == len(customers.items)
    seen = 0
    for customer in customers.items:
        subs = facade.list_subscriptions(connection, customer)
        assert isinstance(subs, Listing)
        for sub in subs.items:
            assert isinstance(sub, VendorSubscription)
            assert sub.customer_external_id == customer.external_id
            assert isinstance(sub.external_id, str) and sub.name
            assert sub.quantity is None or (isinstance(sub.quantity, int) and sub.quantity >= 0)
            seen += 1
    assert seen > 0
    connection.close()


@pytest.mark.parametrize("vendor", VENDORS)
def test_deactivate_decides_once_per_licence(facade_for, vendor):
    facade, setup = facade_for(vendor)
    settings = facade.settings_model().model_validate(setup.good)
    gone = [LicenceGone("1", "a", Disappearance.TERMINATED), LicenceGone("2", "b", Disappearance.DELETED)]
    decisions = facade.deactivate(gone, settings)
    assert [d.external_id for d in decisions] == ["1", "2"]
    assert all(isinstance(d, Deactivation) and isinstance(d.action, DeactivationAction) for d in decisions)
    assert decisions[0].action is DeactivationAction.DEACTIVATE  # terminated upstream: inactive, always


def test_the_external_plugin_is_discovered_listed_configured_and_synced(external_plugin, cli, tmp_path, monkeypatch,
                                                                       database_url):
    assert "acme_cloud" in [p["name"] for p in cli("plugins", "--json").json]
    listed = {p["name"]: p for p in cli("plugins", "--json").json}["acme_cloud"]
    assert listed["version"] == "0.3.0" and listed["module"] == "acme_cloud_plugin"
    config = tmp_path / "acme.yaml"
    config.write_text(json.dumps({"database": database_url, "integrations": {"acme_cloud": {
        "api_key": "${ACME_KEY}", "top_level_for_new_customers": "Acme",
        "integrator": {"enabled": True}}}}))
    monkeypatch.setenv("ACME_KEY", "good-key")
    result = cli("-c", str(config), "run", "--once")
    assert result.code == 1  # one unreadable record is reported: partial
    assert "Acme Cloud Customer Two (A-2): Broken (S-9): no quantity" in result.err
    licences = cli("-c", str(config), "licences", "list", "--json").json
    assert {(lic["customer"], lic["vendor"], lic["quantity"]) for lic in licences} == {
        ("Acme Cloud Customer One", "acme_cloud", 3), ("Acme Cloud Customer Two", "acme_cloud", 20)}
    customers = cli("-c", str(config), "customers", "list", "--json").json
    assert {c["top_level"] for c in customers} == {"Acme"}
    result = cli("-c", str(config), "test-connection", "acme_cloud")
    assert result.out.strip() == "Connected to Acme Cloud as Acme Reseller (account ACME): 2 customers"


def test_an_unknown_setting_of_the_external_plugin_is_refused(external_plugin, cli, tmp_path):
    config = tmp_path / "acme.yaml"
    config.write_text(json.dumps({"integrations": {"acme_cloud": {"api_key": "k", "apikey": "typo"}}}))
    result = cli("-c", str(config), "customers", "list")
    assert result.code == 1 and "integrations.acme_cloud.apikey: unknown key" in result.err


def test_the_core_names_no_vendor_outside_documentation():
    offenders = []
    for path in (ROOT / "core").rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if ("plugins.also" in code or "plugins.westcoast" in code or "\"also\"" in code
                    or "'also'" in code or "westcoast" in code.lower()) and '"""' not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
