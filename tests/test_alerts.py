"""Alerts reach a webhook and an SMTP server on loopback when a run fails, is partial, holds back, or is stale."""

from __future__ import annotations

import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import schedule
import yaml

from core.config.file import load_config
from core.db import open_database
from core.host.plugins import get_plugin_manager
from core.sync.app import App
from core.sync.scheduler import Daemon


class Receiver(ThreadingHTTPServer):
    def __init__(self):
        self.received: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):  # noqa: N802
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                self.received.append(json.loads(body))
                handler.send_response(204)
                handler.end_headers()

            def log_message(handler, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class FakeSmtp(socketserver.ThreadingTCPServer):
    """Just enough SMTP to accept a message on loopback."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self):
        self.messages: list[str] = []
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 fake ESMTP\r\n")
                data = None
                for raw in self.rfile:
                    line = raw.decode(errors="replace")
                    if data is not None:
                        if line.rstrip("\r\n") == ".":
                            server.messages.append("".join(data))
                            data = None
                            self.wfile.write(b"250 queued\r\n")
                        else:
                            data.append(line)
                        continue
                    verb = line[:4].upper()
                    if verb == "DATA":
                        data = []
                        self.wfile.write(b"354 go on\r\n")
                    elif verb == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.shutdown()


def with_alerts(config_path, alerts):
    data = yaml.safe_load(config_path.read_text())
    data["alerts"] = alerts
    config_path.write_text(yaml.safe_dump(data))
    return config_path


def test_a_failed_run_is_posted_to_the_webhook(cli, config, sandbox, receiver):
    with_alerts(config, {"webhook_url": receiver.url})
    sandbox.inject(operation="GetCompanies", status=500, times=-1, message="maintenance")
    cli("import", "customers", "also")
    assert [a["event"] for a in receiver.received] == ["failed"]
    alert = receiver.received[0]
    assert alert["vendor"] == "also" and alert["entity"] == "customers"
    assert alert["errors"] == ["GetCompanies failed: maintenance"]


def test_a_partial_run_and_a_held_back_deactivation_are_alerted(cli, config, sandbox, receiver):
    with_alerts(config, {"webhook_url": receiver.url})
    cli("run", "--once")
    assert receiver.received == []  # a clean run says nothing
    sandbox.state.data.subscriptions[100010] = []
    cli("import", "subscriptions", "also")
    assert [a["event"] for a in receiver.received] == ["partial", "held_back"]
    assert receiver.received[1]["held_back"] == 2


def test_only_the_chosen_events_are_sent(cli, config, sandbox, receiver):
    with_alerts(config, {"webhook_url": receiver.url, "on": ["failed"]})
    sandbox.state.data.subscriptions[100010] = []
    cli("run", "--once")
    sandbox.state.data.subscriptions[100011] = []
    cli("import", "subscriptions", "also")
    assert receiver.received == []


def test_an_unreachable_webhook_never_fails_the_sync(cli, config, sandbox):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with_alerts(config, {"webhook_url": f"http://127.0.0.1:{port}/x", "timeout_seconds": 1.0})
    sandbox.inject(operation="GetCompanies", status=500, times=-1, message="down")
    result = cli("import", "customers", "also")
    assert result.code == 1 and "alert webhook" in result.err and "GetCompanies failed: down" in result.err


def test_a_stale_integration_is_alerted_once_per_episode_by_e_mail(config, sandbox):
    smtp = FakeSmtp()
    try:
        with_alerts(config, {"email": {"smtp_host": "127.0.0.1", "smtp_port": smtp.server_address[1],
                                       "from": "integrator@msp.example", "to": ["ops@msp.example"],
                                       "starttls": False}})
        pm = get_plugin_manager()
        cfg = load_config(config, pm)
        daemon = Daemon(App(cfg, pm, open_database(cfg.database_url)), schedule.Scheduler())
        assert daemon.check_stale() == ["also: never synced successfully"]
        assert daemon.check_stale() == ["also: never synced successfully"]
        assert len(smtp.messages) == 1
        assert "Subject: psa-integrator: stale: also: never synced successfully" in smtp.messages[0]
        assert "To: ops@msp.example" in smtp.messages[0]
    finally:
        smtp.shutdown()
        smtp.server_close()


def test_alert_settings_are_validated(cli, config):
    with_alerts(config, {"webhook_url": "http://alerts.example.com/hook"})
    result = cli("customers", "list")
    assert result.code == 2 and "alerts.webhook_url: plain http:// is refused" in result.err
    with_alerts(config, {"on": ["sometimes"]})
    assert "alerts.on.0" in cli("customers", "list").err
