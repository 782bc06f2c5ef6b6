"""Reading a Westcoast JSON export into the core's types."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from core.errors import VendorProtocolError, VendorUnreachableError
from core.types import Address, Listing, RecordProblem, VendorAccount, VendorCustomer, VendorSubscription


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


def _date(value: Any, key: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValueError(f"{key} is not a date: {value!r}") from None


def _decimal(value: Any, key: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{key} is not a number: {value!r}") from None


def customers(data: dict[str, Any]) -> Listing[VendorCustomer]:
    listing: Listing[VendorCustomer] = Listing()
    for rec in data["customers"]:
        try:
            if not isinstance(rec, dict) or not rec.get("id") or not rec.get("name"):
                raise ValueError("a customer needs an 'id' and a 'name'")
            addr = rec.get("address") or {}
            state = str(rec.get("state") or "Active")
            listing.items.append(VendorCustomer(
                external_id=str(rec["id"]), name=str(rec["name"]).strip(), active=state.lower() != "terminated",
                state=state,
                address=Address(addr.get("line"), addr.get("city"), addr.get("postcode"), addr.get("country")),
                contract_end_date=_date(rec.get("contract_end"), "contract_end"),
                email=rec.get("email"),
            ))
        except (ValueError, AttributeError) as exc:
            rid = rec.get("id") if isinstance(rec, dict) else None
            listing.problems.append(RecordProblem(str(rid) if rid else None, None, str(exc)))
    return listing


def subscriptions(data: dict[str, Any], customer_id: str) -> Listing[VendorSubscription]:
    listing: Listing[VendorSubscription] = Listing()
    for rec in data.get("subscriptions", []):
        if not isinstance(rec, dict) or str(rec.get("customer_id")) != customer_id:
            continue
        try:
            if not rec.get("id") or not rec.get("name"):
                raise ValueError("a subscription needs an 'id' and a 'name'")
            quantity = rec.get("quantity")
            if quantity is not None and (isinstance(quantity, bool) or not str(quantity).strip().isdigit()):
                raise ValueError(f"quantity is not a whole number: {quantity!r}")
            status = str(rec.get("status") or "Active")
            listing.items.append(VendorSubscription(
                external_id=str(rec["id"]), customer_external_id=customer_id, name=str(rec["name"]),
                status=status, terminated=status.lower() in ("terminated", "cancelled"),
                quantity=int(str(quantity).strip()) if quantity is not None else None,
                price=_decimal(rec.get("price"), "price"), cost=_decimal(rec.get("cost"), "cost"),
                currency=rec.get("currency"),
                start_date=_date(rec.get("start_date"), "start_date"),
                end_date=_date(rec.get("end_date"), "end_date"),
            ))
        except ValueError as exc:
            listing.problems.append(RecordProblem(str(rec.get("id")), rec.get("name"), str(exc)))
    return listing
