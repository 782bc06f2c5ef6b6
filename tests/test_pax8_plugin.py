"""The Pax8 plugin against its sandbox, driven from the command line as a user would (issue 23's
"must show"): the interface's rules, paging, a token expiring mid-run, a 429 storm, one company's
listing failing, and both vendors in one `run --once`."""

from __future__ import annotations

import time
from typing import Any

import pytest
import yaml

from plugins.pax8 import sandbox as sb
from plugins.pax8.sandbox_data import PRODUCTS, generated_data, subscription


@pytest.fixture
def pax8():
    server = sb.SandboxServer(sb.make_state(), "127.0.0.1", 0).start()
    yield server
    server.stop()


def settings(server: sb.SandboxServer, **extra: Any) -> dict[str, Any]:
    return {"url": server.url, "client_id": sb.DEFAULT_CLIENT_ID, "client_secret": "${PAX8_TEST_SECRET}",
            "top_level_for_new_customers": "Pax8 Customers", "set_price_and_cost": True, "retries": 3,
            "backoff_seconds": 0.01, "timeout_seconds": 5, "requests_per_minute": 100_000,
            "integrator": {"enabled": True, "entities_to_sync": ["customers", "subscriptions"]}, **extra}


@pytest.fixture
def use(write_config, monkeypatch):
    monkeypatch.setenv("PAX8_TEST_SECRET", sb.DEFAULT_CLIENT_SECRET)

    def write(server: sb.SandboxServer, **extra: Any):
        return write_config({"pax8": settings(server, **extra)})

    return write


def licences(cli) -> dict[str, dict[str, Any]]:
    return {lic["external_id"]: lic for lic in cli("licences", "list", "--json").json if lic["vendor"] == "pax8"}


def stats(server: sb.SandboxServer) -> dict[str, int]:
    with server.state.lock:
        return dict(server.state.calls)


def test_run_once_follows_the_interfaces_rules(cli, use, pax8):
    use(pax8)
    result = cli("run", "--once")
    assert result.code == 0, result.err
    customers = {c["name"]: c for c in cli("customers", "list", "--json").json}
    assert "Old Client LLC" not in customers, "a Deleted company is not created"
    assert customers["Northwind Traders"]["top_level"] == "Pax8 Customers", "Inactive (no contact yet) is live"
    assert customers["Contoso Dental"]["main_site"] == {"address": "100 Main St", "city": "Denver",
                                                        "postcode": "80202", "country": "US"}
    assert customers["Contoso Dental"]["top_level"] == "Pax8 Customers"
    by_status = {(lic["customer"], lic["status"]): lic for lic in licences(cli).values()}
    active = {status for (_, status), lic in by_status.items() if lic["active"]}
    inactive = {status for (_, status), lic in by_status.items() if not lic["active"]}
    assert active == {"Active", "Trial", "PendingCancel"}
    assert inactive == {"Cancelled", "Converted", "PendingManual", "WaitingForDetails"}
    premium = next(lic for lic in licences(cli).values() if lic["name"] == "Microsoft 365 Business Premium")
    assert (premium["customer"], premium["quantity"], premium["price"], premium["cost"], premium["currency"]) == (
        "Contoso Dental", 18, "22.00", "18.70", "USD")
    assert premium["billing_cycle"] == "Annual" and premium["commitment_months"] == 12
    assert premium["end_date"] == "2025-02-28", "no endDate: the commitment's end"
    assert all(len(lic["external_id"]) == 36 for lic in licences(cli).values()), "Pax8's UUIDs, as strings"


def test_a_pending_subscription_becomes_active_when_pax8_activates_it(cli, use, pax8):
    use(pax8)
    assert cli("run", "--once").code == 0
    pending = next(s for s in pax8.state.data.subscriptions if s["status"] == "PendingManual")
    assert licences(cli)[pending["id"]]["active"] is False
    pending["status"] = "Active"
    assert cli("run", "--once").code == 0
    assert licences(cli)[pending["id"]]["active"] is True


def test_paging_across_several_pages_of_companies_and_of_one_companys_subscriptions(cli, use):
    data = generated_data(450, 1)
    big = data.companies[7]["id"]
    data.subscriptions += [subscription(big, PRODUCTS[i % len(PRODUCTS)], 1 + i % 9, key=f"extra-{i}", price=5.0,
                                        cost=4.0, n=i) for i in range(430)]
    data.reindex()
    server = sb.SandboxServer(sb.make_state(data), "127.0.0.1", 0).start()
    try:
        use(server, max_concurrency=16)
        result = cli("run", "--once")
        assert result.code == 0, result.err
        calls = stats(server)
        assert calls["GET /companies"] == 3 + 1, "three pages of 200 (and the connection check)"
        assert calls["GET /subscriptions"] == 449 + 3, "one page per company, three for the big one"
        assert len(cli("customers", "list", "--json").json) == 450
        held = [lic for lic in licences(cli).values() if lic["customer"] == data.companies[7]["name"]]
        assert len(held) == 431
    finally:
        server.stop()


