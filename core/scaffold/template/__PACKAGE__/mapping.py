"""__TITLE__ JSON -> the core's types. Pure functions: a record that cannot be read raises RecordError,
and ``core.vendor.map_records`` reports it as a problem naming it while the others go on."""

from __future__ import annotations

from typing import Any

from core.types import Address, VendorCustomer, VendorSubscription
from core.vendor import RecordError, parse_date, parse_id, parse_money, parse_quantity, parse_text, record_label


def label(record: Any) -> tuple[str | None, str | None]:
    """The id and name of a record that failed to map, for the problem report."""
    return record_label(record, ("id",), ("name", "product"))


def to_customer(record: Any) -> VendorCustomer:
    if not isinstance(record, dict):
        raise RecordError(f"expected an object, got {type(record).__name__}")
    name = parse_text(record, "name")
    if not name:
        raise RecordError("name is missing")
    status = parse_text(record, "status") or "active"
    address = record.get("address") or {}
    return VendorCustomer(
        external_id=parse_id(record.get("id")),
        name=name,
        active=status.lower() != "terminated",  # active: may be synced; state: the vendor's word, shown
        state=status,
        address=Address(parse_text(address, "street"), parse_text(address, "city"), parse_text(address, "zip"),
                        parse_text(address, "country")),
    )


def to_subscription(record: Any, customer_external_id: str) -> VendorSubscription:
    if not isinstance(record, dict):
        raise RecordError(f"expected an object, got {type(record).__name__}")
    name = parse_text(record, "product")
    if not name:
        raise RecordError("product is missing")
    status = parse_text(record, "status") or "active"
    return VendorSubscription(
        external_id=parse_id(record.get("id")),
        customer_external_id=customer_external_id,
        name=name,
        status=status,  # the vendor's word, stored and shown as is
        terminated=status.lower() in ("terminated", "cancelled"),  # what the core acts on
        quantity=parse_quantity(record.get("seats"), "seats"),  # None is stored as 0
        price=parse_money(record.get("unit_price"), "unit_price"),
        cost=parse_money(record.get("unit_cost"), "unit_cost"),
        currency=parse_text(record, "currency"),
        start_date=parse_date(record.get("start"), "start"),
        end_date=parse_date(record.get("end"), "end"),
    )
