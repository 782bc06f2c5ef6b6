"""Secrets in URLs never reach a message, a log line or the database: webhook URLs are shown by
scheme and host only, and a password in any URL's userinfo is masked."""

from __future__ import annotations

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

from core.redact import mask_url, mask_urls_in, url_origin

SECRET_PATH = "/services/T0000/B0000/XyZsecretWebhookPath"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_alerts(config_path, alerts):
    data = yaml.safe_load(config_path.read_text())
    data["alerts"] = alerts
    config_path.write_text(yaml.safe_dump(data))


def test_the_helpers_mask_userinfo_and_keep_only_the_origin_of_a_secret_url():
    assert mask_url("https://bob:hunter2@host.example/x") == "https://bob:***@host.example/x"
    assert mask_url("https://tok3n@host.example") == "https://***@host.example"
    assert mask_url("https://host.example/a@b") == "https://host.example/a@b"
    assert mask_urls_in("cannot reach http://a:pw@h:1 and postgresql://u:p2@db/x") == (
        "cannot reach http://a:***@h:1 and postgresql://u:***@db/x")
    assert url_origin("https://hooks.slack.com" + SECRET_PATH + "?t=1") == "https://hooks.slack.com"
    assert url_origin("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080"


def test_an_unreachable_webhook_is_logged_by_scheme_and_host_only(cli, config, sandbox, caplog):
    port = closed_port()
    with_alerts(config, {"webhook_url": f"http://127.0.0.1:{port}{SECRET_PATH}?token=abc123", "timeout_seconds": 1.0})
    sandbox.inject(operation="GetCompanies", status=500, times=-1, message="down")
    with caplog.at_level(logging.DEBUG):
        result = cli("-v", "import", "customers", "also")
    assert result.code == 1
    assert f"alert webhook http://127.0.0.1:{port} failed: " in result.err
    everything = result.err + result.out + caplog.text
    assert "XyZsecretWebhookPath" not in everything and "abc123" not in everything and "T0000" not in everything


def test_a_webhook_answering_an_error_is_logged_without_its_path(cli, config, sandbox):
    class Refuse(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        with_alerts(config, {"webhook_url": f"http://127.0.0.1:{port}{SECRET_PATH}"})
        sandbox.inject(operation="GetCompanies", status=500, times=-1, message="down")
        result = cli("import", "customers", "also")
    finally:
        server.shutdown()
    assert f"alert webhook http://127.0.0.1:{port} failed: HTTP 500" in result.err
    assert "XyZsecretWebhookPath" not in result.err


def test_a_password_in_the_vendor_url_is_masked_in_messages_and_in_the_history(cli, write_config, db, caplog):
    port = closed_port()
    write_config(url=f"http://api-user:Pa55w0rdInUrl@127.0.0.1:{port}")
    with caplog.at_level(logging.DEBUG):
        result = cli("-v", "run", "--once")
    assert result.code == 1
    assert f"cannot reach ALSO at http://api-user:***@127.0.0.1:{port}: connection refused" in result.err
    stored = str(db.query("SELECT errors FROM sync_runs"))
    assert "api-user:***@" in stored
    history = cli("history", "--json")
    for text in (result.err, result.out, caplog.text, stored, history.out, history.err):
        assert "Pa55w0rdInUrl" not in text
