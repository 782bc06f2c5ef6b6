"""Subscription import and the licence lifecycle, on the sandbox over HTTP."""

from __future__ import annotations

import pytest

from plugins.also.sandbox import demo_tenant, subscription


@pytest.fixture
def imported(cli, config):
    assert cli("import", "customers", "also").code == 0
    return cli


def licences(cli, customer=None):
    args = ["licences", "list", "--json"] + (["--customer", customer] if customer else [])
    return {lic["external_id"]: lic for lic in cli(*args).json}


def subs_of(sandbox, company_id):
    return sandbox.state.data.subscriptions[company_id]


def find(sandbox, company_id, sub_id):
    return next(s for s in subs_of(sandbox, company_id) if s["AccountId"] == sub_id)


def test_licences_carry_name_status_quantity_and_dates(imported):
    assert imported("import", "subscriptions", "also").code == 0
    lic = licences(imported)["200100"]
    assert lic == {"customer": "Contoso Ltd", "vendor": "also", "external_id": "200100",
                   "name": "Exchange Online (Plan 1)", "status": "Active", "active": True, "quantity": 5,
                   "price": None, "cost": None, "currency": None, "start_date": "2020-01-10",
                   "end_date": "2025-01-09", "billing_cycle": "Monthly", "commitment_months": 12,
                   "sku": "CFQ7TTC0LH16", "tenant_id": demo_tenant(100010)}


def test_string_and_numeric_quantities(imported):
    imported("import", "subscriptions", "also")
    all_licences = licences(imported)
    assert all_licences["200100"]["quantity"] == 5  # "5"
    assert all_licences["200101"]["quantity"] == 25  # 25
    assert all_licences["200111"]["quantity"] == 12  # 12.0


def test_each_end_date_fallback(imported):
    imported("import", "subscriptions", "also")
    all_licences = licences(imported)
    assert all_licences["200101"]["end_date"] == "2026-06-30"  # ScheduledTerminationDate
    assert all_licences["200100"]["end_date"] == "2025-01-09"  # ContractEndDate
    assert all_licences["200120"]["end_date"] == "2027-03-31"  # the company's CompanyContractEndDate
    assert all_licences["200111"]["end_date"] is None  # none of them


def test_price_and_cost_only_with_the_setting_and_never_touched_without(imported, write_config, sandbox):
    write_config(set_price_and_cost=True)
    imported("import", "subscriptions", "also")
    lic = licences(imported)["200150"]
    assert (lic["price"], lic["cost"], lic["currency"]) == ("19.70", "17.50", "USD")

    find(sandbox, 100015, 200150)["PriceableItems"][0]["SalesPrice"] = 21.0
    imported("import", "subscriptions", "also")
    assert licences(imported)["200150"]["price"] == "21.00"  # refreshed on every run

    write_config(set_price_and_cost=False)
    find(sandbox, 100015, 200150)["PriceableItems"][0]["SalesPrice"] = 99.0
    imported("import", "subscriptions", "also")
    assert licences(imported)["200150"]["price"] == "21.00"  # left as it was


def test_a_price_with_more_decimals_than_the_psa_keeps_is_not_an_update_on_every_run(imported, write_config,
                                                                                    sandbox):
    # The licence row keeps 4 decimals; a vendor price of 19.123456 was stored as 19.1235 and then "changed"
    # back to 19.123456 by every later sync: an update and a history row each night, with no upstream change.
    write_config(set_price_and_cost=True)
    find(sandbox, 100015, 200150)["PriceableItems"][0]["SalesPrice"] = 19.123456
    find(sandbox, 100015, 200150)["PriceableItems"][0]["PurchasePrice"] = "17.00005"
    assert imported("import", "subscriptions", "also").code == 0
    again = imported("import", "subscriptions", "also")
    assert again.code == 0 and "0 updated" in again.out, again.out
    assert (licences(imported)["200150"]["price"], licences(imported)["200150"]["cost"]) == ("19.1235", "17.0001")
    assert [h["field"] for h in imported("licences", "history", "--json").json if h["external_id"] == "200150"] \
        == ["created"]


