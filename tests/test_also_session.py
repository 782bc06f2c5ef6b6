"""The ALSO session under concurrency and faults: one login per expiry, refused logins never repeated,
throttling at login named as such. Against the sandbox over loopback, counting GetSessionToken calls."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.errors import AuthenticationError, SessionExpiredError, VendorUnreachableError
from plugins.also import sandbox as sb
from plugins.also.client import AlsoClient

COMPANIES = 160


@pytest.fixture
def big_sandbox():
    server = sb.SandboxServer(sb.make_state(sb.generated_data(COMPANIES, 2)), "127.0.0.1", 0).start()
    yield server
    server.stop()


def client(server, **kw) -> AlsoClient:
    kw.setdefault("backoff", 0.01)
    kw.setdefault("retries", 3)
    kw.setdefault("timeout", 10)
    password = kw.pop("password", sb.DEFAULT_PASSWORD)
    return AlsoClient(server.url, kw.pop("username", sb.DEFAULT_USERNAME), password, **kw)


@pytest.mark.parametrize("in_flight", [8, 32])
def test_a_session_expiring_under_many_calls_in_flight_is_renewed_by_one_login(big_sandbox, in_flight):
    c = client(big_sandbox, pool_size=in_flight)
    c.login()
    ids = [c["AccountId"] for c in big_sandbox.state.data.companies]
    big_sandbox.state.latency = 0.02  # the calls overlap: all of them meet the expired session
    big_sandbox.state.expire_all_tokens()
    start = threading.Barrier(in_flight)

    def listing(account_id: int) -> int:
        if account_id in ids[:in_flight]:
            start.wait(timeout=30)
        return len(c.get_subscriptions(account_id))

    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        counts = list(pool.map(listing, ids))
    assert counts == [2] * COMPANIES
    assert big_sandbox.state.calls["GetSessionToken"] == 2  # the first login and one for the expiry
    c.close()


@pytest.mark.parametrize("in_flight", [8, 32])
def test_a_sync_whose_session_expires_mid_run_logs_in_once_more(cli, write_config, big_sandbox, db, in_flight):
    write_config(url=big_sandbox.url, max_concurrency=in_flight)
    assert cli("import", "customers", "also").code == 0
    big_sandbox.state.latency = 0.01
    big_sandbox.state.calls.clear()
    middle = big_sandbox.state.data.companies[COMPANIES // 2]["AccountId"]
    big_sandbox.inject(operation="GetSubscriptions", kind="expire", account_id=middle)
    result = cli("import", "subscriptions", "also")
    assert result.code == 0, result.err
    assert big_sandbox.state.calls["GetSessionToken"] == 2
    assert db.query("SELECT count(*) FROM licences") == [(COMPANIES * 2,)]


def test_a_session_that_dies_right_after_each_login_is_renewed_three_more_times_then_fails(sandbox):
    c = client(sandbox, backoff=0.01)
    c.login()
    sandbox.state.token_ttl = 0  # every new token is dead on arrival
    sandbox.state.expire_all_tokens()
    with pytest.raises(SessionExpiredError, match="expired again right after logging in"):
        c.get_subscriptions(100010)
    assert sandbox.state.calls["GetSessionToken"] == 1 + 1 + 3
    assert sandbox.state.calls["GetSubscriptions"] == 5


def test_a_session_that_comes_back_after_a_second_login_succeeds(sandbox):
    c = client(sandbox)
    c.login()
    sandbox.state.expire_all_tokens()
    # The fresh token dies once more (another process logged in as the same user), then holds.
    sandbox.inject(operation="GetSubscriptions", kind="expire", times=2)
    assert len(c.get_subscriptions(100010)) == 3
    assert sandbox.state.calls["GetSessionToken"] == 3


def test_a_refused_login_is_never_repeated_by_concurrent_calls(sandbox):
    c = client(sandbox, password="wrong")
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(c.get_subscriptions, 100010) for _ in range(16)]
    messages = set()
    for future in futures:
        with pytest.raises(AuthenticationError) as info:
            future.result()
        messages.add(str(info.value))
    assert sandbox.state.calls["GetSessionToken"] == 1
    assert len(messages) == 1 and "check username and password" in messages.pop()


def test_a_run_with_a_wrong_password_logs_in_once_and_says_so_once_per_entity(cli, write_config, sandbox, db,
                                                                            monkeypatch):
    write_config()
    monkeypatch.setenv("ALSO_TEST_PASSWORD", "not-the-password")
    result = cli("run", "--once")
    assert result.code == 1
    assert sandbox.state.calls["GetSessionToken"] == 1  # customers and subscriptions: one attempt in all
    errors = [e for (e,) in db.query("SELECT errors FROM sync_runs ORDER BY id")]
    assert len(errors) == 2 and errors[0] == errors[1] and "check username and password" in str(errors[0])
    assert "not-the-password" not in result.err + result.out + str(errors)


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_at_login_says_so_not_check_the_password(sandbox, status):
    sandbox.inject(operation="GetSessionToken", status=status, times=-1, message="Too many requests")
    with pytest.raises(VendorUnreachableError) as info:
        client(sandbox, retries=3).login()
    assert str(info.value) == f"ALSO answered {status} at login after 4 tries; try again later"
    assert sandbox.state.calls["GetSessionToken"] == 4


def test_throttling_at_login_is_not_remembered_as_a_refusal(sandbox):
    sandbox.inject(operation="GetSessionToken", status=429, times=3, message="Too many requests")
    c = client(sandbox, retries=1)
    with pytest.raises(VendorUnreachableError, match="429 at login"):
        c.login()
    c.login()  # the throttle passed: the next attempt goes through
    assert c.get_company()["AccountId"] == sb.RESELLER_ID


def test_throttling_at_login_through_the_cli_names_the_status(cli, write_config, sandbox):
    write_config(retries=2)
    sandbox.inject(operation="GetSessionToken", status=429, times=-1, message="Too many requests")
    result = cli("test-connection", "also")
    assert result.code != 0
    assert "ALSO answered 429 at login after 3 tries; try again later" in result.err
    assert "password" not in result.err
