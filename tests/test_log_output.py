"""What commands write on stderr: with ``--log-format json`` every line is one JSON object whose level says
what happened (a failure ``error``, a partial run ``warning``); one verbosity rule for every command
(``-v`` shows INFO); ``--json`` writes nothing human on stderr unless ``-v``."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

from tests.processes import StderrLines, spawn, wait_for


def json_lines(err: str) -> list[dict[str, Any]]:
    """Every stderr line parsed; fails naming the first line that is not one JSON object."""
    events = []
    for line in err.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            raise AssertionError(f"not a JSON line on stderr: {line!r}") from None
        assert isinstance(event, dict) and {"time", "level", "message"} <= set(event), line
        events.append(event)
    return events


def test_a_failed_sync_logs_json_errors_only(cli, config, sandbox):
    sandbox.inject(operation="GetCompanies", status=500, times=-1, message="maintenance")
    result = cli("--log-format", "json", "-v", "run", "--once")
    assert result.code == 1
    events = json_lines(result.err)
    done = [e for e in events if e.get("event") == "sync_done"]
    assert done and all(e["status"] == "failed" and e["level"] == "error" for e in done), done
    failures = [e for e in events if "maintenance" in e["message"]]
    assert failures and all(e["level"] == "error" for e in failures), failures


def test_a_partial_sync_is_a_warning(cli, config, sandbox, db):
    assert cli("import", "customers", "also").code == 0
    account = min(row[0] for row in db.query("SELECT external_id FROM customer_mappings"))
    sandbox.inject(operation="GetSubscriptions", status=500, times=-1, account_id=int(account), message="broken")
    result = cli("--log-format", "json", "-v", "run", "--once")
    assert result.code == 1
    events = json_lines(result.err)
    done = [e for e in events if e.get("event") == "sync_done" and e.get("entity") == "subscriptions"]
    assert done and done[0]["status"] == "partial" and done[0]["level"] == "warning", events
    assert all(e["level"] == "warning" for e in events if "broken" in e["message"]), events


def test_usage_config_and_command_errors_are_json_lines(cli, config, tmp_path: Path):
    for args in (["import", "customers", "nosuch"], ["run", "--bogus"], ["history", "--limit", "x"]):
        result = cli("--log-format", "json", *args)
        assert result.code == 2
        (event,) = json_lines(result.err)
        assert event["level"] == "error", event
    bad = tmp_path / "bad.yaml"
    bad.write_text("database: sqlite:///x.db\nintegrations: {}\nsurprise: 1\n")
    result = cli("--log-format", "json", "-c", str(bad), "customers", "list")
    assert result.code == 2 and json_lines(result.err)[0]["level"] == "error"


def test_an_unchecked_mapping_warns_in_json(cli, config, sandbox):
    assert cli("customers", "add", "Contoso Ltd").code == 0
    sandbox.inject(operation="GetCompanies", status=500, times=-1, message="down")
    result = cli("--log-format", "json", "mappings", "add", "also", "--external-id", "100010",
                 "--customer", "Contoso Ltd")
    events = json_lines(result.err)
    assert any(e["level"] == "warning" and "could not check" in e["message"] for e in events), events


def test_the_stop_messages_are_json_lines(cli, write_config, sandbox, db):
    write_config(timeout_seconds=300)
    rule = sandbox.inject(operation="GetCompanies", kind="latency", delay=120.0, times=1)
    proc = spawn("--log-format", "json", "import", "customers", "also")
    wait_for(lambda: rule.times == 0, what="the slow listing in flight")
    lines = StderrLines(proc)
    proc.send_signal(signal.SIGINT)
    err = lines.finish(timeout=30)
    assert proc.returncode == 130
    events = json_lines(err)
    assert any("stopping" in e["message"] for e in events) and any("interrupted" in e["message"] for e in events)


# -- one verbosity rule ------------------------------------------------------------------------

def test_run_once_prints_no_info_without_v(cli, config):
    quiet = cli("run", "--once")
    assert quiet.code == 0 and "INFO" not in quiet.err, quiet.err
    loud = cli("-v", "run", "--once")
    assert "INFO: event=sync_done" in loud.err


def test_v_shows_info_for_every_command(cli, config):
    for args in (["import", "customers", "also"], ["customers", "list"], ["history"], ["licences", "list"]):
        assert "INFO" in cli("-v", *args).err, args
        assert "INFO" not in cli(*args).err, args


def test_json_writes_nothing_human_on_stderr_unless_v(cli, config, sandbox, db):
    assert cli("import", "customers", "also").code == 0
    account = min(row[0] for row in db.query("SELECT external_id FROM customer_mappings"))
    sandbox.inject(operation="GetSubscriptions", status=500, times=-1, account_id=int(account), message="broken")
    for args in (["import", "subscriptions", "also", "--json"], ["run", "--once", "--json"]):
        result = cli(*args)
        assert result.code == 1 and "broken" in result.out
        # no report, no bars, no per-record lines: only the one line that says why the exit is 1
        assert result.err.count("\n") == 1 and "broken" in result.err, (args, result.err)
        assert "broken" in cli("-v", *args).err


def test_demo_json_keeps_its_report_off_stderr(cli, tmp_path: Path, monkeypatch):
    monkeypatch.delenv("INTEGRATOR_CONFIG", raising=False)
    result = cli("demo", "--dir", str(tmp_path / "demo"), "--json")
    assert result.code == 0 and result.json["runs"]
    assert result.err == "", result.err


def test_the_service_files_ask_for_info_events():
    root = Path(__file__).resolve().parent.parent
    assert 'CMD ["--log-format", "json", "-v", "run"]' in (root / "Dockerfile").read_text()
    assert "integrator --log-format json -v run" in (root / "deploy" / "integrator.service").read_text()
