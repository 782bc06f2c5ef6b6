"""Licence terms (billing cycle, commitment, SKU, tenant id): mapped from ALSO, stored, shown, and
their changes recorded in the history."""

from __future__ import annotations

import pytest

from plugins.also import mapping
from plugins.also.sandbox import demo_tenant, subscription


def test_terms_come_from_the_quantity_priceable_item_and_the_tenant_field():
    record = subscription(1, 2, "Microsoft 365 Business Basic", "5", price=5.6, cost=4.9, cycle="Annual",
                          commitment=36)
    sub = mapping.subscription_to_licence(record, "2")
    assert (sub.billing_cycle, sub.commitment_months, sub.sku, sub.tenant_id) == (
        "Annual", 36, "CFQ7TTC0LH18", demo_tenant(2))


def test_tenant_id_may_be_named_tenantid_and_the_sku_may_sit_on_the_subscription():
    record = subscription(1, 2, "Azure plan", None)  # no priceable items
    record["Fields"] = [{"Name": "Quantity", "Value": "1"}, {"Name": "TenantID", "Value": " abc-123 "}]
    record["ProductNumber"] = "DZH318Z0BPS6"
    sub = mapping.subscription_to_licence(record, "2")
    assert (sub.billing_cycle, sub.commitment_months, sub.sku, sub.tenant_id) == (None, None, "DZH318Z0BPS6",
                                                                                  "abc-123")


@pytest.mark.parametrize(("value", "expected"), [(12, 12), ("12", 12), (12.0, 12), (None, None), ("soon", None),
                                                 (1.5, None), (-1, None), (True, None)])
def test_an_unreadable_commitment_is_unknown_not_a_failed_record(value, expected):
    record = subscription(1, 2, "Exchange Online (Plan 1)", "5", price=3.1, cost=2.7)
    record["PriceableItems"][0]["CommitementPeriodInMonths"] = value
    assert mapping.subscription_to_licence(record, "2").commitment_months == expected


def test_terms_are_stored_shown_and_their_changes_recorded(cli, config, sandbox):
    assert cli("import", "customers", "also").code == 0
    assert cli("import", "subscriptions", "also").code == 0
    listed = {lic["external_id"]: lic for lic in cli("licences", "list", "--json").json}
    wingtip = listed["200170"]
    assert (wingtip["billing_cycle"], wingtip["commitment_months"], wingtip["sku"], wingtip["tenant_id"]) == (
        "Annual", 36, "CFQ7TTC0LH9P", demo_tenant(100017))
    azure = listed["200121"]  # ALSO gives no priceable item for it: only the tenant is known
    assert (azure["billing_cycle"], azure["commitment_months"], azure["sku"]) == (None, None, None)

    text = cli("licences", "list", "--customer", "Wingtip Oy").out
    assert "Annual" in text and "36 mo" in text and "CFQ7TTC0LH9P" in text and demo_tenant(100017) in text

    item = sandbox.state.data.subscriptions[100010][0]["PriceableItems"][0]
    item["PriceableItemType"], item["CommitementPeriodInMonths"] = "Annual", 36
    result = cli("import", "subscriptions", "also")
    assert result.code == 0 and "1 updated" in result.out
    history = [(h["external_id"], h["field"], h["old"], h["new"])
               for h in cli("licences", "history", "--customer", "Contoso Ltd", "--json").json]
    assert ("200100", "billing_cycle", "Monthly", "Annual") in history
    assert ("200100", "commitment_months", "12", "36") in history


def test_an_overlong_term_is_unknown_and_never_costs_the_licence_its_update(cli, config, sandbox):
    # Terms are informative: a 65-character SKU made the whole subscription "longer than the PSA keeps",
    # so its quantity change (5 -> 7) was never imported and billing kept charging 5.
    assert cli("import", "customers", "also").code == 0
    assert cli("import", "subscriptions", "also").code == 0
    record = sandbox.state.data.subscriptions[100010][0]
    record["PriceableItems"][0]["ProductNumber"] = "X" * 65
    record["Fields"][1]["Value"] = "7"
    result = cli("import", "subscriptions", "also")
    assert result.code == 0, result.err
    lic = {lic["external_id"]: lic for lic in cli("licences", "list", "--json").json}[str(record["AccountId"])]
    assert (lic["quantity"], lic["sku"]) == (7, None)
