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
connection; ``deactivate`` decides once per licence; no secret shows in a repr or an error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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
    VendorCustomer,
    VendorSubscription,
)

__all__ = ["VendorPluginContract", "call_hook", "secret_values"]


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
    - optionally ``secrets``: further strings that must never appear in a repr or an error.
    """

    vendor: str = ""
    secrets: tuple[str, ...] = ()
    threads: int = 8

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
            customers: list[VendorCustomer]) -> None:
        seen = 0
        for customer in customers:
            listing = self._subscriptions(plugin_manager, connection, customer)
            for sub in listing.items:
                errors = record_errors(sub, VendorSubscription)
                assert not errors, f"subscription {getattr(sub, 'external_id', sub)!r}: {'; '.join(errors)}"
                assert sub.customer_external_id == customer.external_id, (
                    f"{sub.external_id} was listed for {customer.external_id} but names {sub.customer_external_id}")
            ids = [s.external_id for s in listing.items]
            assert len(set(ids)) == len(ids), f"a subscription id is listed twice for {customer.external_id}"
            seen += len(ids)
        assert seen, "the served data should hold at least one subscription"

    def test_a_listing_is_complete_or_raises(self, plugin_manager: pluggy.PluginManager, connection: Connection,
                                             customers: list[VendorCustomer]) -> None:
        customer = max(customers, key=lambda c: len(self._subscriptions(plugin_manager, connection, c).items))
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
