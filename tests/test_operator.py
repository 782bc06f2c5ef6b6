"""The operator's experience (issue 16): scriptable --json, exit codes, one-line errors, secrets read only
when needed, YAML read safely, Ctrl-C, progress, fitted tables, validation of what a person types."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from rich.cells import cell_len

from plugins.also import sandbox as sb

ROOT = Path(__file__).resolve().parent.parent


_spawned: list[subprocess.Popen[str]] = []


def spawn(*args: str, **kwargs) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", *args], cwd=ROOT, env=os.environ.copy(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    _spawned.append(proc)
    return proc


@pytest.fixture(autouse=True)
def _no_process_left_behind():
    """A failing test must not leave a daemon or a sync running."""
    yield
    while _spawned:
        proc = _spawned.pop()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def one_line(result) -> bool:
    return result.err.count("\n") == 1 and "Traceback" not in result.err


# -- --json everywhere -----------------------------------------------------------------------------

def test_test_connection_json_is_an_airbyte_style_check(cli, config, sandbox):
    result = cli("test-connection", "also", "--json")
    assert result.code == 0, result.err
    assert result.json["type"] == "CONNECTION_STATUS"
    assert result.json["connectionStatus"]["status"] == "SUCCEEDED"
    assert result.json["account"]["name"] and result.json["customers"] == 12
    sandbox.inject(operation="GetSessionToken", status=401, times=-1, message="bad credentials")
    failed = cli("test-connection", "--json")  # the only configured vendor is the default
    assert failed.code == 1
    assert failed.json["connectionStatus"]["status"] == "FAILED" and failed.json["connectionStatus"]["message"]


def test_imports_run_once_and_mapping_commands_print_one_json_document(cli, config):
    dry = cli("import", "customers", "also", "--dry-run", "--json")
    assert dry.code == 0 and dry.json["dry_run"] is True and dry.json["created"] == 11 and dry.json["plan"]
    assert cli("customers", "list", "--json").json == []
    real = cli("import", "customers", "also", "--json")
    assert real.json["status"] == "ok" and real.json["run_id"] and real.json["created"] == 11
    subs = cli("import", "subscriptions", "--json")
    assert subs.code == 0 and subs.json["entity"] == "subscriptions" and subs.json["created"] == 16
    run = cli("run", "--once", "--json")
    assert run.code == 0, run.err
    assert run.json["status"] == "ok"
    entities = run.json["integrations"]["also"]["entities"]
    assert list(entities) == ["customers", "subscriptions"] and entities["subscriptions"]["unchanged"] == 16
    added = cli("customers", "add", "Fabrikam", "--top-level", "Direct", "--json")
    assert added.json["name"] == "Fabrikam" and added.json["top_level"] == "Direct"
    removed = cli("mappings", "remove", "also", "--external-id", "100010", "--json")
    assert removed.json["external_id"] == "100010" and removed.json["customer"]
    generated = cli("mappings", "generate", "also", "--json")
    assert [m["external_id"] for m in generated.json["mapped"]] == ["100010"]
    cli("mappings", "remove", "also", "--external-id", "100010")
    mapped = cli("mappings", "add", "also", "--external-id", "100010", "--customer", "Fabrikam", "--json")
    assert mapped.code == 0 and mapped.json["checked"] == "found at the vendor"
    assert mapped.json["external_name"] == "Contoso Ltd"


def test_history_json_carries_each_integrations_last_sync_and_error(cli, config, sandbox):
    cli("run", "--once")
    sandbox.inject(operation="GetCompanies", status=500, times=-1, message="maintenance")
    cli("run", "--once")
    runs = cli("history", "--json").json
    assert runs[0]["integration"]["last_sync"].endswith("Z")
    assert "GetCompanies failed: maintenance" in runs[0]["integration"]["last_error"]


def test_licences_history_has_a_run_column(cli, config):
    cli("run", "--once")
    text = cli("licences", "history").out
    header = text.splitlines()[0].split()
    assert header[:4] == ["when", "(UTC)", "run", "customer"]
    run_id = cli("history", "--json").json[0]["id"]
    assert re.search(rf"\d\d:\d\d:\d\d\s+{run_id}\s", text.splitlines()[2])


def test_json_times_are_utc_with_z_and_money_is_a_decimal_string(cli, write_config):
    write_config(set_price_and_cost=True)
    cli("run", "--once")
    run = cli("history", "--json").json[0]
    assert run["started_at"].endswith("Z") and run["finished_at"].endswith("Z")
    lic = next(x for x in cli("licences", "list", "--json").json if x["price"] is not None)
    assert isinstance(lic["price"], str) and re.fullmatch(r"\d+\.\d{2,4}", lic["price"])
    assert cli("licences", "history", "--json").json[0]["changed_at"].endswith("Z")
    assert cli("status", "--json").json["integrations"]["also"]["last_success"].endswith("Z")


# -- exit codes ------------------------------------------------------------------------------------

def test_exit_codes_tell_stale_from_broken_config(cli, config, db, tmp_path):
    assert cli("status").code == 3  # never synced: stale
    cli("run", "--once")
    result = cli("status", "--json")
    assert result.code == 0 and result.json["ok"] is True  # usable as a container health check
    broken = tmp_path / "broken.yaml"
    broken.write_text("integrations:\n  also:\n    url: 5\n")
    assert cli("-c", str(broken), "status").code == 2
    assert cli("no-such-command").code == 2
    assert "Exit codes" in cli("--help").out and "130" in cli("--help").out


# -- one-line errors with "did you mean" -----------------------------------------------------------

def test_mistyped_command_vendor_and_key_get_did_you_mean(cli, config, write_config):
    result = cli("histroy")
    assert result.code == 2 and one_line(result) and "'history'" in result.err
    result = cli("test-connection", "alsoo")
    assert result.code == 2 and one_line(result) and "did you mean 'also'" in result.err
    assert "configured: also" in result.err
    write_config(timeout_secnds=5)
    result = cli("test-connection")
    assert result.code == 2 and one_line(result) and "did you mean 'timeout_seconds'" in result.err


def test_unknown_vendor_lists_the_configured_ones_and_mappings_list_refuses_it(cli, config):
    result = cli("mappings", "list", "foo")
    assert result.code == 2 and one_line(result)
    assert "no vendor plugin named 'foo'" in result.err and "configured: also" in result.err
    assert cli("mappings", "add", "foo", "--external-id", "1", "--customer", "x").err == result.err


def test_a_vendor_is_needed_only_when_several_are_configured(cli, write_config, also_settings, tmp_path):
    export = tmp_path / "export.json"
    export.write_text((ROOT / "config" / "westcoast-export.example.json").read_text())
    write_config(integrations={"also": also_settings, "westcoast_stub": {"file": str(export)}})
    result = cli("test-connection")
    assert result.code == 2 and "name the vendor: configured are also, westcoast_stub" in result.err


# -- secrets ---------------------------------------------------------------------------------------

def test_commands_that_do_not_talk_to_a_vendor_work_with_the_password_unset(cli, config, monkeypatch):
    cli("run", "--once")
    monkeypatch.delenv("ALSO_TEST_PASSWORD")
    for args in (("status",), ("history",), ("customers", "list"), ("licences", "list"),
                 ("mappings", "list", "also"), ("licences", "history")):
        result = cli(*args)
        assert result.code == 0, (args, result.err)
    result = cli("test-connection", "also")
    assert result.code == 2 and "ALSO_TEST_PASSWORD is not set" in result.err


@pytest.mark.parametrize("where", ["vendor", "email"])
def test_a_secret_of_the_wrong_type_is_never_echoed(cli, write_config, where):
    path = write_config(**({"password": 98765432} if where == "vendor" else {}))
    if where == "email":
        data = yaml.safe_load(path.read_text())
        data["alerts"] = {"email": {"smtp_host": "h", "from": "a@b", "to": ["c@d"], "password": 98765432}}
        path.write_text(yaml.safe_dump(data))
    result = cli("test-connection", "also")
    assert result.code == 2 and one_line(result) and "password" in result.err
    assert "98765432" not in result.err and "not shown" in result.err


# -- YAML ------------------------------------------------------------------------------------------

def test_the_readme_configuration_with_alerts_loads(cli, tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "alerts:" in b and "integrations:" in b)
    path = tmp_path / "integrator.yaml"
    path.write_text(block)
    monkeypatch.delenv("ALSO_PASSWORD", raising=False)
    result = cli("-c", str(path), "customers", "list", "--json")
    assert result.code == 0, result.err
    assert result.json == []


def test_an_alias_bomb_and_absurd_nesting_are_refused_quickly(cli, tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    deep = tmp_path / "deep.yaml"
    deep.write_text("integrations: " + "[" * 5000 + "]" * 5000 + "\n")
    for path, words in ((bomb, "expands to more than"), (deep, "nested more than")):
        started = time.monotonic()
        result = cli("-c", str(path), "status")
        assert time.monotonic() - started < 5  # the bomb took 87 s and then MemoryError
        assert result.code == 2 and one_line(result) and words in result.err


def test_an_empty_config_is_refused_and_creates_no_database(cli, tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n")
    result = cli("-c", str(path), "customers", "list")
    assert result.code == 2 and one_line(result) and "empty" in result.err
    assert not (tmp_path / "integrator.db").exists()


# -- what a person types ---------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ("history", "--limit", "-1"), ("history", "--limit", "99999999999999999999999"),
    ("status", "--max-age-hours", "nan"), ("status", "--max-age-hours", "inf"),
    ("status", "--max-age-hours", "1e300"), ("status", "--max-age-hours", "-2"),
    ("sandbox", "also", "--port", "99999"), ("sandbox", "also", "--port", "-1"),
    ("sandbox", "also", "--latency-ms", "-5"), ("sandbox", "also", "--companies", "-3"),
    ("sandbox", "pax8", "--latency-ms", "nan"), ("sandbox", "pax8", "--companies", "0"),
])
def test_absurd_numbers_are_refused_with_one_line(cli, config, args):
    result = cli(*args)
    assert result.code == 2 and one_line(result) and "internal error" not in result.err


def test_a_taken_port_is_a_usage_error_for_the_sandbox_as_for_the_console(cli, config):
    """`integrator sandbox --port N` on a taken port exited 1 (the README's table says 0, 2; `web` exits 2)."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("sandbox", "also", "--port", str(port))
    assert result.code == 2 and one_line(result) and f"127.0.0.1:{port}" in result.err


def test_quiet_run_once_prints_no_info_lines(cli, config, sandbox):
    """README: `-q` only errors. `integrator -q run --once` printed four `INFO: event=sync_...` lines."""
    quiet = cli("-q", "run", "--once")
    assert quiet.code == 0 and "INFO" not in quiet.err, quiet.err
    loud = cli("-v", "run", "--once")  # issue 25: one rule for every command, -v shows the events
    assert loud.code == 0 and "event=sync_done" in loud.err


def test_an_infinite_timeout_in_the_config_is_refused(cli, write_config):
    path = write_config()
    path.write_text(path.read_text().replace("timeout_seconds: 5", "timeout_seconds: .inf"))
    result = cli("test-connection")
    assert result.code == 2 and one_line(result) and "timeout_seconds" in result.err


def test_odd_arguments_get_one_line(cli, config, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    result = cli("demo", "--dir", str(afile))
    assert result.code == 2 and one_line(result) and "is a file" in result.err
    result = cli("customers", "add", "caf\udce9")  # what Python makes of a non-UTF-8 byte in argv
    assert result.code == 2 and one_line(result) and "not valid UTF-8" in result.err


def test_config_option_after_the_subcommand_and_verbosity_anywhere(cli, config, tmp_path, monkeypatch):
    monkeypatch.delenv("INTEGRATOR_CONFIG")
    result = cli("customers", "list", "-c", str(config), "--json")
    assert result.code == 0 and result.json == []
    literal = tmp_path / "literal.yaml"
    data = yaml.safe_load(config.read_text())
    data["integrations"]["also"]["password"] = sb.DEFAULT_PASSWORD
    literal.write_text(yaml.safe_dump(data))
    assert "is written in the file" in cli("status", "-c", str(literal)).err
    assert "is written in the file" not in cli("status", "-c", str(literal), "-q").err
    assert "configuration " in cli("-c", str(literal), "status", "-v").err


def test_a_database_url_without_its_driver_is_one_line(cli, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("database: mysql://u@localhost/psa\nintegrations: {}\n")
    result = cli("-c", str(path), "customers", "list")
    assert result.code == 2 and one_line(result) and "driver for mysql is not installed" in result.err


def test_mappings_add_checks_the_external_id_with_the_vendor(cli, config, sandbox):
    cli("customers", "add", "Fabrikam")
    result = cli("mappings", "add", "also", "--external-id", "999999", "--customer", "Fabrikam")
    assert result.code == 2 and one_line(result) and "ALSO has no company with id '999999'" in result.err
    assert cli("mappings", "list", "--json").json == []
    sandbox.inject(operation="GetSessionToken", status=503, times=-1, message="down")
    result = cli("mappings", "add", "also", "--external-id", "999999", "--customer", "Fabrikam")
    assert result.code == 0 and "could not check 999999" in result.err


def test_import_subscriptions_on_a_fresh_database_hints_to_map_customers_first(cli, config):
    result = cli("import", "subscriptions", "also")
    assert result.code == 0 and "hint: no ALSO company is mapped" in result.err
    assert "integrator import customers also" in result.err


def test_the_demo_says_what_it_skipped(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("INTEGRATOR_CONFIG", raising=False)
    result = cli("demo", "--dir", str(tmp_path / "demo"))
    assert "1 skipped" in result.out and "skip      Old Client Ltd (100019): terminated" in result.out


# -- tables ----------------------------------------------------------------------------------------

def test_tables_fit_the_terminal_with_an_ellipsis_and_east_asian_widths(cli, config, monkeypatch):
    cli("customers", "add", "株式会社東京デジタルソリューションズ International Holdings " * 2)
    cli("customers", "add", "Müller 😀 GmbH")
    monkeypatch.setenv("COLUMNS", "60")
    lines = cli("customers", "list").out.splitlines()
    assert all(cell_len(line) <= 60 for line in lines), lines
    assert any("…" in line for line in lines[2:])
    active = [cell_len(line[:line.index("yes")]) for line in lines[2:]]  # columns line up on the screen
    assert len(set(active)) == 1, lines
    wide = cli("plugins").out.splitlines()
    assert all(cell_len(line) <= 60 for line in wide)


# -- progress, logs and the daemon -----------------------------------------------------------------

def _on_a_terminal(*args: str) -> tuple[int, str]:
    import pty

    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", *args], cwd=ROOT, stdout=secondary,
                            stderr=secondary, env=os.environ.copy())
    os.close(secondary)
    screen = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    os.close(primary)
    return proc.wait(timeout=60), screen.decode(errors="replace")


def test_progress_shows_each_phase_and_log_lines_stay_on_their_own_lines(cli, config):
    code, screen = _on_a_terminal("-v", "run", "--once")
    assert code == 0, screen
    assert "customers: logging in, listing and importing companies" in screen
    assert "Listing subscriptions: customers done" in screen and "11/11" in screen
    # Every log line starts a line of its own: never glued to a bar.
    for match in re.finditer(r"integrator: INFO: event=", screen):
        before = screen[max(0, match.start() - 1):match.start()]
        assert before in ("", "\n", "\r", "\x1b[2K"[-1:], "K"), repr(screen[max(0, match.start() - 40):match.end()])
    piped = spawn("run", "--once")
    out, err = piped.communicate(timeout=60)
    assert piped.returncode == 0 and "Listing subscriptions" not in out + err


def test_the_daemon_names_its_jobs_and_logs_json_on_request(config):
    from core.cli import logs

    daemon = spawn("--log-format", "json", "-v", "run")
    lines: list[dict] = []
    assert daemon.stderr is not None
    for line in daemon.stderr:
        lines.append(json.loads(line))
        if lines[-1].get("event") == "sync_done" and lines[-1].get("entity") == "subscriptions":
            break
    daemon.send_signal(signal.SIGTERM)
    _, rest = daemon.communicate(timeout=30)
    lines += [json.loads(x) for x in rest.splitlines()]
    assert daemon.returncode == 0
    start = next(x for x in lines if x.get("event") == "daemon_start")
    assert "None" not in start["jobs"] and start["jobs"].endswith("stale-check every 1 hours")
    done = next(x for x in lines if x.get("event") == "sync_done")
    assert done["vendor"] == "also" and done["time"].endswith("Z") and isinstance(done["created"], int)
    assert logs.fields_of("event=x error='a b' n=3") == {"event": "x", "error": "a b", "n": 3}


# -- Ctrl-C ----------------------------------------------------------------------------------------

def test_ctrl_c_during_run_once_stops_at_a_safe_point_with_130(cli, write_config, sandbox, db):
    write_config(max_concurrency=2)
    assert cli("import", "customers", "also").code == 0
    sandbox.state.latency = 0.5
    proc = spawn("run", "--once")
    deadline = time.monotonic() + 30
    while db.query("SELECT count(*) FROM licences")[0][0] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert time.monotonic() - stopped < 5
    assert "stopping at the next safe point" in err and "interrupted" in err
    run = cli("history", "--json").json[0]
    assert run["status"] == "failed" and any("stopped after" in e for e in run["errors"])
    assert db.query("SELECT count(*) FROM sync_runs WHERE status='running'") == [(0,)]


def test_a_second_ctrl_c_exits_at_once(cli, config, sandbox, db):
    assert cli("import", "customers", "also").code == 0
    sandbox.state.latency = 5.0
    proc = spawn("run", "--once")
    deadline = time.monotonic() + 30
    while not db.query("SELECT count(*) FROM sync_runs WHERE status='running'")[0][0]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    assert proc.stderr is not None
    while "stopping at the next safe point" not in proc.stderr.readline():
        pass
    proc.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130 and time.monotonic() - stopped < 3
    assert "exiting now" in err


# -- running as a service, documented ---------------------------------------------------------------

def test_the_service_files_run_the_daemon_as_a_non_root_user_with_data_on_a_volume():
    docker = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER integrator", docker, re.M) and 'VOLUME ["/var/lib/integrator"]' in docker
    assert re.search(r'HEALTHCHECK .*\n.*"status", "--json"', docker)
    assert 'CMD ["--log-format", "json", "-v", "run"]' in docker
    unit = (ROOT / "deploy" / "integrator.service").read_text()
    assert "User=integrator" in unit and "ExecStart=/opt/integrator/bin/integrator --log-format json -v run" in unit
    assert "LoadCredential=" in unit and "EnvironmentFile=" in unit and "StateDirectory=integrator" in unit
    config = yaml.safe_load((ROOT / "config" / "container.example.yaml").read_text())
    assert config["database"].startswith("sqlite:////var/lib/integrator/")


def test_the_readme_documents_every_command_and_the_exit_codes(cli):
    from core.cli import cli as group

    cli("--help")  # registers the plugins' commands
    readme = (ROOT / "README.md").read_text()
    for name in group.commands:
        assert f"| `integrator {name}" in readme, name
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 130 |"):
        assert code in readme


def _leaves(command, path=()):
    import click

    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _leaves(sub, (*path, name))
    if path and (not isinstance(command, click.Group) or command.invoke_without_command):
        yield " ".join(path), command


def test_every_command_that_prints_something_takes_json(cli):
    from core.cli import cli as group

    cli("--help")
    # Serving and writing-files commands whose output is not data: the web console, the plugin scaffold.
    exempt = {"plugins new", "web", "web set-password"}
    missing = [path for path, command in _leaves(group)
               if path not in exempt and not any("--json" in p.opts for p in command.params)]
    assert missing == []


def test_sandbox_and_demo_json(cli, tmp_path, monkeypatch):
    proc = spawn("sandbox", "also", "--port", "0", "--json")
    assert proc.stdout is not None
    served = json.loads(proc.stdout.readline())
    assert served["url"].startswith("http://127.0.0.1:") and served["companies"] == 12
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=20)
    monkeypatch.delenv("INTEGRATOR_CONFIG", raising=False)
    result = cli("demo", "--dir", str(tmp_path / "demo"), "--json")
    assert result.code == 0
    assert [(r["vendor"], r["entity"]) for r in result.json["runs"]] == [
        ("also", "customers"), ("also", "subscriptions"), ("pax8", "customers"), ("pax8", "subscriptions")]
    # Pax8's five live companies: Tailspin Toys Inc. and Northwind Traders map to ALSO's customers of that name
    assert len(result.json["customers"]) == 11 + 3 and result.json["licences"]
    assert set(result.json["sandboxes"]) == {"also", "pax8"}


def test_a_password_inside_a_url_in_the_config_is_never_echoed(cli, write_config, tmp_path):
    write_config(url="ftp://api-user:s3cretpw@cloud.example.com")
    result = cli("test-connection")
    assert result.code == 2 and one_line(result) and "s3cretpw" not in result.err and "***@" in result.err
    path = tmp_path / "db.yaml"
    path.write_text("database: 'postgresql://psa:s3cretpw@db:notaport/psa'\nintegrations: {}\n")
    result = cli("-c", str(path), "customers", "list")
    assert result.code in (1, 2) and one_line(result) and "s3cretpw" not in result.err
