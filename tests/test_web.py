"""The web console over HTTP (Starlette's TestClient): login, sessions, CSRF, rate limit, headers,
secrets, the record of actions, the one-sync-at-a-time rule, and the `integrator web` command."""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from core.db.clock import now
from core.web.app import create_app, routes
from core.web.security import ABSOLUTE_SECONDS, LoginLimiter, hash_password, read_setting, store_password
from tests.conftest import PASSWORD as SANDBOX_PASSWORD
from tests.web_support import CONSOLE_PASSWORD, csrf_of, flashes, log_in, make_app, wait_for_job


class Clock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.value = start

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def app(config):
    return make_app(config)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limiter(clock: Clock) -> LoginLimiter:
    return LoginLimiter(per_client=5, window=900, clock=clock)


@pytest.fixture
def client(app, clock, limiter) -> Iterator[TestClient]:
    store_password(app.sessions, hash_password(CONSOLE_PASSWORD))
    with TestClient(create_app(app, limiter=limiter, clock=clock), base_url="http://127.0.0.1:8780") as c:
        yield c


@pytest.fixture
def logged_in(client: TestClient) -> TestClient:
    assert log_in(client).status_code == 303
    return client


def _pages() -> list[str]:
    """Every GET route of the console but the public ones, with its parameters filled in."""
    paths = []
    for route in routes():
        if isinstance(route, Route) and "GET" in (route.methods or ()) and route.path != "/login":
            paths.append(route.path.replace("{vendor}", "also").replace("{job}", "nope"))
    return paths


def _actions() -> list[str]:
    return [r.path.replace("{vendor}", "also").replace("{entity}", "customers")
            for r in routes() if isinstance(r, Route) and r.methods == {"POST"} and r.path != "/login"]


def test_every_page_redirects_to_the_login_when_not_logged_in(client: TestClient):
    pages = _pages()
    assert {"/integrations", "/mappings", "/imports", "/licences", "/history", "/billing", "/billing.csv"} <= set(pages)
    for path in pages:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next="), path
    followed = client.get("/licences?customer=Contoso")
    assert followed.url.path == "/login" and 'name="password"' in followed.text
    assert 'value="/licences?customer=Contoso"' in followed.text  # back to the page asked for after logging in


