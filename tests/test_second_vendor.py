"""What the core assumed about its first vendor, made generic for a second one (issue 23): no vendor
names in the core, UUID ids, connections that cannot name an account, subscriptions pending
activation, a region in addresses, one `sandbox` command serving any plugin's sandbox."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.errors import PluginError
from core.host.contract import checked_connection
from core.planning.customers import CustomerRow, plan_customer_import
from core.planning.licences import LicenceRow, plan_listed
from core.sync.connection import connected_line
from core.types import Address, Connection, VendorAccount, VendorCustomer, VendorSubscription

ROOT = Path(__file__).resolve().parent.parent
VENDOR_WORDS = re.compile(r"\bALSO\b|[\"']also[\"']|plugins\.also|westcoast|[Pp]ax8|\be\.g\. also\b")
UUID = "0b6d7c35-4a3e-4f55-9a70-3c1e2d4b5a60"


def test_the_core_names_no_vendor():
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path in sorted((ROOT / "core").rglob("*")) if path.suffix in (".py", ".html", ".txt", ".toml")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if VENDOR_WORDS.search(line)]
    assert found == []


def test_a_connection_may_name_no_account_and_then_says_how_many_companies():
    connection = checked_connection("acme", Connection(vendor="acme", title="Acme", account=None))
    assert connection.account is None
    assert connected_line("Acme", None, 12, 0) == "Connected to Acme: 12 companies"
    assert connected_line("Acme", VendorAccount("1", "Me"), 3, 1) == \
        "Connected to Acme as Me (account 1): 3 customers (1 unreadable)"
    with pytest.raises(PluginError, match="VendorAccount"):
        checked_connection("acme", Connection(vendor="acme", title="Acme", account="me"))  # type: ignore[arg-type]


def test_uuid_ids_and_a_region_go_through_the_customer_planner():
    company = VendorCustomer(UUID, "Contoso Dental", True, "Active",
                             Address("100 Main St", "Denver", "80202", "US", region="Colorado"))
    plan = plan_customer_import([company, VendorCustomer("1" + UUID[1:], "Old", False, "Deleted")],
                                [CustomerRow(1, "Other", None)], [], update_main_site_address=False)
    assert sorted((a.company.external_id, a.kind) for a in plan.actions) == [(UUID, "create"),
                                                                              ("1" + UUID[1:], "skip")]
    assert not Address(region="Ontario").is_empty()


COMPANY = VendorCustomer(UUID, "Contoso Dental", True, "Active")


def _sub(status: str, pending: bool) -> VendorSubscription:
    return VendorSubscription("s-1", UUID, "Defender", status, False, 5, pending_activation=pending)


def _row(active: bool) -> LicenceRow:
    return LicenceRow(id=1, external_id="s-1", vendor_customer_id=UUID, customer_id=1, name="Defender",
                      status="PendingManual", active=active, quantity=5)


def _plan(sub: VendorSubscription, rows: list[LicenceRow]):  # type: ignore[no-untyped-def]
    return plan_listed(COMPANY, 1, [sub], rows, {}, set_price_and_cost=False)


def test_a_subscription_pending_activation_is_created_inactive_and_activated_when_live():
    created = _plan(_sub("PendingManual", True), []).creates[0]
    assert created.values["active"] is False and created.values["status"] == "PendingManual"
    live = _plan(_sub("Active", False), [_row(active=False)]).updates[0]
    assert live.changes["active"] == (False, True) and live.values["status"] == "Active"


def test_a_live_licence_whose_change_is_provisioning_stays_active():
    plan = _plan(_sub("PendingAutomated", True), [_row(active=True)])
    assert not plan.deactivations and all(c.values["active"] for c in plan.updates)


def test_the_pending_flag_defaults_to_false_for_plugins_written_before_it():
    sub = VendorSubscription("x", "y", "n", "Active", False, 1, None, None, "EUR")  # positional order kept
    assert sub.pending_activation is False and sub.currency == "EUR"