@pytest.mark.parametrize("price", ["1e12", "1e30", "-1e11"])
def test_a_price_the_psa_cannot_keep_is_reported_and_the_rest_imported(imported, write_config, sandbox, price):
    # licences.price is Numeric(14, 4): on PostgreSQL one such price was "numeric field overflow" and the
    # whole run failed with nothing imported.
    write_config(set_price_and_cost=True)
    find(sandbox, 100015, 200150)["PriceableItems"][0]["SalesPrice"] = price
    result = imported("import", "subscriptions", "also")
    assert result.code == 1, result.err
    assert "(200150): the price" in result.err and "larger than the PSA keeps" in result.err
    held = licences(imported)
    assert "200150" not in held and len(held) == 15


def test_terminated_upstream_becomes_inactive_whatever_the_settings(imported, sandbox):
    imported("import", "subscriptions", "also")
    find(sandbox, 100010, 200100)["AccountState"] = "Terminated"
    result = imported("import", "subscriptions", "also")
    assert "deactivate" in result.out and "Exchange Online (Plan 1) (200100) [terminated upstream]" in result.out
    lic = licences(imported)["200100"]
    assert (lic["status"], lic["active"]) == ("Terminated", False)


def test_a_terminated_subscription_never_seen_before_is_imported_inactive(imported, sandbox):
    # Its live period may still need billing, and every subscription's name, status and quantity are imported.
    record = find(sandbox, 100010, 200102)
    result = imported("import", "subscriptions", "also")
    assert result.code == 0
    lic = licences(imported)["200102"]
    assert (lic["status"], lic["active"], lic["name"]) == ("Terminated", False, record["ServiceDisplayName"])
    history = imported("licences", "history", "--customer", "Contoso Ltd", "--json").json
    assert [h["field"] for h in history if h["external_id"] == "200102"] == ["created"]
    assert "0 created" in imported("import", "subscriptions", "also").out  # and it stays as it is


def test_deleted_upstream_with_the_setting_off_zeroes_the_quantity_only(imported, sandbox):
    imported("import", "subscriptions", "also")
    subs_of(sandbox, 100010).remove(find(sandbox, 100010, 200101))
    assert imported("import", "subscriptions", "also").code == 0
    lic = licences(imported)["200101"]
    assert (lic["quantity"], lic["status"], lic["active"]) == (0, "Active", True)


def test_deleted_upstream_with_the_setting_on_becomes_inactive(imported, write_config, sandbox):
    write_config(deactivate_deleted_licences=True)
    imported("import", "subscriptions", "also")
    subs_of(sandbox, 100010).remove(find(sandbox, 100010, 200101))
    imported("import", "subscriptions", "also")
    lic = licences(imported)["200101"]
    assert (lic["quantity"], lic["active"]) == (25, False)


def test_a_licence_that_comes_back_is_active_again_with_its_new_values(imported, write_config, sandbox):
    write_config(deactivate_deleted_licences=True)
    imported("import", "subscriptions", "also")
    record = find(sandbox, 100010, 200101)
    subs_of(sandbox, 100010).remove(record)
    imported("import", "subscriptions", "also")
    record["Fields"][1]["Value"] = "30"
    subs_of(sandbox, 100010).append(record)
    imported("import", "subscriptions", "also")
    lic = licences(imported)["200101"]
    assert (lic["quantity"], lic["active"]) == (30, True)


def test_an_empty_listing_is_held_back_until_overridden(imported, sandbox):
    imported("import", "subscriptions", "also")
    sandbox.state.data.subscriptions[100010] = []
    result = imported("import", "subscriptions", "also")
    assert result.code == 1
    assert ("Contoso Ltd (100010): held back 2 deactivations: the listing came back empty but 2 active "
            "licences were held") in result.err
    assert "hold back Contoso Ltd: Exchange Online (Plan 1) (200100)" in result.out
    assert licences(imported, "Contoso Ltd")["200100"]["quantity"] == 5
    run = imported("history", "--json").json[0]
    assert run["status"] == "partial" and run["held_back"] == 2 and run["deactivated"] == 0

    result = imported("import", "subscriptions", "also", "--allow-mass-deactivation")
    assert result.code == 0
    assert {lic["quantity"] for lic in licences(imported, "Contoso Ltd").values() if lic["active"]} == {0}


