"""The ALSO sandbox's subscription controls (README: "Changing the sandbox's subscriptions"): over HTTP
on loopback, change a subscription's quantity, price or status, add or delete one; the next import
sees it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest


def control(sandbox: Any, method: str, path: str = "", body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{sandbox.url}/_control/subscriptions{path}", data=data, method=method,
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_list_change_add_and_delete_subscriptions(sandbox):
    status, contoso = control(sandbox, "GET", "?company=100010")
    assert status == 200 and {s["id"] for s in contoso} == {200100, 200101, 200102}
    exchange = next(s for s in contoso if s["id"] == 200100)
    assert (exchange["name"], exchange["quantity"], exchange["price"], exchange["status"]) == (
        "Exchange Online (Plan 1)", "5", 3.1, "Active")
    assert control(sandbox, "POST", "/200100", {"quantity": 10, "price": "3.50"})[1]["quantity"] == "10"
    assert control(sandbox, "POST", "/200101", {"status": "Terminated"})[1]["status"] == "Terminated"
    status, added = control(sandbox, "POST", "", {"company": 100010, "name": "Teams Premium", "quantity": 4,
                                                  "price": "7.50", "cost": "6.00"})
    assert status == 201 and added["company"] == 100010 and added["quantity"] == "4"
    assert control(sandbox, "DELETE", "/200102")[0] == 200
    ids = {s["id"] for s in control(sandbox, "GET", "?company=100010")[1]}
    assert ids == {200100, 200101, added["id"]}


@pytest.mark.parametrize(("method", "path", "body", "status", "words"), [
    ("POST", "/999", {"quantity": 1}, 404, "no subscription 999"),
    ("POST", "/200100", {"quantity": -1}, 400, "quantity must be a whole number"),
    ("POST", "/200100", {"status": "Gone"}, 400, "status must be one of Active, Suspended, Terminated"),
    ("POST", "/200100", {"colour": "red"}, 400, "unknown keys: colour"),
    ("POST", "", {"company": 1, "name": "X"}, 404, "no company 1"),
    ("DELETE", "/999", None, 404, "no subscription 999"),
])
def test_bad_controls_are_refused_with_a_reason(sandbox, method, path, body, status, words):
    answered, value = control(sandbox, method, path, body)
    assert answered == status and words in value["error"]


def test_the_next_import_sees_the_change(cli, config, sandbox):
    assert cli("import", "customers", "also").code == 0 and cli("import", "subscriptions", "also").code == 0
    control(sandbox, "POST", "/200100", {"quantity": 10})
    control(sandbox, "POST", "/200101", {"status": "Terminated"})
    assert cli("import", "subscriptions", "also").code == 0
    licences = {r["external_id"]: r for r in cli("licences", "list", "--json").json}
    assert licences["200100"]["quantity"] == 10
    assert licences["200101"]["active"] is False
