"""The two faces, the CLI and the console, only parse, call the same core service and render: the same
operation through each gives the same result (test-connection, a run's outcome as the status shows it)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from core.web.app import create_app
from core.web.security import hash_password, store_password
from tests.web_support import CONSOLE_PASSWORD, csrf_of, flashes, log_in, make_app


@pytest.fixture
def console(config) -> Iterator[TestClient]:
    app = make_app(config)
    store_password(app.sessions, hash_password(CONSOLE_PASSWORD))
    with TestClient(create_app(app), base_url="http://127.0.0.1:8780") as client:
        assert log_in(client).status_code == 303
        yield client


def _console_test(console: TestClient) -> str:
    token = csrf_of(console.get("/integrations").text)
    [message] = flashes(console.post("/integrations/also/test", data={"csrf": token}).text)
    vendor, _, said = message.partition(": ")  # the console names the integration first
    assert vendor.lower() == "also"
    return said


def test_test_connection_says_the_same_through_both_faces(cli, config, console, sandbox):
    result = cli("test-connection", "also")
    assert result.code == 0
    assert _console_test(console) == result.out.strip()
    as_json = cli("test-connection", "also", "--json").json
    assert as_json["connectionStatus"]["message"] == result.out.strip()


def test_a_failed_test_connection_says_the_same_through_both_faces(cli, config, console, sandbox):
    sandbox.state.users.clear()  # the login is refused
    result = cli("test-connection", "also")
    assert result.code != 0
    [line] = result.err.strip().splitlines()
    assert _console_test(console) == line.removeprefix("integrator: error: ")
    assert cli("test-connection", "also", "--json").json["connectionStatus"]["message"] == \
        line.removeprefix("integrator: error: ")


def _shown(page: str, label: str) -> str:
    match = re.search(rf"<dt>{label}</dt><dd[^>]*>(.*?)</dd>", page, re.S)
    assert match, f"no {label} on the page"
    return html.unescape(match.group(1)).strip()


def test_a_runs_outcome_shows_the_same_through_both_faces(cli, write_config, console, sandbox):
    config = write_config(integrator={"enabled": True})
    sandbox.state.users.clear()  # the run fails at the login
    assert cli("-c", str(config), "run", "--once").code == 1
    status = cli("-c", str(config), "status", "--json").json["integrations"]["also"]
    page = console.get("/integrations").text
    assert status["last_error"] and _shown(page, "Last error") == status["last_error"]
    assert status["last_success"] is None and _shown(page, "Last sync") == "never"
    text = cli("-c", str(config), "status").out
    assert f"last error {status['last_error']}" in text


def _console_add(console: TestClient, external_id: str, customer: str, external_name: str = "") -> str:
    token = csrf_of(console.get("/mappings").text)
    page = console.post("/mappings/also/add", data={"csrf": token, "external_id": external_id,
                                                    "customer": customer, "external_name": external_name})
    [message] = flashes(page.text)
    return message


def test_adding_a_mapping_checks_with_the_vendor_through_both_faces(cli, config, console, sandbox):
    assert cli("customers", "add", "Contoso Ltd").code == 0
    assert cli("customers", "add", "Fabrikam").code == 0
    by_cli = cli("mappings", "add", "also", "--external-id", "100010", "--customer", "Contoso Ltd")
    assert by_cli.code == 0
    # the console takes the company's name from the vendor too, never from the form
    by_console = _console_add(console, "100011", "Fabrikam", external_name="Forged Name")
    rows = {m["external_id"]: m for m in cli("mappings", "list", "also", "--json").json}
    assert rows["100010"]["external_name"] and rows["100011"]["external_name"] != "Forged Name"
    name = rows["100011"]["external_name"]
    assert by_cli.out.strip() == f"Mapped ALSO company 100010 ({rows['100010']['external_name']}) to 'Contoso Ltd'"
    assert by_console == f"Mapped ALSO company 100011 ({name}) to 'Fabrikam'"
    # an id the vendor does not have is refused by both, with the same words
    refused = cli("mappings", "add", "also", "--external-id", "999999", "--customer", "Fabrikam")
    assert refused.code == 2
    assert _console_add(console, "999999", "Fabrikam") == refused.err.strip().removeprefix("integrator: error: ")
