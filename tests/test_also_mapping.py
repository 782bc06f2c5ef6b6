"""ALSO JSON -> core types: quantities, prices, dates, states, and malformed records."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.types import Connection, VendorAccount, VendorCustomer
from core.vendor import map_records
from plugins import also
from plugins.also import mapping
from plugins.also.sandbox import subscription


@pytest.mark.parametrize("value, expected", [("5", 5), (5, 5), (12.0, 12), (" 7 ", 7), ("0", 0), (None, None),
                                             ("", None)])
def test_quantity_comes_from_the_quantity_field_as_string_or_number(value, expected):
    fields = [{"Name": "Domain", "Value": "x"}, {"Name": "Quantity", "Value": value}]
    assert mapping.parse_quantity(fields) == expected


@pytest.mark.parametrize("value", ["five", "2.5", True, "-1", "NaN"])
def test_a_quantity_that_is_not_a_whole_number_is_a_record_error(value):
    with pytest.raises(mapping.RecordError, match="Quantity"):
        mapping.parse_quantity([{"Name": "Quantity", "Value": value}])


@pytest.mark.parametrize("text", ["2020-01-10T06:31:58", "2020-01-10T06:31:58.4", "2020-01-10T06:31:58.46",
                                  "2020-01-10T06:31:58.1234567", "2020-01-10", "2020-01-10T06:31:58Z"])
def test_dates_with_zero_to_seven_fractional_digits(text):
    assert mapping.parse_date(text, "d") == date(2020, 1, 10)


def test_null_and_dotnet_minimum_dates_mean_no_date():
    assert mapping.parse_date(None, "d") is None
    assert mapping.parse_date("0001-01-01T00:00:00", "d") is None


@pytest.mark.parametrize("text", ["2020-13-01", "10/01/2020", "2020-01-10T06:31:58.12345678", 20200110])
def test_bad_dates_are_record_errors_naming_the_field(text):
    with pytest.raises(mapping.RecordError, match="ContractEndDate"):
        mapping.parse_date(text, "ContractEndDate")


def test_a_subscription_maps_name_status_quantity_prices_and_dates():
    record = subscription(200100, 100010, "Exchange Online (Plan 1)", "5", price=3.1, cost=2.7,
                          contract_end="2025-01-09T00:00:00", scheduled_end="2024-12-31T00:00:00.5")
    sub = mapping.subscription_to_licence(record, "100010")
    assert (sub.external_id, sub.name, sub.status, sub.terminated, sub.quantity) == (
        "200100", "Exchange Online (Plan 1)", "Active", False, 5)
    assert (sub.price, sub.cost, sub.currency) == (Decimal("3.1"), Decimal("2.7"), "EUR")
    assert sub.start_date == date(2020, 1, 10)
    assert sub.end_date == date(2024, 12, 31)  # ScheduledTerminationDate wins over ContractEndDate


def test_the_service_name_is_used_when_there_is_no_display_name():
    record = subscription(1, 2, "Azure plan", None, service_name="AzurePlan")
    record["ServiceDisplayName"] = None
    assert mapping.subscription_to_licence(record, "2").name == "AzurePlan"


def test_terminated_state_is_recognised():
    sub = mapping.subscription_to_licence(subscription(1, 2, "X", "1", state="Terminated"), "2")
    assert sub.terminated and sub.status == "Terminated"


def test_malformed_records_are_reported_and_skipped_never_aborting_the_rest():
    good = subscription(1, 2, "Good", "3")
    bad_quantity = subscription(2, 2, "Bad quantity", "lots")
    no_id = subscription(3, 2, "No id", "1")
    del no_id["AccountId"]
    listing = map_records([good, bad_quantity, "garbage", no_id],
                          lambda r: mapping.subscription_to_licence(r, "2"), mapping.record_label)
    assert [s.name for s in listing.items] == ["Good"]
    described = [p.describe() for p in listing.problems]
    assert described[0] == "Bad quantity (2): Quantity is not a number: 'lots'"
    assert described[1] == "record: expected an object, got str"
    assert described[2] == "No id: AccountId is missing"


def test_a_company_maps_to_a_customer_with_its_address():
    record = {"AccountId": 100012, "CompanyName": "Müller & Söhne GmbH", "AccountState": "Active",
              "Address": "Königsallee 92", "City": "Düsseldorf", "Zip": "40212", "Country": "Germany",
              "CompanyContractEndDate": "2027-03-31T00:00:00.0000000", "Domain": ["mueller.example"]}
    customer = mapping.company_to_customer(record)
    assert customer.external_id == "100012" and customer.active
    assert customer.address.city == "Düsseldorf" and customer.address.postcode == "40212"
    assert customer.contract_end_date == date(2027, 3, 31)
    assert customer.domains == ("mueller.example",)


def test_the_deactivate_hook_follows_the_lifecycle_rules():
    from core.types import DeactivationAction, Disappearance, LicenceGone

    gone = [LicenceGone("1", "a", Disappearance.TERMINATED), LicenceGone("2", "b", Disappearance.DELETED)]
    off = also.AlsoSettings(url="https://x.example", username="u", password="p")
    on = off.model_copy(update={"deactivate_deleted_licences": True})
    assert [d.action for d in also.integrator_deactivate(licences=gone, settings=off)] == [
        DeactivationAction.DEACTIVATE, DeactivationAction.ZERO_QUANTITY]
    assert [d.action for d in also.integrator_deactivate(licences=gone, settings=on)] == [
        DeactivationAction.DEACTIVATE, DeactivationAction.DEACTIVATE]


def test_connection_repr_hides_the_client():
    c = Connection(vendor="also", title="ALSO", account=VendorAccount("1", "Acme"), client=object())
    assert "client" not in repr(c)
    assert isinstance(VendorCustomer("1", "n", True, "Active").address.is_empty(), bool)
