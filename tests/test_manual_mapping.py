"""A manual mapping is one core rule, whether typed in the CLI or sent from the console: the vendor is
asked whether it has the company, and the company's name is the vendor's, never the browser's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from core.web.app import create_app
from core.web.security import hash_password, store_password
from tests.web_support import CONSOLE_PASSWORD, csrf_of, flashes, log_in, make_app


@pytest.fixture
def console(config, cli) -> Iterator[TestClient]:
    cli("customers", "add", "Fabrikam")
    app = make_app(config)
    store_password(app.sessions, hash_password(CONSOLE_PASSWORD))
    with TestClient(create_app(app), base_url="http://127.0.0.1:8780") as client:
        assert log_in(client).status_code == 303
        yield client


def add(client: TestClient, **form: str) -> list[str]:
    token = csrf_of(client.get("/mappings").text)
    return flashes(client.post("/mappings/also/add", data={"csrf": token, "customer": "Fabrikam", **form}).text)


def test_the_console_asks_the_vendor_like_the_cli(console, cli, db):
    shown = add(console, external_id="999999")
    assert any("ALSO has no company with id '999999'" in line for line in shown), shown
    assert db.query("SELECT count(*) FROM customer_mappings") == [(0,)]
    refused = cli("mappings", "add", "also", "--external-id", "999999", "--customer", "Fabrikam")
    assert refused.code == 2 and "ALSO has no company with id '999999'" in refused.err


def test_the_external_name_comes_from_the_vendor_not_the_form(console, db):
    shown = add(console, external_id="100011", external_name="Anything the browser says")
    assert any("Mapped ALSO company 100011 (Fabrikam GmbH) to 'Fabrikam'" in line for line in shown), shown
    assert db.query("SELECT external_id, external_name, source FROM customer_mappings") == [
        ("100011", "Fabrikam GmbH", "manual")]


def test_an_unreachable_vendor_maps_without_a_name_and_says_so(console, sandbox, db):
    sandbox.inject(operation="GetSessionToken", status=503, times=-1, message="down")
    shown = add(console, external_id="100011", external_name="Anything the browser says")
    assert any("could not check 100011 with also" in line.lower() for line in shown), shown
    assert db.query("SELECT external_id, external_name FROM customer_mappings") == [("100011", None)]
