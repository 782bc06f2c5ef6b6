"""Every built-in vendor plugin passes the shipped conformance kit (``core.testing``), exactly as a
third-party plugin's own tests use it; so does the external test plugin.

Only the plugins this distribution ships must have a setup here: a third-party plugin installed
beside the core brings its own tests and never breaks this suite.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from core.errors import VendorUnreachableError
from core.testing import VendorPluginContract
from core.types import Connection, VendorCustomer
from plugins.also import sandbox as sb
from plugins.pax8.sandbox_data import demo_data as pax8_demo_data

ROOT = Path(__file__).resolve().parent.parent


class TestAlsoContract(VendorPluginContract):
    vendor = "also"
    customer_ids = tuple(str(c["AccountId"]) for c in sb.demo_data().companies)

    @pytest.fixture
    def settings(self, sandbox: sb.SandboxServer) -> dict[str, Any]:
        self.server = sandbox
        return {"url": sandbox.url, "username": sb.DEFAULT_USERNAME, "password": sb.DEFAULT_PASSWORD, "retries": 1,
                "backoff_seconds": 0.01}

    @pytest.fixture
    def bad_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {**settings, "password": "wrong-password"}

    def broken_listing(self, connection: Connection,
                       customer: VendorCustomer) -> contextlib.AbstractContextManager[Any]:
        @contextlib.contextmanager
        def broken() -> Iterator[None]:
            rule = self.server.inject(operation="GetSubscriptions", kind="malformed", times=-1,
                                      account_id=int(customer.external_id))
            try:
                yield
            finally:
                with self.server.state.lock:
                    self.server.state.faults.remove(rule)
        return broken()


class TestPax8Contract(VendorPluginContract):
    vendor = "pax8"
    customer_ids = tuple(c["id"] for c in pax8_demo_data().companies)

    @pytest.fixture
    def settings(self) -> Iterator[dict[str, Any]]:
        from plugins.pax8 import sandbox as pax8_sandbox

        self.pax8 = pax8_sandbox.SandboxServer(pax8_sandbox.make_state(), "127.0.0.1", 0).start()
        yield {"url": self.pax8.url, "client_id": pax8_sandbox.DEFAULT_CLIENT_ID,
               "client_secret": pax8_sandbox.DEFAULT_CLIENT_SECRET, "retries": 1, "backoff_seconds": 0.01,
               "requests_per_minute": 100_000}
        self.pax8.stop()

    @pytest.fixture
    def bad_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {**settings, "client_secret": "wrong-secret"}

    def broken_listing(self, connection: Connection,
                       customer: VendorCustomer) -> contextlib.AbstractContextManager[Any]:
        @contextlib.contextmanager
        def broken() -> Iterator[None]:  # the company's first page answers, the next fails: never half a list
            subs = self.pax8.state.data.by_company.get(customer.external_id)
            if subs:  # several pages of them (the same records again: only the paging matters here)
                self.pax8.state.data.by_company[customer.external_id] = subs * (1 + 400 // len(subs))
            rule = self.pax8.fault("/subscriptions", status=500, times=-1, company=customer.external_id,
                                   page=1 if subs else None)
            try:
                yield
            finally:
                with self.pax8.state.lock:
                    self.pax8.state.faults.remove(rule)
                self.pax8.state.data.reindex()
        return broken()


class TestWestcoastContract(VendorPluginContract):
    vendor = "westcoast_stub"
    customer_ids = ("WC-100", "WC-101")

    @pytest.fixture
    def settings(self) -> dict[str, Any]:
        return {"file": str(ROOT / "config" / "westcoast-export.example.json")}

    @pytest.fixture
    def bad_settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"file": str(tmp_path / "none.json")}

    def broken_listing(self, connection: Connection,
                       customer: VendorCustomer) -> contextlib.AbstractContextManager[Any]:
        """The export's subscriptions cannot be read past the first record (a file cut short)."""
        @contextlib.contextmanager
        def broken() -> Iterator[None]:
            records = connection.client["subscriptions"]

            def cut_short() -> Iterator[Any]:
                yield records[0]
                raise VendorUnreachableError("cannot read the Westcoast export file past its first subscription")

            class CutShort(list):  # type: ignore[type-arg]
                def __iter__(self) -> Iterator[Any]:
                    return cut_short()

            connection.client["subscriptions"] = CutShort(records)
            try:
                yield
            finally:
                connection.client["subscriptions"] = records
        return broken()


class TestExternalPluginContract(VendorPluginContract):
    vendor = "acme_cloud"
    secrets = ("good-key",)

    @pytest.fixture
    def plugin_manager(self, external_plugin: Path) -> Any:
        from core.host.plugins import get_plugin_manager

        return get_plugin_manager()

    @pytest.fixture
    def settings(self) -> dict[str, Any]:
        return {"api_key": "good-key"}

    @pytest.fixture
    def bad_settings(self) -> dict[str, Any]:
        return {"api_key": "bad-key"}


CONTRACTS = [TestAlsoContract, TestPax8Contract, TestWestcoastContract]


def test_every_builtin_vendor_plugin_passes_the_conformance_kit():
    builtin = {ep.name for ep in entry_points(group="integrator")
               if ep.dist is not None and ep.dist.name == "psa-integrator"}
    assert builtin == {"also", "pax8", "westcoast_stub"}
    assert builtin <= {c.vendor for c in CONTRACTS}


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.vendor)
def test_every_shipped_plugin_is_checked_per_customer_and_for_a_broken_listing(contract):
    """No shipped plugin skips "a listing is complete or raises", and each names its customers."""
    assert contract.broken_listing is not VendorPluginContract.broken_listing
    assert contract.customer_ids


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
    assert result.code == 2 and "integrations.acme_cloud.apikey: unknown key" in result.err


def test_the_core_names_no_vendor_outside_documentation():
    offenders = []
    for path in (ROOT / "core").rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if ("plugins.also" in code or "plugins.westcoast" in code or "\"also\"" in code
                    or "'also'" in code or "westcoast" in code.lower()) and '"""' not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
