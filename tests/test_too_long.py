"""A value longer than its column is treated the same on SQLite and PostgreSQL (issue 21 item 9).

What a person types (a customer's name, a top level, an external id) is refused before the
database with one line and exit 2; in the console, with a message on the page. What a vendor
sends for an address or a company name is cut to the column, and compared cut, so an import with
nothing new reports nothing. CI runs these on PostgreSQL too (they use the ``db`` fixture).
"""

from __future__ import annotations

import pytest

from plugins.also.sandbox_data import _company

LONG_NAME = "Contoso " + "x" * 292  # 300 characters; names keep 255
LONG_ADDRESS = "Königsallee " + "9" * 588  # 600 characters; an address line keeps 500


def customer_names(db) -> list[str]:
    return [row[0] for row in db.query("SELECT name FROM customers ORDER BY id")]


@pytest.mark.parametrize(("args", "message"), [
    (("customers", "add", LONG_NAME), "customer name is 300 characters long; the PSA keeps at most 255"),
    (("customers", "add", "Short Ltd", "--top-level", "T" * 256),
     "--top-level is 256 characters long; the PSA keeps at most 255"),
])
def test_a_too_long_customer_is_refused_with_exit_2_and_nothing_written(cli, config, db, args, message):
    result = cli(*args)
    assert result.code == 2, (result.code, result.err)
    assert result.err.strip().splitlines() == [f"integrator: error: {message}"]
    assert customer_names(db) == []


def test_a_name_of_exactly_the_limit_is_kept_whole(cli, config, db):
    name = "N" * 255
    assert cli("customers", "add", name).code == 0
    assert customer_names(db) == [name]


def test_a_too_long_external_id_is_refused_before_the_vendor_is_asked(cli, config, sandbox, db):
    assert cli("customers", "add", "Contoso Ltd").code == 0
    for check in ((), ("--no-check",)):
        result = cli("mappings", "add", "also", "--external-id", "9" * 65, "--customer", "Contoso Ltd", *check)
        assert result.code == 2, (result.code, result.err)
        assert result.err.strip().splitlines() == [
            "integrator: error: --external-id is 65 characters long; the PSA keeps at most 64"]
    assert sandbox.state.calls.get("GetCompany", 0) == 0
    assert db.query("SELECT count(*) FROM customer_mappings")[0][0] == 0


def test_a_vendor_company_name_longer_than_the_column_is_cut_in_a_manual_mapping(cli, config, sandbox, db):
    sandbox.state.data.companies.append(_company(100040, LONG_NAME, "Main 1", "Oslo", "0150", "Norway"))
    assert cli("customers", "add", "Contoso Long").code == 0
    result = cli("mappings", "add", "also", "--external-id", "100040", "--customer", "Contoso Long")
    assert result.code == 0, result.err
    assert db.query("SELECT external_name FROM customer_mappings") == [(LONG_NAME[:255],)]


def test_a_long_vendor_address_is_cut_and_a_no_change_import_reports_nothing(cli, write_config, sandbox, db):
    write_config(update_main_site_address=True)
    assert cli("import", "customers", "also").code == 0
    sandbox.state.data.companies[0]["Address"] = LONG_ADDRESS  # Contoso Ltd (100010)
    first = cli("import", "customers", "also", "--json")
    assert first.code == 0, first.err
    assert first.json["updated"] == 1
    stored = db.query("SELECT s.address FROM sites s JOIN customers c ON c.id = s.customer_id "
                      "WHERE c.name = 'Contoso Ltd'")
    assert stored == [(LONG_ADDRESS[:500],)]
    again = cli("import", "customers", "also", "--json")
    assert again.code == 0, again.err
    assert (again.json["created"], again.json["updated"]) == (0, 0), again.json["plan"]
    assert cli("history", "--json").json[0]["updated"] == 0


def test_a_new_customer_with_a_long_address_is_created_with_it_cut(cli, config, sandbox, db):
    sandbox.state.data.companies.append(_company(100041, "Longstreet AS", LONG_ADDRESS, "Oslo", "0150", "Norway"))
    assert cli("import", "customers", "also").code == 0
    again = cli("import", "customers", "also", "--json")
    assert (again.json["created"], again.json["updated"]) == (0, 0)
    customers = {c["name"]: c for c in cli("customers", "list", "--json").json}
    assert customers["Longstreet AS"]["main_site"]["address"] == LONG_ADDRESS[:500]


def test_the_console_shows_a_message_for_a_too_long_external_id_not_an_error_page(config, sandbox, db, cli):
    from starlette.testclient import TestClient

    from core.web.app import create_app
    from core.web.security import hash_password, store_password
    from tests.web_support import CONSOLE_PASSWORD, csrf_of, flashes, log_in, make_app

    assert cli("customers", "add", "Contoso Ltd").code == 0
    app = make_app(config)
    store_password(app.sessions, hash_password(CONSOLE_PASSWORD))
    with TestClient(create_app(app), base_url="http://127.0.0.1:8780", raise_server_exceptions=False) as client:
        assert log_in(client).status_code == 303
        token = csrf_of(client.get("/mappings?vendor=also").text)
        answer = client.post("/mappings/also/add",
                             data={"csrf": token, "external_id": "9" * 65, "customer": "Contoso Ltd"})
        assert answer.status_code == 200, answer.status_code
        assert "--external-id is 65 characters long; the PSA keeps at most 64" in " ".join(flashes(answer.text))
    assert db.query("SELECT count(*) FROM customer_mappings")[0][0] == 0


def test_a_too_long_top_level_in_the_config_is_a_config_error_naming_the_key(cli, write_config, db):
    path = write_config(top_level_for_new_customers="T" * 256)
    result = cli("import", "customers", "also")
    assert result.code == 2, (result.code, result.err)
    assert len(result.err.strip().splitlines()) == 1
    assert str(path) in result.err and "top_level_for_new_customers" in result.err and "255" in result.err