def test_every_action_without_a_login_goes_to_the_login_and_changes_nothing(client: TestClient, app, db):
    before = db.dump(exclude=("web_actions", "web_settings"))
    for path in _actions():
        response = client.post(path, data={"external_id": "100010", "customer": "x"}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
    assert db.dump(exclude=("web_actions", "web_settings")) == before


def test_a_post_without_the_csrf_token_is_refused(logged_in: TestClient, cli, db):
    cli("customers", "add", "Contoso Ltd")
    for path in _actions():
        response = logged_in.post(path, data={"external_id": "100010", "customer": "Contoso Ltd", "mode": "start"},
                                  follow_redirects=False)
        assert response.status_code == 403, path
        assert "did not come from this console" in response.text
    wrong = logged_in.post("/mappings/also/add", data={"csrf": "forged", "external_id": "100010",
                                                       "customer": "Contoso Ltd"}, follow_redirects=False)
    assert wrong.status_code == 403
    assert db.query("SELECT count(*) FROM customer_mappings") == [(0,)]
    assert db.query("SELECT count(*) FROM sync_runs") == [(0,)]
    refused = db.query("SELECT outcome, detail FROM web_actions WHERE outcome = 'refused'")
    assert refused and all(detail == "missing or wrong CSRF token" for _, detail in refused)
    token = csrf_of(logged_in.get("/mappings").text)
    ok = logged_in.post("/mappings/also/add", data={"csrf": token, "external_id": "100010", "customer": "Contoso Ltd"})
    assert "Mapped ALSO company 100010 (Contoso Ltd) to 'Contoso Ltd'" in flashes(ok.text)
    assert db.query("SELECT external_id, source FROM customer_mappings") == [("100010", "manual")]


def test_the_login_form_itself_needs_its_csrf_token(client: TestClient):
    client.get("/login")
    response = client.post("/login", data={"password": CONSOLE_PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    assert client.get("/integrations", follow_redirects=False).status_code == 303


def test_a_wrong_password_is_refused_and_logins_are_rate_limited(client: TestClient, clock: Clock, db):
    for _ in range(5):
        response = log_in(client, "not the password")
        assert response.status_code == 401 and "Wrong password." in response.text
    blocked = log_in(client, CONSOLE_PASSWORD)  # even the right one, until the window has passed
    assert blocked.status_code == 429
    assert "Too many failed logins from this address: try again in 15 minutes." in blocked.text
    assert int(blocked.headers["retry-after"]) > 800
    assert client.get("/integrations", follow_redirects=False).status_code == 303
    clock.value += 901
    assert log_in(client, CONSOLE_PASSWORD).status_code == 303
    assert client.get("/integrations").status_code == 200
    outcomes = [row[0] for row in db.query("SELECT detail FROM web_actions WHERE action = 'login' ORDER BY id")]
    assert outcomes == ["wrong password"] * 5 + ["too many failed logins", None]


def _set_cookie(client: TestClient, value: str) -> None:
    client.cookies.clear()
    client.cookies.set("integrator_console", value)


def test_parallel_guesses_cannot_slip_past_the_rate_limit(app, limiter):
    from concurrent.futures import ThreadPoolExecutor

    asgi = create_app(app, limiter=limiter, password_hash=hash_password(CONSOLE_PASSWORD))
    clients = [TestClient(asgi, base_url="http://127.0.0.1") for _ in range(12)]
    forms = [{"csrf": csrf_of(c.get("/login").text), "password": "a guess", "next": "/"} for c in clients]
    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(lambda c, form: c.post("/login", data=form).status_code, clients, forms))
    assert sorted(codes) == [401] * 5 + [429] * 7


def test_the_session_cookie_is_signed_httponly_samesite_and_expires(logged_in: TestClient, client, clock):
    response = log_in(client)
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=3600" in cookie
    value = logged_in.cookies["integrator_console"]
    _set_cookie(logged_in, value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert logged_in.get("/integrations", follow_redirects=False).status_code == 303  # tampered: not a session
    _set_cookie(logged_in, value)
    assert logged_in.get("/integrations").status_code == 200
    clock.value += ABSOLUTE_SECONDS + 1  # a session ends 12 hours after its login, however active
    assert logged_in.get("/integrations", follow_redirects=False).status_code == 303


def test_logging_out_ends_the_session_even_for_a_copied_cookie(logged_in: TestClient):
    copied = logged_in.cookies["integrator_console"]
    token = csrf_of(logged_in.get("/integrations").text)
    assert logged_in.post("/logout", data={"csrf": token}, follow_redirects=False).headers["location"] == "/login"
    _set_cookie(logged_in, copied)
    assert logged_in.get("/integrations", follow_redirects=False).status_code == 303


def test_pages_carry_a_strict_csp_and_the_usual_security_headers(logged_in: TestClient):
    for path in ["/login", "/integrations", "/static/console.css"]:
        headers = logged_in.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
    assert logged_in.get("/integrations").headers["cache-control"] == "no-store"


def test_a_foreign_host_header_is_refused_on_loopback(app):
    asgi = create_app(app, allowed_hosts=["127.0.0.1", "localhost"], password_hash=hash_password(CONSOLE_PASSWORD))
    with TestClient(asgi, base_url="http://attacker.example:8780") as foreign:
        assert foreign.get("/login").status_code == 400
    with TestClient(asgi, base_url="http://localhost:8780") as local:
        assert local.get("/login").status_code == 200


def _secrets(app, sandbox) -> list[str]:
    return [SANDBOX_PASSWORD, CONSOLE_PASSWORD, read_setting(app.sessions, "password_hash") or "?",
            read_setting(app.sessions, "session_key") or "?", *sandbox.state.issued]


def test_no_response_ever_contains_a_secret(logged_in: TestClient, app, sandbox, cli):
    cli("customers", "add", "Contoso Group")
    seen: list[Any] = []
    get = lambda path: seen.append(logged_in.get(path)) or seen[-1]  # noqa: E731
    token = csrf_of(get("/integrations").text)
    seen.append(logged_in.post("/integrations/also/test", data={"csrf": token}))
    seen.append(logged_in.post("/mappings/also/generate", data={"csrf": token}))
    for entity in ("customers", "subscriptions"):
        for mode in ("plan", "start"):
            started = logged_in.post(f"/imports/also/{entity}", data={"csrf": token, "mode": mode},
                                     follow_redirects=False)
            wait_for_job(logged_in, started.headers["location"])
            seen.append(get(started.headers["location"]))
    for path in _pages():
        if "{" not in path and "nope" not in path:
            get(path)
    get("/billing?period=2026-11")
    get("/billing.csv?period=2026-11")
    assert sandbox.state.issued, "the console never logged in to the sandbox"
    secrets = _secrets(app, sandbox)
    for response in seen:
        text = response.text + " ".join(f"{k}: {v}" for k, v in response.headers.items() if k != "set-cookie")
        for secret in secrets:
            assert secret not in text, f"{response.url} shows a secret"
    page = logged_in.get("/integrations").text
    assert "(set, hidden)" in page and "username" in page


def test_test_configuration_shows_the_connection_line_or_the_one_line_error(logged_in: TestClient, sandbox):
    token = csrf_of(logged_in.get("/integrations").text)
    ok = logged_in.post("/integrations/also/test", data={"csrf": token})
    assert "ALSO: Connected to ALSO as Acme MSP (account 100001): 12 customers" in flashes(ok.text)
    sandbox.state.users.clear()
    bad = logged_in.post("/integrations/also/test", data={"csrf": token})
    [message] = flashes(bad.text)
    assert message.startswith("ALSO: ") and "\n" not in message and "Traceback" not in bad.text


def test_every_console_action_is_recorded_with_its_session(logged_in: TestClient, db, cli):
    cli("customers", "add", "Contoso Ltd")
    token = csrf_of(logged_in.get("/mappings").text)
    logged_in.post("/mappings/also/add", data={"csrf": token, "external_id": "100010", "customer": "Contoso Ltd"})
    logged_in.post("/mappings/also/remove", data={"csrf": token, "external_id": "100010"})
    started = logged_in.post("/imports/also/customers", data={"csrf": token, "mode": "start"}, follow_redirects=False)
    wait_for_job(logged_in, started.headers["location"])
    rows = db.query("SELECT session, action, outcome, sync_run_id FROM web_actions WHERE action <> 'login' ORDER BY id")
    sessions = {row[0] for row in rows}
    assert len(sessions) == 1 and len(sessions.pop()) == 12
    assert [(a, o) for _, a, o, _ in rows] == [
        ("mappings add also --external-id 100010 --customer 'Contoso Ltd'", "ok"),
        ("mappings remove also --external-id 100010", "ok"),
        ("import customers also", "ok")]
    assert rows[-1][3] == db.query("SELECT max(id) FROM sync_runs")[0][0]
    history = logged_in.get("/history").text
    assert "mappings remove also --external-id 100010" in history and rows[0][0] in history


def test_a_console_import_while_the_daemon_syncs_says_so_and_runs_nothing(logged_in: TestClient, db, sandbox,
                                                                           write_config):
    import subprocess
    import sys
    from pathlib import Path

    write_config(max_concurrency=1)
    sandbox.state.latency = 0.3  # the daemon's sync takes a few seconds
    daemon = subprocess.Popen([sys.executable, "-m", "core.cli", "run", "--once"], env=os.environ.copy(),
                              cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while db.query("SELECT count(*) FROM sync_runs WHERE status = 'running'") != [(1,)]:  # it holds the lock
            assert daemon.poll() is None and time.monotonic() < deadline, "the daemon's sync did not start"
            time.sleep(0.05)
        token = csrf_of(logged_in.get("/imports").text)
        started = logged_in.post("/imports/also/customers", data={"csrf": token, "mode": "start"},
                                 follow_redirects=False)
        status = wait_for_job(logged_in, started.headers["location"])
        assert f"integration 'also' is being synced by process {daemon.pid}" in status["error"]
        assert "wait for it to finish" in logged_in.get(started.headers["location"]).text
    finally:
        sandbox.state.latency = 0
        assert daemon.wait(timeout=60) == 0
    assert [row[0] for row in db.query("SELECT status FROM sync_runs")] == ["ok", "ok"]  # the daemon's two, no third
    assert db.query("SELECT outcome FROM web_actions WHERE action = 'import customers also'") == [("failed",)]


def test_the_import_flow_is_dry_run_first_then_start(logged_in: TestClient, db):
    token = csrf_of(logged_in.get("/imports").text)
    plan = logged_in.post("/imports/also/customers", data={"csrf": token, "mode": "plan"}, follow_redirects=False)
    wait_for_job(logged_in, plan.headers["location"])
    page = logged_in.get(plan.headers["location"]).text
    assert "dry run: nothing written" in page and "Contoso Ltd (100010)" in page and ">Start</button>" in page
    assert db.query("SELECT count(*) FROM customers") == [(0,)]
    start = logged_in.post("/imports/also/customers", data={"csrf": token, "mode": "start"}, follow_redirects=False)
    assert wait_for_job(logged_in, start.headers["location"])["status"] == "ok"
    assert db.query("SELECT count(*) FROM customers") == [(11,)]


def _start(client: TestClient, token: str, entity: str, **extra: str) -> str:
    started = client.post(f"/imports/also/{entity}", data={"csrf": token, "mode": "start", **extra},
                          follow_redirects=False)
    wait_for_job(client, started.headers["location"])
    return client.get(started.headers["location"]).text


def test_held_back_deactivations_are_shown_with_allow_which_needs_the_confirmation(logged_in: TestClient, db,
                                                                                   sandbox):
    token = csrf_of(logged_in.get("/imports").text)
    _start(logged_in, token, "customers")
    _start(logged_in, token, "subscriptions")
    sandbox.state.data.subscriptions[100010] = []  # the vendor's bad day: Contoso's listing comes back empty
    page = _start(logged_in, token, "subscriptions")
    assert "2 deactivations were held back" in page and ">Allow</button>" in page
    assert "hold back" in page and "Exchange Online (Plan 1) (200100)" in page
    quantities = "SELECT quantity FROM licences WHERE external_id IN ('200100', '200101') ORDER BY external_id"
    assert db.query(quantities) == [(5,), (25,)]

    unconfirmed = logged_in.post("/imports/also/subscriptions", data={"csrf": token, "mode": "start", "allow": "1"})
    assert "Tick the box to confirm that these deactivations are real." in flashes(unconfirmed.text)
    assert db.query(quantities) == [(5,), (25,)]

    page = _start(logged_in, token, "subscriptions", allow="1", confirm="yes")
    assert "held back" not in page
    assert db.query(quantities) == [(0,), (0,)]
    assert db.query("SELECT action FROM web_actions ORDER BY id DESC LIMIT 1") == [
        ("import subscriptions also --allow-mass-deactivation",)]


# -- the command ---------------------------------------------------------------------------------

def test_a_non_loopback_bind_without_tls_is_refused(cli, config):
    for args in (["--host", "0.0.0.0"], ["--host", "192.0.2.10", "--port", "0"], ["--host", "::"]):
        result = cli("web", *args)
        assert result.code == 2, args
        assert result.err.startswith("integrator: error: refusing to serve the console on ")
        assert "--certfile and --keyfile, or --behind-proxy" in result.err
    half = cli("web", "--host", "0.0.0.0", "--certfile", "cert.pem")
    assert half.code == 2 and "--certfile and --keyfile go together" in half.err


def test_with_tls_a_non_loopback_bind_is_allowed_and_a_broken_certificate_refused(cli, config, monkeypatch,
                                                                                   tmp_path):
    import shutil
    import subprocess

    calls = []
    monkeypatch.setattr("core.web.command.serve", lambda app, host, port, **kw: calls.append((host, kw)))
    (tmp_path / "junk.pem").write_text("not a certificate")
    broken = cli("web", "--host", "0.0.0.0", "--certfile", str(tmp_path / "junk.pem"),
                 "--keyfile", str(tmp_path / "junk.pem"))
    assert broken.code == 2 and broken.err.startswith("integrator: error: cannot use --certfile ") and not calls
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a throw-away certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=console.example",
                    "-days", "1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    assert cli("web", "--host", "0.0.0.0", "--certfile", str(cert), "--keyfile", str(key)).code == 0
    assert calls == [("0.0.0.0", {"certfile": str(cert), "keyfile": str(key), "behind_proxy": False,
                                  "forwarded_allow_ips": "127.0.0.1", "allowed_hosts": None})]


def test_behind_a_proxy_a_non_loopback_bind_is_allowed(cli, config, monkeypatch):
    calls = []
    monkeypatch.setattr("core.web.command.serve", lambda app, host, port, **kw: calls.append((host, port, kw)))
    assert cli("web", "--host", "0.0.0.0", "--behind-proxy").code == 0
    assert calls[0][0] == "0.0.0.0" and calls[0][2]["behind_proxy"] is True and calls[0][2]["allowed_hosts"] is None
    assert cli("web").code == 0
    assert calls[1][:2] == ("127.0.0.1", 8780) and "localhost" in calls[1][2]["allowed_hosts"]


def test_set_password_reads_one_line_from_stdin_and_ends_open_sessions(cli, config, monkeypatch, app, db):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\nignored\n"))
    result = cli("web", "set-password")
    assert result.code == 0 and "Console password set" in result.out
    assert "a long enough password" not in result.out + result.err
    stored = read_setting(app.sessions, "password_hash")
    assert stored and stored.startswith("scrypt$") and "a long enough password" not in db.dump()[0]
    with TestClient(create_app(app), base_url="http://127.0.0.1") as client:
        assert log_in(client, "a long enough password").status_code == 303
        assert client.get("/integrations", follow_redirects=False).status_code == 200
        monkeypatch.setattr("sys.stdin", io.StringIO("another long password\n"))
        assert cli("web", "set-password").code == 0  # another process, as on a server
        assert client.get("/integrations", follow_redirects=False).status_code == 303
        assert log_in(client, "a long enough password").status_code == 401
        assert log_in(client, "another long password").status_code == 303


def test_set_password_refuses_a_short_one_and_can_print_a_hash_for_the_environment(cli, config, monkeypatch, app):
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    result = cli("web", "set-password")
    assert result.code == 2 and "at least 12 characters" in result.err
    monkeypatch.setattr("sys.stdin", io.StringIO("an environment password\n"))
    printed = cli("web", "set-password", "--print-hash")
    assert printed.code == 0 and printed.out.startswith("scrypt$")
    assert read_setting(app.sessions, "password_hash") is None
    monkeypatch.setenv("INTEGRATOR_WEB_PASSWORD_HASH", printed.out.strip())
    with TestClient(create_app(app), base_url="http://127.0.0.1") as client:
        assert log_in(client, "an environment password").status_code == 303


def test_the_console_will_not_start_without_a_password(cli, config, monkeypatch):
    monkeypatch.delenv("INTEGRATOR_WEB_PASSWORD_HASH", raising=False)
    result = cli("web", "--port", "0")
    assert result.code == 2 and "no console password is set: run 'integrator web set-password'" in result.err


def test_a_second_import_of_the_same_integration_from_the_console_waits_its_turn(logged_in: TestClient, monkeypatch):
    import threading

    from core.sync.runs import RunReport

    release, entered = threading.Event(), threading.Event()

    def slow_import(app, vendor, **kwargs):
        entered.set()
        assert release.wait(30)
        return RunReport(vendor, "customers", dry_run=kwargs["dry_run"])

    monkeypatch.setattr("core.web.jobs.import_customers", slow_import)
    token = csrf_of(logged_in.get("/imports").text)
    first = logged_in.post("/imports/also/customers", data={"csrf": token, "mode": "start"}, follow_redirects=False)
    assert entered.wait(30)
    second = logged_in.post("/imports/also/subscriptions", data={"csrf": token, "mode": "plan"})
    [message] = flashes(second.text)
    assert message.startswith("the console is already running 'import customers also' (started ")
    assert logged_in.get(first.headers["location"] + "/status").json()["running"] is True
    assert 'id="progress"' in logged_in.get(first.headers["location"]).text  # the live progress, polled by script
    release.set()
    assert wait_for_job(logged_in, first.headers["location"])["status"] == "ok"


def test_billing_shows_the_months_charges_and_the_csv_is_the_commands(logged_in: TestClient, cli, write_config):
    write_config(set_price_and_cost=True)
    assert cli("import", "customers", "also").code == 0
    assert cli("import", "subscriptions", "also").code == 0
    month = now().strftime("%Y-%m")
    page = logged_in.get(f"/billing?period={month}&customer=Contoso+Ltd").text
    charges = page[page.index(f"Charges for {month}"):]
    assert "Total Contoso Ltd (EUR)" in charges and "Fabrikam" not in charges
    csv_response = logged_in.get(f"/billing.csv?period={month}&customer=Contoso+Ltd")
    assert csv_response.headers["content-disposition"] == f'attachment; filename="charges-{month}.csv"'
    expected = cli("billing", "charges", "--period", month, "--customer", "Contoso Ltd", "--csv").out
    assert csv_response.text.replace("\r\n", "\n").strip() == expected.replace("\r\n", "\n").strip()
    bad = logged_in.get("/billing?period=2026-13").text
    assert [m for m in flashes(bad) if "2026-13" in m]
    assert logged_in.get("/billing.csv?period=nonsense").status_code == 400


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_integrator_web_serves_the_console_until_stopped(config, monkeypatch, stop):
    import signal
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    monkeypatch.setenv("INTEGRATOR_WEB_PASSWORD_HASH", hash_password(CONSOLE_PASSWORD))
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "web", "--port", "0"], env=os.environ.copy(),
                            cwd=Path(__file__).resolve().parent.parent, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        lines = []
        while not lines or not lines[-1].startswith("integrator web: console at "):  # its readiness signal
            lines.append(proc.stderr.readline())
            assert lines[-1], f"integrator web ended before serving: {lines}"
        line = lines[-1]
        assert line.startswith("integrator web: console at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].split()[0]
        with urllib.request.urlopen(url + "login", timeout=10) as response:
            assert response.status == 200 and "default-src 'none'" in response.headers["content-security-policy"]
            assert 'name="password"' in response.read().decode()
    finally:
        proc.send_signal(getattr(signal, stop))
        proc.wait(timeout=30)
    assert proc.returncode == 0 and "integrator web: stopped" in proc.stderr.read()


def test_names_from_the_vendor_or_the_psa_are_shown_as_text_never_as_markup(logged_in: TestClient, cli):
    cli("customers", "add", "<script>alert(1)</script> & Co")
    for path in ("/mappings", "/licences", "/billing"):
        page = logged_in.get(path).text
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page


def test_after_the_login_it_goes_back_only_to_a_page_of_the_console(client: TestClient):
    for target, expected in [("/licences?customer=A+B", "/licences?customer=A+B"), ("//evil.example/", "/integrations"),
                             ("https://evil.example/", "/integrations"), ("/\t/evil.example", "/integrations"),
                             ("/\\evil.example", "/integrations")]:
        client.cookies.clear()
        token = csrf_of(client.get("/login").text)
        response = client.post("/login", data={"csrf": token, "password": CONSOLE_PASSWORD, "next": target},
                               follow_redirects=False)
        assert response.headers["location"] == expected, target


def test_set_password_on_a_terminal_asks_twice_without_echoing(config, app):
    import pty
    import select
    import sys
    from pathlib import Path

    def read_until(fd: int, text: str) -> str:
        seen = ""
        while text not in seen:
            ready, _, _ = select.select([fd], [], [], 30)
            assert ready, f"no {text!r} on the terminal; saw {seen!r}"
            seen += os.read(fd, 1024).decode(errors="replace")
        return seen

    pid, fd = pty.fork()
    if pid == 0:  # the child: the command, with the pseudo-terminal as its controlling terminal
        os.chdir(Path(__file__).resolve().parent.parent)
        os.execv(sys.executable, [sys.executable, "-m", "core.cli", "web", "set-password"])
    try:
        read_until(fd, "New console password")
        os.write(fd, b"typed on a terminal\n")
        read_until(fd, "Repeat for confirmation")
        os.write(fd, b"typed on a terminal\n")
        shown = read_until(fd, "Console password set")
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0 and "typed on a terminal" not in shown
    with TestClient(create_app(app), base_url="http://127.0.0.1") as client:
        assert log_in(client, "typed on a terminal").status_code == 303


def test_over_https_the_cookie_is_secure_and_hsts_is_sent(app):
    asgi = create_app(app, password_hash=hash_password(CONSOLE_PASSWORD))
    with TestClient(asgi, base_url="https://127.0.0.1") as client:
        response = log_in(client)
        assert "Secure" in response.headers["set-cookie"]
        assert client.get("/integrations").headers["strict-transport-security"] == "max-age=31536000"
    with TestClient(asgi, base_url="http://127.0.0.1") as plain:
        assert "strict-transport-security" not in plain.get("/login").headers


def test_stopping_the_console_stops_an_import_at_a_safe_point_and_records_it(write_config, sandbox, db):
    app = make_app(write_config(max_concurrency=1))
    asgi = create_app(app, password_hash=hash_password(CONSOLE_PASSWORD))
    with TestClient(asgi, base_url="http://127.0.0.1") as client:
        log_in(client)
        token = csrf_of(client.get("/imports").text)
        wait_for_job(client, client.post("/imports/also/customers", data={"csrf": token, "mode": "start"},
                                         follow_redirects=False).headers["location"])
        sandbox.state.latency = 0.2  # eleven customers, one at a time: a couple of seconds
        started = client.post("/imports/also/subscriptions", data={"csrf": token, "mode": "start"},
                              follow_redirects=False)
        deadline = time.monotonic() + 30
        while client.get(started.headers["location"] + "/status").json()["done"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    # leaving the block stops the application as uvicorn does on SIGTERM
    [(status, errors)] = db.query("SELECT status, errors FROM sync_runs WHERE entity = 'subscriptions'")
    assert status == "failed" and "the rest were left as they were" in str(errors)
    assert db.query("SELECT count(*) FROM sync_runs WHERE status = 'running'") == [(0,)]


def test_the_last_sync_reads_as_a_plain_utc_time(logged_in: TestClient, cli, sandbox):
    """It read "2026-11-26 03:38:18Z UTC": the ISO 'Z' and the word UTC both."""
    assert cli("run", "--once").code == 0
    for page in ("/integrations", "/history"):
        text = logged_in.get(page).text
        shown = re.search(r"<dt>Last sync</dt><dd>([^<]*)</dd>", text)
        assert shown and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", shown.group(1)), (page, shown)


def test_billing_without_charges_offers_no_download_but_names_it(logged_in: TestClient):
    """A month with no charges has nothing to download: the button is there (greyed) and links nowhere."""
    page = logged_in.get("/billing")
    assert page.status_code == 200
    assert "Download CSV" in page.text
    assert "/billing.csv" not in page.text
    assert 'id="download-csv" disabled' in page.text


def test_billing_page_shows_usage_and_a_subtotal_per_kind(logged_in: TestClient, cli, write_config, sandbox):
    write_config(set_price_and_cost=True)
    assert cli("import", "customers", "also").code == 0
    assert cli("import", "subscriptions", "also").code == 0
    sandbox.state.invoice.extra_charges.append(
        {"company": 100010, "account_id": 900001, "service_name": "Azure plan usage", "cost": "123.45"})
    month = now().strftime("%Y-%m")
    page = logged_in.get(f"/billing?period={month}&customer=Contoso+Ltd").text
    kinds = page[page.index('id="billing-kinds"'):]
    kinds = kinds[:kinds.index("</table>")]
    assert "usage" in kinds and "123.45" in kinds  # no markup configured: the vendor's amount
    assert "another cycle" not in page
    csv_text = logged_in.get(f"/billing.csv?period={month}&customer=Contoso+Ltd").text
    assert ",usage," in csv_text