def test_a_token_expiring_mid_run_gets_exactly_one_new_token(cli, use):
    server = sb.SandboxServer(sb.make_state(generated_data(60, 3)), "127.0.0.1", 0).start()
    try:
        use(server, max_concurrency=8)
        server.fault("/subscriptions", kind="expire", times=1, page=0, company=server.state.data.companies[20]["id"])
        result = cli("run", "--once")
        assert result.code == 0, result.err
        assert len(server.state.issued) == 2, "the first token, and one new one for every thread that saw the 401"
        assert len(licences(cli)) == 180
    finally:
        server.stop()


def test_a_429_storm_is_ridden_out_and_retry_after_is_honoured(cli, use):
    server = sb.SandboxServer(sb.make_state(generated_data(40, 2)), "127.0.0.1", 0).start()
    try:
        use(server, max_concurrency=8, retries=8)
        server.fault("/subscriptions", status=429, times=25)
        result = cli("run", "--once")
        assert result.code == 0, result.err
        assert len(licences(cli)) == 80 and server.state.faults[0].times == 0
        server.fault("/companies", status=429, times=1, retry_after="1")
        started = time.monotonic()
        assert cli("import", "customers", "pax8").code == 0
        assert time.monotonic() - started >= 0.9, "the Retry-After second was waited"
    finally:
        server.stop()


def test_one_companys_listing_failing_leaves_it_untouched_and_the_run_partial(cli, use, pax8, db):
    use(pax8)
    assert cli("run", "--once").code == 0
    subs = pax8.state.data.subscriptions
    contoso, wingtip = subs[1], subs[9]  # Contoso Dental's Exchange, Wingtip's Basic
    contoso["quantity"], wingtip["quantity"] = 50, 60
    pax8.state.data.subscriptions.remove(subs[0])  # Contoso's Premium is "gone": must not be touched either
    pax8.state.data.reindex()
    pax8.fault("/subscriptions", status=500, times=-1, company=contoso["companyId"])
    before = licences(cli)
    result = cli("run", "--once")
    assert result.code == 1
    after = licences(cli)
    assert after[contoso["id"]]["quantity"] == 5
    assert {k: v for k, v in after.items() if v["customer"] == "Contoso Dental"} == \
        {k: v for k, v in before.items() if v["customer"] == "Contoso Dental"}, "nothing of it changed"
    assert after[wingtip["id"]]["quantity"] == 60
    run = cli("history", "--json").json[0]
    assert run["vendor"] == "pax8" and run["status"] == "partial"
    assert any(e.startswith(f"Contoso Dental ({contoso['companyId']}): ") for e in run["errors"]), run["errors"]


def test_product_names_are_fetched_once_per_product_per_run_when_lists_omit_them(cli, use):
    server = sb.SandboxServer(sb.make_state(generated_data(30, 7)), "127.0.0.1", 0).start()
    server.state.list_product_names = False
    try:
        use(server, max_concurrency=8)
        assert cli("run", "--once").code == 0
        assert stats(server)["GET /products/{id}"] == len(PRODUCTS)
        held = licences(cli).values()
        assert {lic["name"] for lic in held} == {p["name"] for p in PRODUCTS}
        assert {lic["sku"] for lic in held} == {p["sku"] for p in PRODUCTS}
    finally:
        server.stop()


def test_both_vendors_in_one_run_once_one_failing_the_other_still_syncs(cli, write_config, also_settings, pax8,
                                                                        monkeypatch):
    monkeypatch.setenv("PAX8_TEST_SECRET", sb.DEFAULT_CLIENT_SECRET)
    write_config({"also": {**also_settings, "password": "wrong-password"}, "pax8": settings(pax8)})
    result = cli("run", "--once")
    assert result.code == 1
    runs = cli("history", "--json").json
    assert {(r["vendor"], r["status"]) for r in runs} >= {("pax8", "ok"), ("also", "failed")}
    assert len(licences(cli)) == 10, "every subscription but the Deleted company's"
    write_config({"also": also_settings, "pax8": settings(pax8, client_id="someone-else")})
    result = cli("run", "--once")
    assert result.code == 1 and "Pax8" in result.err
    assert {lic["vendor"] for lic in cli("licences", "list", "--json").json} == {"also", "pax8"}


def test_test_connection_says_how_many_companies(cli, use, pax8):
    use(pax8)
    result = cli("test-connection", "pax8")
    assert result.code == 0 and result.out.strip() == "Connected to Pax8: 6 companies"
    use(pax8, client_id="nobody")
    refused = cli("test-connection", "pax8")
    assert refused.code == 1 and "Pax8" in refused.err and sb.DEFAULT_CLIENT_SECRET not in refused.err