def test_the_guard_trips_above_the_configured_share(imported, write_config, sandbox):
    subs_of(sandbox, 100012).append(subscription(200122, 100012, "Visio Plan 2", "3"))
    imported("import", "subscriptions", "also")
    # Müller has 3 licences, 2 of them with seats (Azure plan has none): deleting 2 of 3 trips 50%.
    del subs_of(sandbox, 100012)[0]
    subs_of(sandbox, 100012).pop()
    result = imported("import", "subscriptions", "also")
    assert result.code == 1 and "more than 50%" in result.err
    write_config(mass_deactivation_threshold=1.0)
    assert imported("import", "subscriptions", "also").code == 0
    assert licences(imported, "Müller & Söhne GmbH")["200120"]["quantity"] == 0


def test_the_listing_recovering_clears_the_guard(imported, sandbox):
    imported("import", "subscriptions", "also")
    saved = sandbox.state.data.subscriptions[100010]
    sandbox.state.data.subscriptions[100010] = []
    assert imported("import", "subscriptions", "also").code == 1
    sandbox.state.data.subscriptions[100010] = saved
    assert imported("import", "subscriptions", "also").code == 0
    assert licences(imported, "Contoso Ltd")["200100"]["quantity"] == 5


def test_a_failing_customer_is_left_exactly_as_it_was_and_the_others_are_imported(imported, sandbox, tmp_path):
    imported("import", "subscriptions", "also")
    find(sandbox, 100011, 200110)["Fields"][1]["Value"] = "99"
    find(sandbox, 100010, 200100)["Fields"][1]["Value"] = "6"
    sandbox.inject(operation="GetSubscriptions", account_id=100011, status=500, times=-1,
                   message="Subscription service timeout")
    result = imported("import", "subscriptions", "also")
    assert result.code == 1
    assert "Fabrikam GmbH (100011): GetSubscriptions failed: Subscription service timeout" in result.err
    assert licences(imported, "Fabrikam GmbH")["200110"]["quantity"] == 12
    assert licences(imported, "Contoso Ltd")["200100"]["quantity"] == 6
    run = imported("history", "--json").json[0]
    assert run["status"] == "partial"
    assert run["errors"] == ["Fabrikam GmbH (100011): GetSubscriptions failed: Subscription service timeout"]


def test_an_unreadable_record_is_reported_and_its_licence_is_not_deleted(imported, sandbox):
    imported("import", "subscriptions", "also")
    find(sandbox, 100010, 200100)["Fields"][1]["Value"] = "five"
    result = imported("import", "subscriptions", "also")
    assert result.code == 1
    assert "Contoso Ltd (100010): Exchange Online (Plan 1) (200100): Quantity is not a number: 'five'" in result.err
    lic = licences(imported)["200100"]
    assert (lic["quantity"], lic["active"]) == (5, True)


def test_a_record_without_an_id_holds_back_its_companys_deletions(imported, sandbox):
    # Which licence the unreadable record is cannot be known, so none of the company's missing licences may
    # be taken as deleted: 200100 (its AccountId gone) was zeroed as "deleted upstream".
    imported("import", "subscriptions", "also")
    del find(sandbox, 100010, 200100)["AccountId"]
    result = imported("import", "subscriptions", "also")
    assert result.code == 1
    assert "Contoso Ltd (100010): Exchange Online (Plan 1): AccountId is missing" in result.err
    assert "Contoso Ltd (100010): held back 1 deactivation: 1 record of its listing could not be read" \
        in result.err
    lic = licences(imported)["200100"]
    assert (lic["quantity"], lic["active"]) == (5, True)


def test_unmapped_companies_never_get_licences(cli, config):
    cli("customers", "add", "Contoso Ltd")
    cli("mappings", "generate", "also")
    cli("import", "subscriptions", "also")
    assert {lic["customer"] for lic in licences(cli).values()} == {"Contoso Ltd"}


def test_customer_subscriptions_to_import_selects_by_id_or_name(imported, write_config):
    write_config(customer_subscriptions_to_import=["100011", "Café Lumière SARL"])
    assert imported("import", "subscriptions", "also").code == 0
    assert {lic["customer"] for lic in licences(imported).values()} == {"Fabrikam GmbH", "Café Lumière SARL"}


def test_customer_subscriptions_to_import_matches_a_name_typed_decomposed(imported, write_config):
    import unicodedata

    # A config file written on a Mac spells "Café" decomposed (NFD); the names are stored composed.
    write_config(customer_subscriptions_to_import=[unicodedata.normalize("NFD", "Café Lumière SARL")])
    result = imported("import", "subscriptions", "also")
    assert result.code == 0, result.err
    assert {lic["customer"] for lic in licences(imported).values()} == {"Café Lumière SARL"}


