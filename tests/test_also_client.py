"""The ALSO client against the sandbox over real HTTP on loopback."""

from __future__ import annotations

import socket
import time

import pytest

from core.errors import (
    AuthenticationError,
    MfaNotSupportedError,
    PermissionDeniedError,
    VendorFaultError,
    VendorProtocolError,
    VendorUnreachableError,
)
from plugins.also import sandbox as sb
from plugins.also.client import AlsoClient, parse_fault
from tests.processes import wait_for


def client(server, username=sb.DEFAULT_USERNAME, password=sb.DEFAULT_PASSWORD, **kw) -> AlsoClient:
    kw.setdefault("backoff", 0.01)
    kw.setdefault("retries", 3)
    kw.setdefault("timeout", 5)
    return AlsoClient(server.url, username, password, **kw)


def test_login_then_every_call_carries_the_session_header(sandbox):
    c = client(sandbox)
    c.login()
    assert c.get_company()["CompanyName"] == "Acme MSP"
    assert len(list(c.iter_companies(sb.RESELLER_ID))) == 12
    c.close()
    # After logging out the token is gone at the server too.
    assert sandbox.state.tokens == {}


def test_get_company_accepts_the_spec_array_shape_too(sandbox):
    sandbox.state.company_as_array = True
    assert client(sandbox).get_company()["AccountId"] == sb.RESELLER_ID


def test_an_expired_session_logs_in_again_once_and_repeats_the_call(sandbox):
    c = client(sandbox)
    c.login()
    sandbox.state.expire_all_tokens()
    assert len(c.get_subscriptions(100010)) == 3
    assert sandbox.state.calls["GetSessionToken"] == 2
    assert sandbox.state.calls["GetSubscriptions"] == 2


def test_a_token_past_its_lifetime_is_renewed(sandbox):
    sandbox.state.token_ttl = 0.2
    c = client(sandbox)
    list(c.iter_companies(sb.RESELLER_ID))
    wait_for(lambda: all(expiry < time.monotonic() for _, expiry in sandbox.state.tokens.values()),
             what="the token's lifetime to pass")
    assert len(list(c.iter_companies(sb.RESELLER_ID))) == 12
    assert sandbox.state.calls["GetSessionToken"] == 2


def test_429_with_retry_after_is_honoured_then_succeeds(sandbox):
    sandbox.inject(operation="GetCompanies", status=429, times=1, retry_after="1", message="Too many requests")
    c = client(sandbox)
    c.login()
    started = time.monotonic()
    assert len(list(c.iter_companies(sb.RESELLER_ID))) == 12
    assert time.monotonic() - started >= 0.9
    assert sandbox.state.calls["GetCompanies"] == 2


def test_503_then_success_is_retried_transparently(sandbox):
    sandbox.inject(operation="GetSubscriptions", status=503, times=2, message="Service busy")
    assert len(client(sandbox).get_subscriptions(100011)) == 2
    assert sandbox.state.calls["GetSubscriptions"] == 3


def test_retries_are_bounded(sandbox):
    sandbox.inject(operation="GetCompanies", status=503, times=-1, kind="html")
    c = client(sandbox, retries=2)
    with pytest.raises(VendorUnreachableError, match="kept answering GetCompanies with HTTP 503"):
        list(c.iter_companies(sb.RESELLER_ID))
    assert sandbox.state.calls["GetCompanies"] == 3


def test_a_permanent_500_fault_surfaces_with_alsos_message(sandbox):
    sandbox.inject(operation="GetSubscriptions", status=500, times=-1, message="Subscription store unavailable")
    with pytest.raises(VendorFaultError, match="^GetSubscriptions failed: Subscription store unavailable$"):
        client(sandbox).get_subscriptions(100010)
    assert sandbox.state.calls["GetSubscriptions"] == 1  # a fault is an answer, not retried


def test_wrong_password_says_to_check_the_credentials_and_never_shows_them(sandbox):
    with pytest.raises(AuthenticationError) as info:
        client(sandbox, password="not-it").login()
    message = str(info.value)
    assert "check username and password" in message and sb.WRONG_CREDENTIALS in message
    assert "not-it" not in message


def test_an_mfa_user_is_told_how_to_fix_it(sandbox):
    with pytest.raises(MfaNotSupportedError) as info:
        client(sandbox, username="mfa-user@acme-msp.example").login()
    message = str(info.value)
    assert "MFA (2FA) enabled" in message and "ALSO support" in message and "API-only user" in message
    assert "Reseller Admin" in message


def test_a_user_without_reseller_rights_is_told_which_rights(sandbox):
    c = client(sandbox, username="readonly@acme-msp.example")
    with pytest.raises(PermissionDeniedError, match="Reseller Admin"):
        list(c.iter_companies(sb.RESELLER_ID))


def test_a_closed_port_is_unreachable_with_the_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = AlsoClient(f"http://127.0.0.1:{port}", "u", "p", retries=1, backoff=0.01, timeout=2)
    expected = rf"cannot reach ALSO at http://127.0.0.1:{port}: connection refused"
    with pytest.raises(VendorUnreachableError, match=expected):
        c.login()


def test_malformed_json_is_a_protocol_error(sandbox):
    sandbox.inject(operation="GetCompanies", kind="malformed")
    with pytest.raises(VendorProtocolError, match="GetCompanies with malformed JSON"):
        list(client(sandbox).iter_companies(sb.RESELLER_ID))


def test_an_html_error_page_is_not_mistaken_for_a_fault(sandbox):
    sandbox.inject(operation="GetCompany", kind="html", status=404)
    with pytest.raises(VendorProtocolError, match="HTTP 404 and an HTML page: check that .* is the Marketplace URL"):
        client(sandbox).get_company()


def test_a_connection_reset_is_retried(sandbox):
    sandbox.inject(operation="GetSubscriptions", kind="reset", times=1)
    assert len(client(sandbox).get_subscriptions(100010)) == 3


def test_a_timeout_is_a_clear_error(sandbox):
    sandbox.inject(operation="GetCompanies", kind="latency", delay=1.5, times=-1)
    c = client(sandbox, timeout=0.3, retries=1)
    with pytest.raises(VendorUnreachableError, match=r"did not answer GetCompanies within 0.3s"):
        list(c.iter_companies(sb.RESELLER_ID))


def test_the_password_and_token_never_appear_in_reprs(sandbox):
    c = client(sandbox, password=sb.DEFAULT_PASSWORD)
    c.login()
    token = c._token.get_secret_value()
    for text in (repr(c), repr(vars(c)), str(vars(c))):
        assert token not in text and sb.DEFAULT_PASSWORD not in text


def test_fault_parsing_reads_message_and_expiry():
    body = sb._fault_xml("Session gone", expired=True)
    fault = parse_fault(body)
    assert fault is not None and fault.message == "Session gone" and fault.session_expired
    assert parse_fault(b"<html><body>nope</body></html>") is None
    assert parse_fault(b"not xml") is None


def test_a_certificate_that_does_not_verify_is_a_tls_error_and_never_ignored(tmp_path):
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a throw-away certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = sb.SandboxServer(sb.make_state(), "127.0.0.1", 0, tls=context).start()
    try:
        c = AlsoClient(server.url, sb.DEFAULT_USERNAME, sb.DEFAULT_PASSWORD, retries=1, backoff=0.01, timeout=5)
        with pytest.raises(VendorUnreachableError) as info:
            c.login()
        message = str(info.value)
        assert message.startswith("TLS verification of 127.0.0.1 failed") and "never turned off" in message
        assert server.state.calls["GetSessionToken"] == 0  # nothing was sent over the unverified connection
    finally:
        server.stop()