def test_billing_reconcile_reads_pax8_invoices(cli, use, pax8):
    pax8.state.today = __import__("datetime").date(2026, 11, 20)
    use(pax8)
    assert cli("run", "--once").code == 0
    result = cli("billing", "reconcile", "--period", "2026-11", "--vendor", "pax8", "--json")
    assert result.code in (0, 1), result.err
    lines = result.json["lines"]
    assert lines and {line["vendor"] for line in lines} == {"pax8"}
    billed = {line["external_id"] for line in lines if line["vendor_cost"] not in (None, "0.00")}
    assert billed, "the invoice's items were matched to licences"


def test_the_sandbox_command_needs_a_vendor_name_when_several_plugins_have_one(cli, config):
    result = cli("sandbox", "--port", "0")
    assert result.code == 2 and "also, pax8" in result.err and "\n" not in result.err.strip()
    assert cli("sandbox", "pax8", "--port", "99999").code == 2
    assert "client-id" in cli("sandbox", "pax8", "--help").out


def test_the_example_config_is_valid(cli, tmp_path, monkeypatch):
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    data = yaml.safe_load((root / "config" / "pax8.example.yaml").read_text())
    data["database"] = f"sqlite:///{tmp_path / 'x.db'}"
    path = tmp_path / "pax8.yaml"
    path.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("PAX8_CLIENT_SECRET", "not-a-real-one")
    result = cli("-c", str(path), "mappings", "list", "pax8", "--json")
    assert result.code == 0, result.err


def test_the_console_shows_both_integrations_and_tests_the_pax8_one(write_config, also_settings, pax8, monkeypatch):
    from starlette.testclient import TestClient

    from core.web.app import create_app
    from core.web.security import hash_password, store_password
    from tests.web_support import CONSOLE_PASSWORD, csrf_of, flashes, log_in, make_app

    monkeypatch.setenv("PAX8_TEST_SECRET", sb.DEFAULT_CLIENT_SECRET)
    app = make_app(write_config({"also": also_settings, "pax8": settings(pax8)}))
    store_password(app.sessions, hash_password(CONSOLE_PASSWORD))
    with TestClient(create_app(app), base_url="http://127.0.0.1:8780") as client:
        assert log_in(client).status_code == 303
        page = client.get("/integrations").text
        assert "also" in page and "pax8" in page and "Test Configuration" in page
        tested = client.post("/integrations/pax8/test", data={"csrf": csrf_of(page)})
        assert "Connected to Pax8: 6 companies" in " ".join(flashes(tested.text)), flashes(tested.text)


def test_subscriptions_to_import_by_company_name_or_pax8_id(cli, use, pax8):
    contoso, wingtip = pax8.state.data.companies[0], pax8.state.data.companies[5]
    use(pax8, customer_subscriptions_to_import=["Contoso Dental", wingtip["id"]])
    assert cli("run", "--once").code == 0, cli("history", "--json").out
    assert {lic["customer"] for lic in licences(cli).values()} == {contoso["name"], wingtip["name"]}


def test_integrator_sandbox_pax8_serves_in_the_foreground_until_interrupted():
    import json
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    import requests

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "sandbox", "pax8", "--port", "0", "--json",
                             "--client-secret", "s3cret-for-test", "--no-product-names"], cwd=root,
                            env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        served = json.loads(proc.stdout.readline())  # the readiness signal: printed once it is listening
        assert served["client_id"] == sb.DEFAULT_CLIENT_ID and served["companies"] == 6
        answer = requests.post(served["url"] + "/v1/token", timeout=5, json={
            "client_id": sb.DEFAULT_CLIENT_ID, "client_secret": "s3cret-for-test", "audience": "https://api.pax8.com",
            "grant_type": "client_credentials"})
        assert answer.status_code == 200
        listed = requests.get(served["url"] + "/v1/subscriptions", timeout=5,
                              headers={"Authorization": "Bearer " + answer.json()["access_token"]}).json()
        assert listed["content"] and all("productName" not in s for s in listed["content"])
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        assert "s3cret-for-test" not in proc.stderr.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_client_paces_under_pax8s_limit_by_default():
    from plugins.pax8 import Pax8Settings, make_client

    client = make_client(Pax8Settings.model_validate({"client_id": "x", "client_secret": "y"}))
    try:
        assert client.base_url == "https://api.pax8.com/v1"
        assert client.rate is not None and client.rate.rate * 60 == 900, "a token bucket ~10% under 1,000 a minute"
        assert client.paginator.size == 200
        assert "y" not in repr(client)
    finally:
        client.close()
