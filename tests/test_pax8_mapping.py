"""Pax8 JSON -> the core's types: the interface's rules, record by record, with the live quirks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.vendor import RecordError
from plugins.pax8 import mapping

COMPANY = "0b6d7c35-4a3e-4f55-9a70-3c1e2d4b5a60"


def sub(**changes):
    record = {"id": "6f1b0c2e-9a57-4d0e-8f3e-2b7f4a1c9d10", "companyId": COMPANY,
              "productId": "c2a8e1f4-7b3d-4e9a-a1c6-5d2f0e8b7a31", "productName": "Microsoft 365 Business Standard",
              "quantity": 12, "startDate": "2024-03-01T00:00:00Z", "createdDate": "2024-02-27",
              "billingStart": "2024-03-01", "status": "Active", "price": 15.0, "partnerCost": 12.5,
              "currencyCode": "USD", "billingTerm": "Annual",
              "commitment": {"id": "a9d3", "term": "1-Year", "endDate": "2025-02-28T00:00:00.000Z"}}
    record.update(changes)
    return {k: v for k, v in record.items() if v is not ...}


def test_a_live_company_with_omitted_keys_maps_with_its_region_and_website_domain():
    record = {"id": COMPANY, "name": "Contoso Dental", "status": "Active", "website": "https://www.contoso.example/",
              "address": {"street": "100 Main St", "city": "Denver", "stateOrProvince": "Colorado",
                          "postalCode": "80202", "country": "US"}}
    customer = mapping.company_to_customer(record)
    assert customer.external_id == COMPANY and customer.active and customer.state == "Active"
    assert (customer.address.address, customer.address.city, customer.address.postcode, customer.address.country,
            customer.address.region) == ("100 Main St", "Denver", "80202", "US", "Colorado")
    assert customer.domains == ("contoso.example",)


@pytest.mark.parametrize(("status", "active"), [("Active", True), ("Inactive", True), ("Deleted", False)])
def test_only_deleted_companies_are_not_live(status, active):
    customer = mapping.company_to_customer({"id": COMPANY, "name": "X", "status": status})
    assert customer.active is active and customer.state == status
    assert customer.address.is_empty()


def test_street2_joins_the_street_and_a_company_without_a_name_is_a_record_error():
    customer = mapping.company_to_customer({"id": COMPANY, "name": "F", "address": {"street": "1 Yonge St",
                                                                                 "street2": "Suite 400"}})
    assert customer.address.address == "1 Yonge St, Suite 400"
    with pytest.raises(RecordError, match="name is missing"):
        mapping.company_to_customer({"id": COMPANY})


@pytest.mark.parametrize(("status", "terminated", "pending"), [
    ("Active", False, False), ("Trial", False, False), ("Activated", False, False), ("PendingCancel", False, False),
    ("Cancelled", True, False), ("Converted", True, False),
    ("PendingManual", False, True), ("PendingAutomated", False, True), ("PendingActivation", False, True),
    ("WaitingForDetails", False, True),
])
def test_the_status_rules_of_the_interface(status, terminated, pending):
    licence = mapping.subscription_to_licence(sub(status=status), COMPANY)
    assert (licence.status, licence.terminated, licence.pending_activation) == (status, terminated, pending)


def test_an_unknown_status_is_a_record_error_not_a_guess():
    with pytest.raises(RecordError, match="Suspended"):
        mapping.subscription_to_licence(sub(status="Suspended"), COMPANY)


@pytest.mark.parametrize(("term", "cycle"), [("Monthly", "Monthly"), ("Annual", "Annual"), ("2-Year", "2-Year"),
                                             ("3-Year", "3-Year"), ("One-Time", "One-Time"), ("Trial", "Trial"),
                                             (..., None)])
def test_billing_term_becomes_the_interfaces_cycle_word(term, cycle):
    assert mapping.subscription_to_licence(sub(billingTerm=term), COMPANY).billing_cycle == cycle


def test_an_activation_billing_term_is_a_record_error():
    with pytest.raises(RecordError, match="Activation"):
        mapping.subscription_to_licence(sub(billingTerm="Activation"), COMPANY)


def test_every_field_the_interface_lists():
    licence = mapping.subscription_to_licence(sub(), COMPANY)
    assert licence.name == "Microsoft 365 Business Standard" and licence.quantity == 12
    assert (licence.price, licence.cost, licence.currency) == (Decimal("15.0"), Decimal("12.5"), "USD")
    assert licence.start_date == date(2024, 3, 1)
    assert licence.end_date == date(2025, 2, 28), "no endDate: the commitment's end"
    assert licence.commitment_months == 12 and licence.sku is None
    assert mapping.subscription_to_licence(sub(endDate="2024-12-31"), COMPANY).end_date == date(2024, 12, 31)


def test_the_spec_name_commitmentTerm_and_a_null_commitment_are_read():  # noqa: N802
    spec = sub(commitment=..., commitmentTerm={"term": "3-Year", "endDate": "2027-02-28"})
    assert mapping.subscription_to_licence(spec, COMPANY).commitment_months == 36
    monthly = mapping.subscription_to_licence(sub(commitment=None, billingTerm="Monthly"), COMPANY)
    assert monthly.commitment_months is None and monthly.end_date is None


@pytest.mark.parametrize("text", ["2020-02-28T16:28:15.952628Z", "2020-02-28T11:33:12.314-0600",
                                  "2020-02-28T08:30:00Z", "2020-02-28T00:00:00.000Z", "2020-02-28"])
def test_the_four_date_formats_and_a_bare_date(text):
    assert mapping.subscription_to_licence(sub(startDate=text), COMPANY).start_date == date(2020, 2, 28)


def test_a_list_without_product_name_takes_the_products_name_and_sku():
    product = {"id": "c2a8", "name": "Microsoft 365 Business Standard", "sku": "MST-NCE-BS-01"}
    licence = mapping.subscription_to_licence(sub(productName=...), COMPANY, product)
    assert licence.name == "Microsoft 365 Business Standard" and licence.sku == "MST-NCE-BS-01"
    with pytest.raises(RecordError, match="productName is missing"):
        mapping.subscription_to_licence(sub(productName=...), COMPANY, None)


def test_a_fractional_quantity_is_a_record_error():
    with pytest.raises(RecordError, match="quantity"):
        mapping.subscription_to_licence(sub(quantity=2.5), COMPANY)


ITEM = {"id": "e3f1", "type": "subscription", "companyId": COMPANY, "companyName": "Contoso Dental",
        "subscriptionId": "6f1b", "productName": "Microsoft 365 Business Standard", "startPeriod": "2025-06-01",
        "endPeriod": "2025-06-30", "quantity": 12, "term": "Annual", "price": 15.0, "subTotal": 180.0,
        "cost": 12.5, "costTotal": 150.0, "currencyCode": "USD"}


def test_an_invoice_item_is_a_vendor_charge():
    charge = mapping.invoice_item_to_charge(ITEM)
    assert (charge.subscription_external_id, charge.customer_external_id, charge.customer_name) == (
        "6f1b", COMPANY, "Contoso Dental")
    assert (charge.start, charge.end) == (date(2025, 6, 1), date(2025, 6, 30))
    assert (charge.units, charge.unit_cost, charge.cost, charge.currency) == (
        Decimal("12"), Decimal("12.5"), Decimal("150.0"), "USD")


def test_usage_in_arrears_has_no_unit_count_and_a_line_without_subscription_is_a_record_error():
    assert mapping.invoice_item_to_charge({**ITEM, "term": "Arrears"}).units is None
    with pytest.raises(RecordError, match="subscriptionId"):
        mapping.invoice_item_to_charge({**ITEM, "subscriptionId": None})
