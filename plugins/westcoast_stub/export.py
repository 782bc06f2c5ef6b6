"""Reading a Westcoast JSON export into the core's types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.errors import VendorProtocolError, VendorUnreachableError
from core.types import Address, Listing, VendorAccount, VendorCustomer, VendorSubscription
from core.vendor import RecordError, map_records, parse_date, parse_id, parse_money, parse_quantity, parse_text


def load(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VendorUnreachableError(f"Westcoast export file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise VendorUnreachableError(f"cannot read Westcoast export file {path}: {exc}") from None
    except ValueError as exc:
        raise VendorProtocolError(f"Westcoast export file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("customers"), list):
        raise VendorProtocolError(f"Westcoast export file {path} has no 'customers' list")
    return data


def account(data: dict[str, Any], path: str) -> VendorAccount:
    acc = data.get("account")
    if not isinstance(acc, dict) or "id" not in acc:
        raise VendorProtocolError(f"Westcoast export file {path} has no 'account' with an 'id'")
    return VendorAccount(external_id=str(acc["id"]), name=str(acc.get("name") or acc["id"]))


def _customer(rec: Any) -> VendorCustomer:
    if not isinstance(rec, dict):
        raise RecordError("a customer must be an object")
    if not rec.get("id") or not rec.get("name"):
        raise RecordError("a customer needs an 'id' and a 'name'")
    addr = rec.get("address") or {}
    if not isinstance(addr, dict):
        raise RecordError(f"address is not an object: {addr!r}")
    state = parse_text(rec, "state") or "Active"
    return VendorCustomer(
        external_id=parse_id(rec["id"]), name=str(rec["name"]).strip(), active=state.lower() != "terminated",
        state=state,
        address=Address(parse_text(addr, "line"), parse_text(addr, "city"), parse_text(addr, "postcode"),
                        parse_text(addr, "country")),
        contract_end_date=parse_date(rec.get("contract_end"), "contract_end"),
        email=parse_text(rec, "email"),
    )


def _subscription(rec: dict[str, Any], customer_id: str) -> VendorSubscription:
    if not rec.get("id") or not rec.get("name"):
        raise RecordError("a subscription needs an 'id' and a 'name'")
    status = parse_text(rec, "status") or "Active"
    return VendorSubscription(
        external_id=parse_id(rec["id"]), customer_external_id=customer_id, name=str(rec["name"]).strip(),
        status=status, terminated=status.lower() in ("terminated", "cancelled"),
        quantity=parse_quantity(rec.get("quantity")),
        price=parse_money(rec.get("price"), "price"), cost=parse_money(rec.get("cost"), "cost"),
        currency=parse_text(rec, "currency"),
        start_date=parse_date(rec.get("start_date"), "start_date"),
        end_date=parse_date(rec.get("end_date"), "end_date"),
    )


def customers(data: dict[str, Any]) -> Listing[VendorCustomer]:
    return map_records(data["customers"], _customer)


def subscriptions(data: dict[str, Any], customer_id: str) -> Listing[VendorSubscription]:
    mine = [rec for rec in data.get("subscriptions", [])
            if isinstance(rec, dict) and str(rec.get("customer_id")) == customer_id]
    return map_records(mine, lambda rec: _subscription(rec, customer_id))
