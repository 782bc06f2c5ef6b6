"""The conformance kit for vendor plugins, shipped with the core (needs pytest).

A plugin author subclasses :class:`VendorPluginContract` in a test module, names the vendor and
gives the settings of a working and of a failing connection, typically pointing at a fixture of
their own that serves data (a loopback server, a file, hard-coded records)::

    import pytest
    from core.testing import VendorPluginContract

    class TestAcmeContract(VendorPluginContract):
        vendor = "acme"                                   # the entry-point name

        @pytest.fixture
        def settings(self):                               # a connection that works
            return {"username": "api-user", "password": "sample-password"}

        @pytest.fixture
        def bad_settings(self, settings):                 # one that must fail with a VendorError
            return {**settings, "password": "wrong"}

``pytest`` then checks the whole contract: the plugin loads through its entry point with every
required hook; it returns the core's types with valid values; its errors are typed one-liners;
a listing is complete or raises; ``list_subscriptions`` is safe on many threads sharing one
connection; ``deactivate`` decides once per licence; its invoice lines (``integrator_list_charges``,
when it has that hook) are valid charges; no secret shows in a repr or an error.

With ``customer_ids`` set (the ids of the customers the served data holds) every per-customer check
runs once per customer, the customer in the test id (``test_a_listing_is_complete_or_raises[customer=C-7]``),
as Singer's ``get_tap_test_class`` runs one test per stream: a failure names the customer it failed for.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import pluggy
import pytest
from pydantic import BaseModel

from core.config.settings import VendorSettings
from core.errors import VendorError
from core.host.contract import record_errors, secret_values
from core.host.plugins import VendorFacade, get_plugin_manager, vendor_names
from core.types import (
    Connection,
    Deactivation,
    DeactivationAction,
    Disappearance,
    LicenceGone,
    Listing,
    VendorCharge,
    VendorCustomer,
    VendorSubscription,
)

__all__ = ["EVERY", "VendorPluginContract", "call_hook", "secret_values"]


def call_hook(pm: pluggy.PluginManager, vendor: str, hook: str, **kwargs: Any) -> Any:
    """Call one vendor's hook directly, without the core's checks (to see what the plugin itself returns)."""
    others = [p for name, p in pm.list_name_plugin() if name != vendor and p is not None]
    return pm.subset_hook_caller(hook, remove_plugins=others)(**kwargs)


class VendorPluginContract:
    """The hook contract, as tests. Subclass it (class name starting with ``Test``) and set:

    - ``vendor``: the plugin's entry-point name;
    - fixture ``settings``: the ``integrations.<vendor>`` block (a dict) of a working connection;
    - fixture ``bad_settings``: a block whose connect must raise a ``VendorError``;
    - optionally ``broken_listing(connection, customer)``: a context manager under which the
      vendor fails part-way through that customer's listing (the kit checks the plugin raises
      rather than returning what it had); without it that check is skipped;
    - optionally ``secrets``: further strings that must never appear in a repr or an error;
    - optionally ``customer_ids``: the served customers' ids, for one test per customer;
    - optionally ``charges_month``: (year, month) whose invoice lines the charges checks read
      [default: last month].
    """

    vendor: str = ""
    secrets: tuple[str, ...] = ()
    threads: int = 8
    customer_ids: tuple[str, ...] = ()
    charges_month: tuple[int, int] | None = None

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """One test per customer for the checks that take ``customer_id`` (pytest calls this per class)."""
        if "customer_id" in metafunc.fixturenames:
            ids = list(self.customer_ids) or [EVERY]
            metafunc.parametrize("customer_id", ids, ids=[f"customer={i}" if i != EVERY else i for i in ids])

    # -- the author's part ------------------------------------------------------------------

    @pytest.fixture
    def settings(self) -> dict[str, Any]:
        raise NotImplementedError("override the 'settings' fixture: a working integrations block")

    @pytest.fixture
    def bad_settings(self) -> dict[str, Any]:
        raise NotImplementedError("override the 'bad_settings' fixture: a block whose connect must fail")

    def broken_listing(self, connection: Connection,
                       customer: VendorCustomer) -> contextlib.AbstractContextManager[Any] | None:
        return None

    # -- fixtures the checks share ----------------------------------------------------------

    @pytest.fixture
    def plugin_manager(self) -> pluggy.PluginManager:
        return get_plugin_manager()

    @pytest.fixture
    def facade(self, plugin_manager: pluggy.PluginManager) -> VendorFacade:
        assert self.vendor, "set 'vendor' to the plugin's entry-point name"
        return VendorFacade(plugin_manager, self.vendor)

    @pytest.fixture
    def vendor_settings(self, facade: VendorFacade, settings: dict[str, Any]) -> VendorSettings:
        return facade.settings_model().model_validate(settings)

    @pytest.fixture
    def connection(self, facade: VendorFacade, vendor_settings: VendorSettings) -> Iterator[Connection]:
        connection = facade.connect(vendor_settings)
        yield connection
        connection.close()

    @pytest.fixture
    def customers(self, plugin_manager: pluggy.PluginManager, connection: Connection) -> list[VendorCustomer]:
        listing = call_hook(plugin_manager, self.vendor, "integrator_list_customers", connection=connection)
        assert isinstance(listing, Listing), f"integrator_list_customers returned {type(listing).__name__}"
        return list(listing.items)

    def _chosen(self, customers: list[VendorCustomer], customer_id: str) -> list[VendorCustomer]:
        if customer_id == EVERY:
            return customers
        chosen = [c for c in customers if c.external_id == customer_id]
        assert chosen, f"customer {customer_id!r} (in customer_ids) is not in the plugin's customer listing"
        return chosen

    def _subscriptions(self, pm: pluggy.PluginManager, connection: Connection,
                       customer: VendorCustomer) -> Listing[VendorSubscription]:
        listing = call_hook(pm, self.vendor, "integrator_list_subscriptions", connection=connection,
                            customer=customer)
        assert isinstance(listing, Listing), f"integrator_list_subscriptions returned {type(listing).__name__}"
        return listing

    # -- the checks -------------------------------------------------------------------------

    def test_the_plugin_loads_through_its_entry_point_as_a_vendor(self, plugin_manager: pluggy.PluginManager) -> None:
        assert self.vendor in vendor_names(plugin_manager), (
            f"{self.vendor!r} is not a loaded vendor plugin: is it installed (pip install -e .) with an "
            f"entry point in the 'integrator' group?")

    def test_the_settings_model_is_a_vendor_settings_refusing_unknown_keys(
            self, facade: VendorFacade, settings: dict[str, Any]) -> None:
        model = facade.settings_model()
        assert issubclass(model, VendorSettings)
        with pytest.raises(ValueError, match="no_such_key"):
            model.model_validate({**settings, "no_such_key": 1})

    def test_connect_returns_a_connection_naming_the_account(self, connection: Connection) -> None:
        assert isinstance(connection, Connection) and connection.vendor == self.vendor
        if connection.account is not None:  # optional: an API that cannot say who it is logged in as
            assert record_errors(connection.account, type(connection.account)) == []
            assert connection.account.external_id and connection.account.name

    def test_bad_settings_raise_a_typed_vendor_error_in_one_line(
            self, facade: VendorFacade, bad_settings: dict[str, Any], vendor_settings: VendorSettings) -> None:
        bad = facade.settings_model().model_validate(bad_settings)
        with pytest.raises(VendorError) as info:
            facade.connect(bad)
        message = str(info.value)
        assert message.strip() and "\n" not in message and "Traceback" not in message
        for secret in self._secrets(vendor_settings) + self._secrets(bad):
            assert secret not in message, "the error shows a secret setting"

    def test_customers_are_valid_core_records_with_unique_ids(self, customers: list[VendorCustomer]) -> None:
        assert customers, "the served data should hold at least one customer"
        for customer in customers:
            errors = record_errors(customer, VendorCustomer)
            assert not errors, f"customer {getattr(customer, 'external_id', customer)!r}: {'; '.join(errors)}"
        ids = [c.external_id for c in customers]
        assert len(set(ids)) == len(ids), "a customer id is listed twice"

    def test_subscriptions_are_valid_core_records_of_their_customer(
            self, plugin_manager: pluggy.PluginManager, connection: Connection,
            customers: list[VendorCustomer], customer_id: str) -> None:
        for customer in self._chosen(customers, customer_id):
            listing = self._subscriptions(plugin_manager, connection, customer)
            for sub in listing.items:
                errors = record_errors(sub, VendorSubscription)
                assert not errors, f"subscription {getattr(sub, 'external_id', sub)!r}: {'; '.join(errors)}"
                assert sub.customer_external_id == customer.external_id, (
                    f"{sub.external_id} was listed for {customer.external_id} but names {sub.customer_external_id}")
            ids = [s.external_id for s in listing.items]
            assert len(set(ids)) == len(ids), f"a subscription id is listed twice for {customer.external_id}"

    def test_the_served_data_holds_subscriptions(self, plugin_manager: pluggy.PluginManager,
                                                 connection: Connection, customers: list[VendorCustomer]) -> None:
        assert any(self._subscriptions(plugin_manager, connection, c).items for c in customers), (
            "the served data should hold at least one subscription")

    def test_a_listing_is_complete_or_raises(self, plugin_manager: pluggy.PluginManager, connection: Connection,
                                             customers: list[VendorCustomer], customer_id: str) -> None:
        chosen = self._chosen(customers, customer_id)
        customer = max(chosen, key=lambda c: len(self._subscriptions(plugin_manager, connection, c).items))
        first = self._subscriptions(plugin_manager, connection, customer)
        again = self._subscriptions(plugin_manager, connection, customer)
        assert sorted(s.external_id for s in again.items) == sorted(s.external_id for s in first.items)
        broken = self.broken_listing(connection, customer)
        if broken is None:
            pytest.skip("no broken_listing() given: cannot make the vendor fail part-way")
        with broken, pytest.raises(VendorError):
            self._subscriptions(plugin_manager, connection, customer)

    def test_list_subscriptions_is_safe_on_threads_sharing_one_connection(
            self, plugin_manager: pluggy.PluginManager, connection: Connection,
            customers: list[VendorCustomer]) -> None:
        def ids(customer: VendorCustomer) -> tuple[str, list[str]]:
            listing = self._subscriptions(plugin_manager, connection, customer)
            return customer.external_id, sorted(s.external_id for s in listing.items)

        alone = dict(ids(c) for c in customers)
        work = [c for c in customers for _ in range(4)]
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            together = list(pool.map(ids, work))
        assert all(found == alone[customer] for customer, found in together)

    def test_deactivate_gives_one_decision_per_licence(self, facade: VendorFacade,
                                                       vendor_settings: VendorSettings) -> None:
        gone = [LicenceGone("t-1", "terminated one", Disappearance.TERMINATED),
                LicenceGone("d-1", "deleted one", Disappearance.DELETED),
                LicenceGone("t-2", "terminated two", Disappearance.TERMINATED)]
        decisions = facade.deactivate(gone, vendor_settings)
        assert sorted(d.external_id for d in decisions) == ["d-1", "t-1", "t-2"]
        assert all(isinstance(d, Deactivation) and isinstance(d.action, DeactivationAction) for d in decisions)
        actions = {d.external_id: d.action for d in decisions}
        assert actions["t-1"] is DeactivationAction.DEACTIVATE, "a licence terminated upstream becomes inactive"

    # -- the charges suite (integrator_list_charges: the vendor's invoice lines) -------------------

    def _charges(self, facade: VendorFacade, pm: pluggy.PluginManager, connection: Connection) -> Listing[Any]:
        if not facade.implements("integrator_list_charges"):
            pytest.skip(f"{self.vendor} has no integrator_list_charges: billing reconcile says 'no invoice data'")
        year, month = self.charges_month or _last_month()
        listing = call_hook(pm, self.vendor, "integrator_list_charges", connection=connection, year=year,
                            month=month)
        assert isinstance(listing, Listing), f"integrator_list_charges returned {type(listing).__name__}"
        return listing

    def test_charges_are_valid_core_records(self, facade: VendorFacade, plugin_manager: pluggy.PluginManager,
                                            connection: Connection) -> None:
        listing = self._charges(facade, plugin_manager, connection)
        for charge in listing.items:
            errors = record_errors(charge, VendorCharge)
            assert not errors, f"charge {getattr(charge, 'subscription_external_id', charge)!r}: {'; '.join(errors)}"
            assert charge.start <= charge.end, f"charge {charge.subscription_external_id}: ends before it starts"
        for problem in listing.problems:
            assert problem.describe().strip() and "\n" not in problem.describe()

    def test_charges_are_the_same_when_asked_twice(self, facade: VendorFacade, plugin_manager: pluggy.PluginManager,
                                                   connection: Connection) -> None:
        def key(listing: Listing[Any]) -> list[tuple[Any, ...]]:
            return sorted((c.subscription_external_id, c.start, c.end, c.units, c.cost) for c in listing.items)

        assert key(self._charges(facade, plugin_manager, connection)) == key(
            self._charges(facade, plugin_manager, connection)), "a month's invoice lines changed between two reads"

    def test_no_secret_in_reprs_or_errors(self, plugin_manager: pluggy.PluginManager, connection: Connection,
                                          vendor_settings: VendorSettings, customers: list[VendorCustomer]) -> None:
        secrets = self._secrets(vendor_settings)
        shown = [repr(vendor_settings), str(vendor_settings), repr(connection), repr(connection.client),
                 repr(customers)]
        if customers:
            listing = self._subscriptions(plugin_manager, connection, customers[0])
            shown += [repr(listing)] + [p.describe() for p in listing.problems]
        for text in shown:
            for secret in secrets:
                assert secret not in text, f"a secret setting shows in {text[:80]!r}..."

    def _secrets(self, settings: BaseModel) -> list[str]:
        return [s for s in secret_values(settings) + list(self.secrets) if len(s) >= 4]


EVERY = "every-customer"


def _last_month(today: date | None = None) -> tuple[int, int]:
    today = today or datetime.now(UTC).date()
    return (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
