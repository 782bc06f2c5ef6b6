"""`integrator test-connection also`: who it is connected as, or one actionable line."""

from __future__ import annotations

import socket

from plugins.also import sandbox as sb


def test_connects_to_the_sandbox_and_names_the_reseller(cli, config):
    result = cli("test-connection", "also")
    assert result.code == 0, result.err
    assert result.out.strip() == "Connected to ALSO as Acme MSP (account 100001): 12 customers"


def test_wrong_password_is_one_line_and_never_shows_the_password(cli, write_config, monkeypatch):
    write_config()
    monkeypatch.setenv("ALSO_TEST_PASSWORD", "Wr0ng-Pa55")
    result = cli("test-connection", "also")
    assert result.code == 1
    assert result.err.count("\n") == 1 and "check username and password" in result.err
    assert "Wr0ng-Pa55" not in result.err + result.out and "Traceback" not in result.err


def test_mfa_account(cli, write_config):
    write_config(username="mfa-user@acme-msp.example")
    result = cli("test-connection", "also")
    assert result.code == 1 and "MFA (2FA) enabled" in result.err and result.err.count("\n") == 1


def test_user_without_reseller_rights(cli, write_config):
    write_config(username="readonly@acme-msp.example")
    result = cli("test-connection", "also")
    assert result.code == 1 and "Reseller Admin" in result.err


def test_unreachable_url(cli, write_config):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    write_config(url=f"http://127.0.0.1:{port}", retries=0)
    result = cli("test-connection", "also")
    assert result.code == 1
    assert f"cannot reach ALSO at http://127.0.0.1:{port}: connection refused" in result.err


def test_a_permanent_fault_names_the_operation_and_alsos_message(cli, config, sandbox):
    sandbox.inject(operation="GetCompanies", status=500, times=-1, message="Backend unavailable")
    result = cli("test-connection", "also")
    assert result.code == 1 and "GetCompanies failed: Backend unavailable" in result.err


def test_malformed_answer(cli, config, sandbox):
    sandbox.inject(operation="GetCompany", kind="malformed")
    result = cli("test-connection", "also")
    assert result.code == 1 and "malformed JSON" in result.err and "Traceback" not in result.err


def test_an_html_page_instead_of_the_api(cli, config, sandbox):
    sandbox.inject(operation="GetSessionToken", kind="html", status=404)
    result = cli("test-connection", "also")
    assert result.code == 1 and "HTML page" in result.err


def test_the_password_is_never_printed_even_on_success(cli, config):
    result = cli("-v", "test-connection", "also")
    assert sb.DEFAULT_PASSWORD not in result.out + result.err