def test_an_entry_matching_no_mapped_company_is_a_config_error(imported, write_config):
    write_config(customer_subscriptions_to_import=["Nobody Inc"])
    result = imported("import", "subscriptions", "also")
    assert result.code == 1
    assert "customer_subscriptions_to_import: 'Nobody Inc' matches no mapped company" in result.err


def test_every_change_is_in_the_history_and_a_no_change_rerun_writes_nothing(imported, sandbox, db):
    imported("import", "subscriptions", "also")
    created = imported("licences", "history", "--json").json
    assert len(created) == 16 and {c["field"] for c in created} == {"created"}

    find(sandbox, 100010, 200100)["Fields"][1]["Value"] = "7"
    find(sandbox, 100010, 200100)["ContractEndDate"] = "2026-01-09T00:00:00"
    imported("import", "subscriptions", "also")
    changes = imported("licences", "history", "--customer", "Contoso Ltd", "--json").json
    latest = {(c["field"], c["old"], c["new"]) for c in changes if c["external_id"] == "200100"
              and c["field"] != "created"}
    assert latest == {("quantity", "5", "7"), ("end_date", "2025-01-09", "2026-01-09")}

    before = db.dump(exclude=("sync_runs",))
    result = imported("import", "subscriptions", "also")
    assert "0 created, 0 updated, 0 deactivated, 16 unchanged" in result.out
    assert db.dump(exclude=("sync_runs",)) == before


def test_dry_run_prints_the_plan_and_writes_nothing(imported, sandbox, db):
    imported("import", "subscriptions", "also")
    find(sandbox, 100010, 200100)["Fields"][1]["Value"] = "8"
    subs_of(sandbox, 100018).pop()
    before, before_dump = db.file_bytes(), db.dump()
    result = imported("import", "subscriptions", "also", "--dry-run")
    assert "update    Contoso Ltd: Exchange Online (Plan 1) (200100): quantity '5' -> '8'" in result.out
    assert "hold back" not in result.out
    assert "deactivate" in result.out and "Exchange Online Archiving (200181) [deleted upstream]" in result.out
    assert db.dump() == before_dump and db.file_bytes() == before


def test_a_subscription_moved_to_another_company_follows_it(imported, sandbox):
    imported("import", "subscriptions", "also")
    record = find(sandbox, 100018, 200181)
    subs_of(sandbox, 100018).remove(record)
    record.update({"ParentAccountId": 100016, "CompanyAccountId": 100016})
    subs_of(sandbox, 100016).append(record)
    assert imported("import", "subscriptions", "also").code == 0
    lic = licences(imported)["200181"]
    assert (lic["customer"], lic["quantity"], lic["active"]) == ("Adventure Works AB", 9, True)
    history = imported("licences", "history", "--customer", "Adventure Works AB", "--json").json
    assert {(h["field"], h["old"], h["new"]) for h in history if h["external_id"] == "200181"} >= {
        ("customer", "Litware BV", "Adventure Works AB")}


def test_a_subscription_listed_under_two_companies_is_kept_once_and_reported(imported, sandbox):
    twin = dict(find(sandbox, 100010, 200100))
    subs_of(sandbox, 100011).append(twin)
    result = imported("import", "subscriptions", "also")
    assert result.code == 1
    assert ("Fabrikam GmbH (100011): Exchange Online (Plan 1) (200100): also listed under Contoso Ltd (100010), "
            "which keeps it") in result.err
    assert licences(imported)["200100"]["customer"] == "Contoso Ltd"
    assert len(imported("licences", "list", "--json").json) == 16


def test_a_subscription_with_an_overlong_name_is_reported_and_the_rest_imported(imported, sandbox):
    subs_of(sandbox, 100010).append(subscription(200109, 100010, "Y" * 600, "1"))
    subs_of(sandbox, 100011)[0]["PriceableItems"] = []
    result = imported("import", "subscriptions", "also")
    assert result.code == 1
    assert "(200109): the name (600 characters, at most 500) is longer than the PSA keeps" in result.err
    assert "200109" not in licences(imported) and len(licences(imported)) == 16
