"""ALSO JSON -> the core's types. Pure functions; a record that cannot be read raises RecordError."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

from core.types import Address, VendorCustomer, VendorSubscription
from core.vendor import RecordError, parse_date, parse_money
from core.vendor import parse_quantity as quantity_value
from core.vendor import record_label as vendor_record_label

__all__ = ["RecordError", "account_id", "company_to_customer", "parse_date", "parse_prices", "parse_quantity",
           "record_label", "subscription_to_licence"]


def account_id(record: Any, field: str = "AccountId") -> str:
    if not isinstance(record, dict):
        raise RecordError(f"expected an object, got {type(record).__name__}")
    value = record.get(field)
    if isinstance(value, bool) or value is None:
        raise RecordError(f"{field} is missing")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip().isdigit():
        return str(int(value.strip()))
    raise RecordError(f"{field} is not an integer: {value!r}")


def _text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise RecordError(f"{key} is not text: {value!r}")
    text = str(value).strip()
    return text or None


def _shared(text: str | None) -> str | None:
    return None if text is None else sys.intern(text)


def company_to_customer(record: Any) -> VendorCustomer:
    external_id = account_id(record)
    name = _text(record, "CompanyName")
    if not name:
        raise RecordError("CompanyName is missing")
    state = sys.intern(_text(record, "AccountState") or "Active")
    domains = record.get("Domain") or []
    if isinstance(domains, str):
        domains = [domains]
    if not isinstance(domains, list):
        raise RecordError(f"Domain is not a list: {domains!r}")
    return VendorCustomer(
        external_id=external_id,
        name=name,
        active=state.lower() != "terminated",
        state=state,
        address=Address(
            address=_text(record, "Address"),
            city=_shared(_text(record, "City")),  # one string per city and country: 50,000 companies share a few
            postcode=_text(record, "Zip"),
            country=_shared(_text(record, "Country")),
        ),
        contract_end_date=parse_date(record.get("CompanyContractEndDate"), "CompanyContractEndDate"),
        email=_text(record, "Email"),
        domains=tuple(str(d).strip().lower() for d in domains if isinstance(d, str) and d.strip()),
    )


def parse_quantity(fields: Any) -> int | None:
    """The ``Value`` of the ``Fields`` entry named ``Quantity``: a string, a number or null."""
    if fields is None:
        return None
    if not isinstance(fields, list):
        raise RecordError(f"Fields is not a list: {fields!r}")
    entry = next((f for f in fields if isinstance(f, dict) and f.get("Name") == "Quantity"), None)
    if entry is None:
        return None
    return quantity_value(entry.get("Value"), "Quantity")


def parse_prices(items: Any) -> tuple[Decimal | None, Decimal | None, str | None]:
    """Unit price, cost and currency from the ``PriceableItems`` entry whose FieldName is Quantity."""
    if items is None:
        return None, None, None
    if not isinstance(items, list):
        raise RecordError(f"PriceableItems is not a list: {items!r}")
    entry = next((i for i in items if isinstance(i, dict) and i.get("FieldName") == "Quantity"), None)
    if entry is None:
        return None, None, None
    currency = _text(entry, "Currency")
    price = parse_money(entry.get("SalesPrice"), "SalesPrice")
    return price, parse_money(entry.get("PurchasePrice"), "PurchasePrice"), currency


TENANT_FIELDS = ("MicrosoftTenantId", "TenantID")


def _quantity_item(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    return next((i for i in items if isinstance(i, dict) and i.get("FieldName") == "Quantity"), {})


def _term_text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip() or None


def _months(value: Any) -> int | None:
    """A whole, non-negative number of months; anything else is no commitment known."""
    try:
        return quantity_value(value, "CommitementPeriodInMonths")
    except RecordError:
        return None


# PriceableItemType words -> the interface's billing cycle words; PrepaidPeriodInMonths -> a term paid up front.
CYCLE_WORDS = {"monthly": "Monthly", "annual": "Annual", "annually": "Annual", "yearly": "Annual",
               "2-year": "2-Year", "3-year": "3-Year", "one-time": "One-Time", "onetime": "One-Time",
               "setup": "One-Time", "trial": "Trial"}
PREPAID_TERMS = {12: "Annual", 24: "2-Year", 36: "3-Year"}


def billing_cycle(item_type: Any, prepaid_months: Any) -> str | None:
    """The interface's cycle word for a Quantity priceable item: a prepaid period of 12, 24 or 36 months is
    Annual, 2-Year or 3-Year (paid up front); otherwise its PriceableItemType's word. A value it does not
    know is passed on as ALSO wrote it, and billing reports it rather than guessing."""
    months = _months(prepaid_months)
    if months in PREPAID_TERMS:
        return PREPAID_TERMS[months]
    text = _term_text(item_type)
    if months not in (None, 0, 1):
        return f"{text or 'prepaid'} ({months} months prepaid)"
    return None if text is None else CYCLE_WORDS.get(text.lower(), text)


def parse_terms(record: dict[str, Any]) -> dict[str, Any]:
    """Licence terms, each None when ALSO does not give it or gives something unreadable (they are
    informative: an odd value never costs the subscription its import).

    Billing cycle and commitment come from the Quantity priceable item (``PriceableItemType``,
    ``CommitementPeriodInMonths``, ALSO's spelling), the SKU from its ``ProductNumber`` (else the
    subscription's), the tenant from the ``Fields`` entry named MicrosoftTenantId or TenantID."""
    item = _quantity_item(record.get("PriceableItems"))
    fields = record.get("Fields") if isinstance(record.get("Fields"), list) else []
    tenant = next((f.get("Value") for name in TENANT_FIELDS for f in fields
                   if isinstance(f, dict) and f.get("Name") == name and _term_text(f.get("Value"))), None)
    return {
        "billing_cycle": billing_cycle(item.get("PriceableItemType"), item.get("PrepaidPeriodInMonths")),
        "commitment_months": _months(item.get("CommitementPeriodInMonths")),
        "sku": _term_text(item.get("ProductNumber")) or _term_text(record.get("ProductNumber")),
        "tenant_id": _term_text(tenant),
    }


def subscription_to_licence(record: Any, customer_external_id: str) -> VendorSubscription:
    external_id = account_id(record)
    name = _text(record, "ServiceDisplayName") or _text(record, "ServiceName")
    if not name:
        raise RecordError("ServiceDisplayName and ServiceName are both missing")
    state = _text(record, "AccountState") or "Active"
    price, cost, currency = parse_prices(record.get("PriceableItems"))
    end = parse_date(record.get("ScheduledTerminationDate"), "ScheduledTerminationDate") or parse_date(
        record.get("ContractEndDate"), "ContractEndDate"
    )
    return VendorSubscription(
        external_id=external_id,
        customer_external_id=customer_external_id,
        name=name,
        status=state,
        terminated=state.lower() == "terminated",
        quantity=parse_quantity(record.get("Fields")),
        price=price,
        cost=cost,
        currency=currency,
        start_date=parse_date(record.get("BillingStartDate"), "BillingStartDate"),
        end_date=end,
        **parse_terms(record),
    )


def record_label(record: Any) -> tuple[str | None, str | None]:
    """Best-effort id and name of a record that failed to map, for the error message."""
    return vendor_record_label(record, ("AccountId",), ("ServiceDisplayName", "ServiceName", "CompanyName"))
