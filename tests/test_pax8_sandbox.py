"""The Pax8 sandbox behaves as the reference describes the live service: token, paging with totals,
the error envelope, quirks, the rate limit, and invoices that agree with its subscriptions."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from plugins.pax8 import sandbox as sb
from plugins.pax8.sandbox_data import demo_data, generated_data


@pytest.fixture
def server():
    srv = sb.SandboxServer(sb.make_state(), "127.0.0.1", 0).start()
    yield srv
    srv.stop()


def token(server, secret=sb.DEFAULT_CLIENT_SECRET, **extra):
    body = {"client_id": sb.DEFAULT_CLIENT_ID, "client_secret": secret, "audience": "https://api.pax8.com",
            "grant_type": "client_credentials", **extra}
    return requests.post(server.url + "/v1/token", json=body, timeout=5)


def get(server, path, **params):
    bearer = token(server).json()["access_token"]
    return requests.get(server.url + "/v1" + path, params=params, headers={"Authorization": f"Bearer {bearer}"},
                        timeout=5)


def test_the_token_endpoint_takes_a_json_body_and_refuses_bad_credentials(server):
    good = token(server).json()
    assert good["expires_in"] == 86400 and good["token_type"] == "Bearer" and good["access_token"]
    bad = token(server, secret="wrong")
    assert bad.status_code == 401 and bad.json() == {"error": "access_denied", "error_description": "Unauthorized"}
    assert token(server, grant_type="password").status_code == 400


def test_calls_without_a_valid_token_get_401_with_the_error_envelope(server):
    answer = requests.get(server.url + "/v1/companies", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert answer.status_code == 401
    assert answer.json() == {"type": "UNAUTHORIZED", "message": "Unauthorized", "instance": "/public/v1/companies",
                             "status": 401, "details": []}


def test_pages_count_from_0_and_totals_from_1():
    server = sb.SandboxServer(sb.make_state(generated_data(450, 0)), "127.0.0.1", 0).start()
    try:
        pages = [get(server, "/companies", page=n, size=200).json() for n in range(3)]
        assert [len(p["content"]) for p in pages] == [200, 200, 50]
        assert pages[2]["page"] == {"size": 200, "totalElements": 450, "totalPages": 3, "number": 2}
        assert get(server, "/companies", size=500).json()["page"]["size"] == 200, "size is clamped to 200"
        assert get(server, "/companies").json()["page"]["size"] == 10, "the default size is 10"
        assert get(server, "/companies", page=9, size=200).json()["content"] == []
        assert get(server, "/companies", status="Deleted").json()["page"] == {
            "size": 10, "totalElements": 0, "totalPages": 0, "number": 0}
    finally:
        server.stop()


def test_live_quirks_omitted_keys_mixed_dates_and_null_commitments(server):
    companies = get(server, "/companies", size=200).json()["content"]
    assert any("externalId" not in c for c in companies) and any("updatedDate" not in c for c in companies)
    assert all(None not in c.values() for c in companies), "keys without a value are omitted, not null"
    subs = get(server, "/subscriptions", size=200).json()["content"]
    assert len({len(s["startDate"]) for s in subs}) >= 4, "several date formats"
    assert any(s["commitment"] is None for s in subs) and any(s["commitment"] for s in subs)


def test_product_names_can_be_left_out_of_lists_only(server):
    server.state.list_product_names = False
    listed = get(server, "/subscriptions", size=200).json()["content"]
    assert listed and all("productName" not in s for s in listed)
    one = get(server, f"/subscriptions/{listed[0]['id']}").json()
    assert one["productName"]
    assert get(server, f"/products/{listed[0]['productId']}").json()["name"] == one["productName"]


def test_a_foreign_company_id_is_403_and_an_unknown_id_404(server):
    assert get(server, "/subscriptions", companyId="not-ours").status_code == 403
    missing = get(server, "/companies/3d0617ac-57f6-40e3-951d-e91da47a326b")
    assert missing.status_code == 404 and missing.json()["message"].startswith("Company Not Found")


def test_the_rate_limit_answers_429_with_retry_after_only_when_configured(server):
    server.state.rate_limit_per_minute = 3
    bearer = token(server).json()["access_token"]
    answers = [requests.get(server.url + "/v1/companies", headers={"Authorization": f"Bearer {bearer}"}, timeout=5)
               for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[3].json()["status"] == 429 and "Retry-After" not in answers[3].headers
    server.state.retry_after = "2"
    again = requests.get(server.url + "/v1/companies", headers={"Authorization": f"Bearer {bearer}"}, timeout=5)
    assert again.status_code == 429 and again.headers["Retry-After"] == "2"


def test_control_endpoints_change_add_and_delete_subscriptions_between_syncs(server):
    subs = get(server, "/subscriptions", size=200).json()["content"]
    first = subs[0]
    control = server.url + "/_control/subscriptions"
    changed = requests.post(control, json={"id": first["id"], "quantity": 30, "status": "Active"}, timeout=5).json()
    assert changed["quantity"] == 30
    added = requests.post(control, json={"action": "add", "companyId": first["companyId"], "quantity": 4},
                          timeout=5).json()
    assert requests.post(control, json={"action": "delete", "id": subs[1]["id"]}, timeout=5).status_code == 200
    now = {s["id"]: s for s in get(server, "/subscriptions", size=200).json()["content"]}
    assert now[first["id"]]["quantity"] == 30 and added["id"] in now and subs[1]["id"] not in now
    bad = requests.post(control, json={"id": "nope", "quantity": 1}, timeout=5)
    assert bad.status_code == 400 and "nope" in bad.json()["message"]
    switches = requests.post(server.url + "/_control/sandbox", json={"expire_tokens": True, "latency_ms": 0},
                             timeout=5)
    assert switches.status_code == 200
    assert requests.get(server.url + "/_control/stats", timeout=5).json()["tokens_issued"] >= 1


def test_invoices_agree_with_the_subscriptions_and_a_mid_month_change_splits_the_line():
    state = sb.make_state(demo_data())
    state.today = __import__("datetime").date(2026, 11, 20)
    server = sb.SandboxServer(state, "127.0.0.1", 0).start()
    try:
        active = next(s for s in state.data.subscriptions if s["status"] == "Active" and s["billingTerm"] == "Monthly")
        requests.post(server.url + "/_control/subscriptions",
                      json={"id": active["id"], "quantity": active["quantity"] + 5, "day": "2026-11-11"}, timeout=5)
        invoices = get(server, "/invoices", invoiceDateRangeStart="2026-11-01", invoiceDateRangeEnd="2026-11-30",
                       size=200).json()["content"]
        assert [i["invoiceDate"] for i in invoices] == ["2026-11-01"]
        items = get(server, f"/invoices/{invoices[0]['id']}/items", size=200).json()["content"]
        assert Decimal(str(invoices[0]["total"])) == sum(Decimal(str(i["costTotal"])) for i in items)
        mine = sorted((i for i in items if i["subscriptionId"] == active["id"]), key=lambda i: i["startPeriod"])
        assert [(i["startPeriod"], i["endPeriod"], i["quantity"]) for i in mine] == [
            ("2026-11-01", "2026-11-10", active["quantity"] - 5), ("2026-11-11", "2026-11-30", active["quantity"])]
        assert not any(i["subscriptionId"] == s["id"] for i in items for s in state.data.subscriptions
                       if s["status"].startswith("Pending") and s["status"] != "PendingCancel"), "pending: not billed"
        december = get(server, "/invoices", invoiceDateRangeStart="2026-12-01", invoiceDateRangeEnd="2026-12-31")
        assert december.json()["content"] == [], "a month's invoice is listed from its 5th"
    finally:
        server.stop()
