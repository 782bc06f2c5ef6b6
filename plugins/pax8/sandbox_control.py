"""The Pax8 sandbox's control endpoints (loopback only, no token): change its data and behaviour between syncs."""

from __future__ import annotations

from datetime import date
from typing import Any

from plugins.pax8.sandbox_data import PRODUCTS, Fault, read_day, subscription, wire_date

SWITCHES = ("token_ttl", "list_product_names", "rate_limit_per_minute", "retry_after", "latency_ms", "today",
            "expire_tokens", "faults", "clear_faults")


def handle(handler: Any, path: str, body: Any) -> None:
    if not isinstance(body, dict):
        handler.error(400, "the body must be a JSON object", path)
        return
    try:
        if path == "/_control/subscriptions":
            handler.send_json(200, change_subscriptions(handler.server.state, body))
        elif path == "/_control/sandbox":
            handler.send_json(200, switch(handler.server.state, body))
        else:
            handler.error(404, "Not Found", path)
    except (KeyError, ValueError, TypeError) as exc:
        handler.error(400, f"bad control request: {exc}", path)


def stats(handler: Any) -> None:
    state = handler.server.state
    with state.lock:
        handler.send_json(200, {"calls": dict(state.calls), "tokens_issued": len(state.issued),
                                "throttled": state.throttled})


def change_subscriptions(state: Any, body: dict[str, Any]) -> dict[str, Any]:
    """``change`` a subscription's quantity/price/status (from ``day``, default the sandbox's today),
    ``add`` one to a company, ``delete`` one (it leaves the listing, as a deleted one does)."""
    data, action = state.data, body.get("action", "change")
    day = date.fromisoformat(body["day"]) if body.get("day") else state.current_day()
    with state.lock:
        if action == "add":
            company = next(c for c in data.companies if c["id"] == body["companyId"])
            product = data.products.get(body.get("productId") or PRODUCTS[0]["id"]) or PRODUCTS[0]
            count = sum(1 for s in data.subscriptions if s["companyId"] == company["id"])
            record = subscription(company["id"], product, int(body.get("quantity", 1)),
                                  key=body.get("key", f"added-{count}"), price=float(body.get("price", 6.0)),
                                  cost=float(body.get("partnerCost", 5.0)), status=body.get("status", "Active"),
                                  term=body.get("billingTerm", "Monthly"), start=day,
                                  currency=body.get("currencyCode", "USD"), n=count)
            if any(s["id"] == record["id"] for s in data.subscriptions):
                raise ValueError(f"subscription {record['id']} exists already")
            data.subscriptions.append(record)
            data.reindex()
            return record
        record = next((s for s in data.subscriptions if s["id"] == body["id"]), None)
        if record is None:
            raise KeyError(f"no subscription {body['id']}")
        if action == "delete":
            data.subscriptions.remove(record)
            data.reindex()
            return {"deleted": record["id"]}
        if action != "change":
            raise ValueError(f"unknown action {action!r}")
        if "quantity" in body and int(body["quantity"]) != record["quantity"]:
            data.changes.setdefault(record["id"], []).append((day, int(record["quantity"])))
            record["quantity"] = int(body["quantity"])
        for key in ("price", "partnerCost"):
            if key in body:
                record[key] = float(body[key])
        if "status" in body:
            record["status"] = str(body["status"])
            if record["status"] in ("Cancelled", "PendingCancel") and "endDate" not in record:
                record["endDate"] = wire_date(day, 2)
        if body.get("endDate"):
            record["endDate"] = wire_date(read_day(body["endDate"]) or day, 4)
        return record


def switch(state: Any, body: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(body) - set(SWITCHES))
    if unknown:
        raise ValueError(f"unknown switch {', '.join(unknown)} (known: {', '.join(SWITCHES)})")
    with state.lock:
        if body.get("expire_tokens"):
            state.tokens.clear()
        if "token_ttl" in body:
            state.token_ttl = float(body["token_ttl"])
        if "list_product_names" in body:
            state.list_product_names = bool(body["list_product_names"])
        if "rate_limit_per_minute" in body:
            state.rate_limit_per_minute, state.allowance = int(body["rate_limit_per_minute"]), -1.0
        if "retry_after" in body:
            state.retry_after = None if body["retry_after"] is None else str(body["retry_after"])
        if "latency_ms" in body:
            state.latency = float(body["latency_ms"]) / 1000
        if "today" in body:
            state.today = date.fromisoformat(body["today"]) if body["today"] else None
        if body.get("clear_faults"):
            state.faults.clear()
        state.faults.extend(Fault(**rule) for rule in body.get("faults", []))
    return {"ok": True}
