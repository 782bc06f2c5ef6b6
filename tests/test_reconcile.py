"""The planners are pure: records in, plan out, no HTTP and no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.planning.customers import CustomerRow, MappingRow, plan_customer_import
from core.planning.licences import LicenceRow, plan_deleted, plan_listed
from core.types import Address, DeactivationAction, VendorCustomer, VendorSubscription

COMPANY = VendorCustomer("10", "Contoso Ltd", True, "Active", Address("1 Road", "Leeds", "LS1", "UK"),
                         contract_end_date=date(2030, 1, 1))


def sub(ext, qty=1, terminated=False, **kw):
    return VendorSubscription(ext, "10", f"Sub {ext}", "Terminated" if terminated else "Active", terminated, qty, **kw)


def row(ext, qty=1, active=True, **kw):
    return LicenceRow(id=int(ext), external_id=ext, vendor_customer_id="10", customer_id=1, name=f"Sub {ext}",
                      status="Active", active=active, quantity=qty, end_date=date(2030, 1, 1), **kw)


def test_customer_plan_kinds():
    companies = [COMPANY, VendorCustomer("11", "New Co", True, "Active"),
                 VendorCustomer("12", "Gone Co", False, "Terminated"),
                 VendorCustomer("13", "Mapped Co", True, "Active")]
    customers = [CustomerRow(1, "Contoso Ltd", None), CustomerRow(2, "Mapped (PSA name)", None)]
    plan = plan_customer_import(companies, customers, [MappingRow("13", "Mapped Co", 2)],
                                update_main_site_address=False)
    assert [(a.company.external_id, a.kind) for a in plan.actions] == [
        ("10", "map"), ("11", "create"), ("12", "skip"), ("13", "unchanged")]


def test_a_customer_already_mapped_to_another_company_is_not_auto_mapped_again():
    plan = plan_customer_import([COMPANY], [CustomerRow(1, "Contoso Ltd", None)], [MappingRow("99", "x", 1)],
                                update_main_site_address=False)
    assert plan.actions[0].kind == "skip" and "already mapped to company 99" in plan.actions[0].reason


def test_licence_plan_create_update_and_unchanged():
    current = [row("1", qty=5), row("2", qty=3)]
    plan = plan_listed(COMPANY, 1, [sub("1", 5), sub("2", 4), sub("3", 2)], current, {}, set_price_and_cost=False)
    assert [c.external_id for c in plan.creates] == ["3"]
    assert [(c.external_id, c.changes) for c in plan.updates] == [("2", {"quantity": (3, 4)})]
    assert plan.unchanged == 1


def test_prices_are_untouched_when_the_setting_is_off():
    current = [row("1", price=Decimal("3.1"), cost=Decimal("2.7"), currency="EUR")]
    plan = plan_listed(COMPANY, 1, [sub("1", price=Decimal("9"), cost=Decimal("8"), currency="USD")], current, {},
                       set_price_and_cost=False)
    assert plan.updates == [] and plan.unchanged == 1


def test_terminated_upstream_and_gone_from_the_listing_are_both_deactivated():
    """As a run plans them: the listing's part (a terminated record), then the licences the run found
    missing from every listing (the deletion candidates, unreadable records never among them)."""
    current = [row("1"), row("2"), row("3")]
    decisions = {k: DeactivationAction.DEACTIVATE for k in "123"}
    listed = plan_listed(COMPANY, 1, [sub("1", terminated=True)], current, decisions, set_price_and_cost=False)
    assert [(c.external_id, c.reason) for c in listed.deactivations] == [("1", "terminated")]
    gone = plan_deleted(COMPANY, current, {"2"}, decisions, listed_count=1, unreadable={"3"}, mass_threshold=1.0)
    assert [(c.external_id, c.reason) for c in gone.deactivations] == [("2", "deleted")]


def test_deletions_follow_the_decisions_and_the_guard():
    current = [row("1"), row("2"), row("3"), row("4")]
    plan = plan_deleted(COMPANY, current, {"4"}, {"4": DeactivationAction.ZERO_QUANTITY}, listed_count=3)
    assert [(c.external_id, c.changes) for c in plan.deactivations] == [("4", {"quantity": (1, 0)})]
    everything = {k: DeactivationAction.DEACTIVATE for k in "1234"}
    plan = plan_deleted(COMPANY, current, set("1234"), everything, listed_count=0)
    assert plan.deactivations == [] and len(plan.held_back) == 4 and "came back empty" in plan.guard_reason
    plan = plan_deleted(COMPANY, current, set("1234"), everything, listed_count=0, allow_mass_deactivation=True)
    assert len(plan.deactivations) == 4 and plan.held_back == []


def test_a_duplicate_subscription_id_is_used_once_and_reported():
    plan = plan_listed(COMPANY, 1, [sub("1", 2), sub("1", 9)], [], {}, set_price_and_cost=False)
    assert len(plan.creates) == 1 and plan.creates[0].values["quantity"] == 2
    assert plan.problems == ["Sub 1 (1): listed twice; the first is used"]


def test_a_company_whose_name_is_only_white_space_is_reported_not_imported() -> None:
    from core.planning.customers import screen_companies

    # Normalising strips "   " to "": without this check a plugin's blank name created a customer named "".
    blank = VendorCustomer(external_id="7", name=" \u00a0 ", active=True, state="Active")
    kept, problems = screen_companies([blank, VendorCustomer(external_id="8", name="Fine Ltd", active=True,
                                                             state="Active")])
    assert [c.name for c in kept] == ["Fine Ltd"]
    assert [(p.external_id, "empty" in p.message) for p in problems] == [("7", True)]
