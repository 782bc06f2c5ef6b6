"""The sandbox's subscription controls: change what ALSO "has" between two syncs, over HTTP on loopback.

    GET    /_control/subscriptions[?company=ID]   the subscriptions, as the integrator would read them
    POST   /_control/subscriptions/ID             {"quantity": 10, "price": "3.10", "cost": "2.70",
                                                   "status": "Active" | "Suspended" | "Terminated"}
    POST   /_control/subscriptions                {"company": 100010, "name": "Teams Premium", "quantity": 4,
                                                   "price": "7.50", "cost": "6.00", "currency": "EUR", "id": 200999}
    DELETE /_control/subscriptions/ID             the subscription is gone from ALSO's listing

Only a loopback client is answered (403 otherwise). A bad body is a 400 naming what is wrong; an
unknown id is a 404. The same functions serve ``integrator demo --billing``'s story in-process.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from plugins.also.sandbox_state import SandboxState

PATH = "/_control/subscriptions"
STATUSES = ("Active", "Suspended", "Terminated")


class ControlError(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _field(record: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((f for f in record.get("Fields") or [] if f.get("Name") == name), None)


def view(record: dict[str, Any]) -> dict[str, Any]:
    """One subscription as a person reads it."""
    quantity = _field(record, "Quantity")
    price = (record.get("PriceableItems") or [{}])[0]
    return {"id": record["AccountId"], "company": record["CompanyAccountId"], "name": record["ServiceDisplayName"],
            "quantity": quantity.get("Value") if quantity else None, "status": record["AccountState"],
            "price": price.get("SalesPrice"), "cost": price.get("PurchasePrice"), "currency": price.get("Currency")}


def _find(state: SandboxState, ident: int) -> tuple[int, dict[str, Any]]:
    for company, records in state.data.subscriptions.items():
        for record in records:
            if record["AccountId"] == ident:
                return company, record
    raise ControlError(404, f"no subscription {ident}")


def _quantity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise ControlError(400, f"quantity must be a whole number of 0 or more, not {value!r}")
    return int(value)


def _money(name: str, value: Any) -> float | None:
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ControlError(400, f"{name} must be a number, not {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ControlError(400, f"{name} must be a number of 0 or more, not {value!r}")
    return float(amount)


def change(state: SandboxState, ident: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Change a subscription's quantity, price, cost or status; returns it as viewed."""
    unknown = set(changes) - {"quantity", "price", "cost", "status"}
    if unknown:
        raise ControlError(400, f"unknown keys: {', '.join(sorted(unknown))} (known: quantity, price, cost, status)")
    if "status" in changes and changes["status"] not in STATUSES:
        raise ControlError(400, f"status must be one of {', '.join(STATUSES)}, not {changes['status']!r}")
    quantity = _quantity(changes["quantity"]) if "quantity" in changes else None
    prices = {key: _money(key, changes[key]) for key in ("price", "cost") if key in changes}
    with state.lock:
        _, record = _find(state, ident)
        if quantity is not None:
            field = _field(record, "Quantity")
            if field is None:
                record.setdefault("Fields", []).append(field := {"DisplayName": "Quantity", "Name": "Quantity"})
            field["Value"] = str(quantity)
        if prices and not record.get("PriceableItems"):
            raise ControlError(400, f"subscription {ident} has no price to change")
        for key, value in prices.items():
            record["PriceableItems"][0]["SalesPrice" if key == "price" else "PurchasePrice"] = value
        if "status" in changes:
            record["AccountState"] = changes["status"]
        return view(record)


def add(state: SandboxState, body: dict[str, Any]) -> dict[str, Any]:
    """A new subscription of an existing company; returns it as viewed."""
    from plugins.also.sandbox_data import subscription

    unknown = set(body) - {"company", "name", "quantity", "price", "cost", "currency", "id"}
    if unknown:
        raise ControlError(400, f"unknown keys: {', '.join(sorted(unknown))}")
    company, name = body.get("company"), body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ControlError(400, "name (the licence's name) is required")
    quantity = _quantity(body.get("quantity", 1))
    price, cost = _money("price", body.get("price")), _money("cost", body.get("cost"))
    with state.lock:
        if not isinstance(company, int) or company not in state.company_ids():
            raise ControlError(404, f"no company {company!r}")
        taken = {r["AccountId"] for records in state.data.subscriptions.values() for r in records}
        ident = body.get("id", max(taken, default=200000) + 1)
        if not isinstance(ident, int) or ident in taken:
            raise ControlError(400, f"id {ident!r} is taken or not a whole number")
        record = subscription(ident, company, name.strip(), str(quantity), price=price, cost=cost,
                              currency=str(body.get("currency") or "EUR"))
        state.data.subscriptions.setdefault(company, []).append(record)
        return view(record)


def delete(state: SandboxState, ident: int) -> dict[str, Any]:
    with state.lock:
        company, record = _find(state, ident)
        state.data.subscriptions[company].remove(record)
        return view(record)


def listing(state: SandboxState, company: int | None = None) -> list[dict[str, Any]]:
    with state.lock:
        return [view(r) for c, records in state.data.subscriptions.items() if company in (None, c) for r in records]


def answer(state: SandboxState, method: str, target: str, raw: bytes) -> tuple[int, Any]:
    """(status, JSON value) for one control request."""
    url = urlsplit(target)
    rest = url.path[len(PATH):].strip("/")
    try:
        ident = int(rest) if rest else None
    except ValueError:
        raise ControlError(404, f"no subscription {rest!r}") from None
    if method == "GET" and ident is None:
        company = parse_qs(url.query).get("company", [None])[0]
        if company is not None and not company.isdigit():
            raise ControlError(400, f"company must be an id, not {company!r}")
        return 200, listing(state, int(company) if company else None)
    if method == "DELETE" and ident is not None:
        return 200, delete(state, ident)
    if method == "POST":
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise ControlError(400, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise ControlError(400, "the body must be a JSON object")
        return (200, change(state, ident, body)) if ident is not None else (201, add(state, body))
    raise ControlError(405, f"{method} is not a control of {url.path}")


def handle(handler: Any, method: str, raw: bytes, *, loopback: bool) -> bool:
    """Answer the request when it is a subscription control; False when it is not one."""
    if not handler.path.startswith(PATH):
        return False
    if not loopback:
        handler._send(403, b"controls answer loopback clients only\n", "text/plain")
        return True
    try:
        status, value = answer(handler.server.state, method, handler.path, raw)
    except ControlError as exc:
        status, value = exc.status, {"error": str(exc)}
    handler._send(status, json.dumps(value).encode(), "application/json; charset=utf-8")
    return True
