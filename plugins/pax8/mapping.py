"""Pax8 JSON -> the core's types. Pure functions; a record that cannot be read raises RecordError.

Every key is optional when read (the live service omits keys without a value), dates come in
four formats (``core.vendor.parse_date`` reads them all), money is a JSON number.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from core.types import Address, VendorCharge, VendorCustomer, VendorSubscription
from core.vendor import RecordError, parse_date, parse_id, parse_money, parse_quantity, parse_text
from core.vendor import record_label as vendor_record_label

__all__ = ["ACTIVE_STATUSES", "BILLING_CYCLES", "PENDING_STATUSES", "TERMINATED_STATUSES", "RecordError",
           "company_to_customer", "invoice_item_to_charge", "product_name", "record_label",
           "subscription_to_licence"]

#: The interface's rules for the subscription ``status``.
ACTIVE_STATUSES = frozenset({"Active", "Trial", "Activated", "PendingCancel"})
TERMINATED_STATUSES = frozenset({"Cancelled", "Converted"})
PENDING_STATUSES = frozenset({"PendingManual", "PendingAutomated", "PendingActivation", "WaitingForDetails"})

#: Pax8's ``billingTerm`` -> the licence's billing cycle words. "Activation" (a retired hardware
#: flow) has no billing period the core knows: such a subscription is a record problem, not a guess.
BILLING_CYCLES = {"Monthly": "Monthly", "Annual": "Annual", "2-Year": "2-Year", "3-Year": "3-Year",
                  "One-Time": "One-Time", "Trial": "Trial"}

#: A commitment's ``term`` -> months. Pax8 writes "1-Year" there (not "Annual"); unknown terms give None.
COMMITMENT_MONTHS = {"monthly": 1, "1-year": 12, "annual": 12, "2-year": 24, "3-year": 36}

DELETED = "Deleted"


def _object(record: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(record, Mapping):
        raise RecordError(f"{what} is not an object: {type(record).__name__}")
    return record


def _shared(text: str | None) -> str | None:
    return None if text is None else sys.intern(text)


def _domain(website: str | None) -> tuple[str, ...]:
    """``www.contoso.com``, ``https://contoso.com/`` -> ``contoso.com``: the website's host, lower case."""
    if not website:
        return ()
    host = website.strip().lower().split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    host = host.removeprefix("www.")
    return (host,) if "." in host else ()


def company_to_customer(record: Any) -> VendorCustomer:
    company = _object(record, "the company")
    external_id = parse_id(company.get("id"), "id")
    name = parse_text(company, "name")
    if not name:
        raise RecordError("name is missing")
    status = _shared(parse_text(company, "status") or "Active")
    address = company.get("address")
    address = _object(address, "address") if address is not None else {}
    street = ", ".join(p for p in (parse_text(address, "street"), parse_text(address, "street2")) if p) or None
    return VendorCustomer(
        external_id=external_id,
        name=name,
        active=status != DELETED,  # Inactive means "no primary contact yet": still a live company
        state=status,
        address=Address(address=street, city=_shared(parse_text(address, "city")),
                        postcode=parse_text(address, "postalCode"), country=_shared(parse_text(address, "country")),
                        region=_shared(parse_text(address, "stateOrProvince"))),
        domains=_domain(parse_text(company, "website")),
    )


def _commitment(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """The commitment object: ``commitment`` on the wire, ``commitmentTerm`` in the spec; null when none."""
    value = record.get("commitment", record.get("commitmentTerm"))
    return value if isinstance(value, Mapping) else {}


def _months(term: Any) -> int | None:
    return COMMITMENT_MONTHS.get(term.strip().lower()) if isinstance(term, str) else None


def product_name(product: Any) -> str | None:
    """A product's name from ``GET /products/{id}``; None when it has none."""
    return parse_text(product, "name") if isinstance(product, Mapping) else None


def subscription_to_licence(record: Any, customer_external_id: str,
                            product: Mapping[str, Any] | None = None) -> VendorSubscription:
    """One subscription; ``product`` is its ``GET /products/{id}`` answer when the listing lacked
    ``productName`` (its name, and its ``sku``, are then used)."""
    sub = _object(record, "the subscription")
    external_id = parse_id(sub.get("id"), "id")
    name = parse_text(sub, "productName") or product_name(product)
    if not name:
        raise RecordError("productName is missing and the product has no name")
    status = parse_text(sub, "status")
    if status is None:
        raise RecordError("status is missing")
    pending = status in PENDING_STATUSES
    if not (pending or status in ACTIVE_STATUSES or status in TERMINATED_STATUSES):
        raise RecordError(f"status {status!r} is not one Pax8 documents")
    term = parse_text(sub, "billingTerm")
    if term is not None and term not in BILLING_CYCLES:
        raise RecordError(f"billingTerm {term!r} has no billing cycle the integrator knows")
    commitment = _commitment(sub)
    end = parse_date(sub.get("endDate"), "endDate") or parse_date(commitment.get("endDate"), "commitment.endDate")
    return VendorSubscription(
        external_id=external_id,
        customer_external_id=customer_external_id,
        name=name,
        status=sys.intern(status),
        terminated=status in TERMINATED_STATUSES,
        pending_activation=pending,
        quantity=parse_quantity(sub.get("quantity"), "quantity"),
        price=parse_money(sub.get("price"), "price"),
        cost=parse_money(sub.get("partnerCost"), "partnerCost"),
        currency=_shared(parse_text(sub, "currencyCode")),
        start_date=parse_date(sub.get("startDate"), "startDate"),
        end_date=end,
        billing_cycle=BILLING_CYCLES.get(term) if term else None,
        commitment_months=_months(commitment.get("term")),
        sku=parse_text(product, "sku") if isinstance(product, Mapping) else None,
    )


#: Invoice item terms billed in arrears for consumption: no unit count (the core charges them as usage).
USAGE_TERMS = frozenset({"arrears"})


def invoice_item_to_charge(record: Any) -> VendorCharge:
    """One line of ``GET /invoices/{id}/items`` as a vendor charge (cost = ``costTotal``)."""
    item = _object(record, "the invoice item")
    subscription = parse_id(item.get("subscriptionId"), "subscriptionId")
    company = parse_id(item.get("companyId"), "companyId")
    start = parse_date(item.get("startPeriod"), "startPeriod")
    end = parse_date(item.get("endPeriod"), "endPeriod") or start
    if start is None or end is None:
        raise RecordError("startPeriod is missing")
    if end < start:
        raise RecordError(f"endPeriod {end} is before startPeriod {start}")
    cost = parse_money(item.get("costTotal"), "costTotal")
    if cost is None:
        raise RecordError("costTotal is missing")
    usage = (parse_text(item, "term") or "").lower() in USAGE_TERMS
    units = None if usage else parse_money(item.get("quantity"), "quantity")
    if units is not None and units < 0:
        raise RecordError(f"quantity is negative: {item.get('quantity')!r}")
    return VendorCharge(
        subscription_external_id=subscription,
        customer_external_id=company,
        service_name=parse_text(item, "productName") or parse_text(item, "description") or "?",
        start=start,
        end=end,
        units=units,
        unit_cost=parse_money(item.get("cost"), "cost"),
        cost=cost,
        currency=_shared(parse_text(item, "currencyCode")),
        customer_name=parse_text(item, "companyName"),
    )


def record_label(record: Any) -> tuple[str | None, str | None]:
    """Best-effort id and name of a record that failed to map, for the error message."""
    return vendor_record_label(record, ("id", "subscriptionId"), ("productName", "name", "description"))
