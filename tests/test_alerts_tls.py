"""Alert e-mail over TLS: the SMTP server's certificate and host name are checked before any credential
is sent, against a loopback SMTP server that presents a self-signed certificate for "localhost"."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

import pytest
import yaml

DATA = Path(__file__).parent / "data"
CERT = DATA / "smtp_localhost.pem"  # self-signed, CN and subjectAltName DNS:localhost, a test-only key
KEY = DATA / "smtp_localhost.key"
SMTP_PASSWORD = "smtp-secret-Zq81"


class TlsSmtp:
    """Just enough ESMTP on loopback, with STARTTLS (or TLS from the first byte), recording every
    command it receives and every byte in the clear, so a test can tell whether AUTH was sent."""

    def __init__(self, implicit_tls: bool = False):
        self.implicit_tls = implicit_tls
        self.commands: list[str] = []
        self.raw = bytearray()
        self.messages: list[str] = []
        self.handshake_errors: list[str] = []
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(CERT, KEY)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            try:
                self._session(conn)
            except (OSError, ssl.SSLError) as exc:
                self.handshake_errors.append(str(exc))
            finally:
                conn.close()
                self.done.set()

    def _session(self, conn: socket.socket) -> None:
        if self.implicit_tls:
            conn = self.context.wrap_socket(conn, server_side=True)
        reader = conn.makefile("rb")
        conn.sendall(b"220 localhost ESMTP\r\n")
        while True:
            raw = reader.readline()
            if not raw:
                return
            self.raw += raw
            line = raw.decode(errors="replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            self.commands.append(verb)
            if verb in ("EHLO", "HELO"):
                starttls = b"" if self.implicit_tls or isinstance(conn, ssl.SSLSocket) else b"250-STARTTLS\r\n"
                conn.sendall(b"250-localhost\r\n" + starttls + b"250 AUTH PLAIN LOGIN\r\n")
            elif verb == "STARTTLS":
                conn.sendall(b"220 go ahead\r\n")
                conn = self.context.wrap_socket(conn, server_side=True)
                reader = conn.makefile("rb")
            elif verb == "AUTH":
                conn.sendall(b"235 ok\r\n")
            elif verb == "DATA":
                conn.sendall(b"354 go on\r\n")
                body = []
                while (part := reader.readline()) not in (b".\r\n", b""):
                    body.append(part.decode(errors="replace"))
                self.messages.append("".join(body))
                conn.sendall(b"250 queued\r\n")
            elif verb == "QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 ok\r\n")


@pytest.fixture
def smtp():
    server = TlsSmtp()
    yield server
    server.close()


def email_alerts(config_path: Path, host: str, port: int, **extra: object) -> None:
    data = yaml.safe_load(config_path.read_text())
    data["alerts"] = {"timeout_seconds": 5.0, "email": {
        "smtp_host": host, "smtp_port": port, "from": "integrator@msp.example", "to": ["ops@msp.example"],
        "username": "integrator", "password": "${SMTP_TEST_PASSWORD}", **extra}}
    config_path.write_text(yaml.safe_dump(data))


def failed_import(cli, sandbox):
    sandbox.inject(operation="GetCompanies", status=500, times=-1, message="down")
    return cli("import", "customers", "also")


def alert_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "alert e-mail" in line]


@pytest.fixture(autouse=True)
def smtp_password(monkeypatch):
    monkeypatch.setenv("SMTP_TEST_PASSWORD", SMTP_PASSWORD)


def test_a_self_signed_certificate_is_refused_and_no_credential_is_sent(cli, config, sandbox, smtp):
    email_alerts(config, "localhost", smtp.port)
    result = failed_import(cli, sandbox)
    assert result.code == 1
    lines = alert_lines(result.err)
    assert len(lines) == 1, result.err
    assert "certificate" in lines[0] and "alerts.email.ca_file" in lines[0]
    assert "Traceback" not in result.err
    assert "AUTH" not in smtp.commands and SMTP_PASSWORD.encode() not in smtp.raw
    assert smtp.messages == []


def test_a_trusted_certificate_delivers_the_alert_after_starttls(cli, config, sandbox, smtp):
    email_alerts(config, "localhost", smtp.port, ca_file=str(CERT))
    result = failed_import(cli, sandbox)
    assert alert_lines(result.err) == [], result.err
    assert smtp.commands.index("STARTTLS") < smtp.commands.index("AUTH")
    assert len(smtp.messages) == 1 and "Subject: psa-integrator: failed" in smtp.messages[0]
    assert SMTP_PASSWORD.encode() not in smtp.raw[: smtp.raw.find(b"STARTTLS")]


def test_the_host_name_is_checked(cli, config, sandbox, smtp):
    # The right certificate, but it names "localhost" and the alert goes to 127.0.0.1.
    email_alerts(config, "127.0.0.1", smtp.port, ca_file=str(CERT))
    result = failed_import(cli, sandbox)
    lines = alert_lines(result.err)
    assert len(lines) == 1 and "127.0.0.1" in lines[0] and "certificate" in lines[0], result.err
    assert "AUTH" not in smtp.commands and smtp.messages == []


def test_tls_from_the_first_byte(cli, config, sandbox):
    server = TlsSmtp(implicit_tls=True)
    try:
        email_alerts(config, "localhost", server.port, tls="ssl")
        lines = alert_lines(failed_import(cli, sandbox).err)
        assert len(lines) == 1 and "certificate" in lines[0]
        assert server.commands == [] and server.messages == []

        email_alerts(config, "localhost", server.port, tls="ssl", ca_file=str(CERT))
        result = failed_import(cli, sandbox)
        assert alert_lines(result.err) == [], result.err
        assert "AUTH" in server.commands and len(server.messages) == 1
    finally:
        server.close()


def test_a_server_without_starttls_gets_no_credential(cli, config, sandbox):
    import socketserver

    commands: list[str] = []

    class Plain(socketserver.StreamRequestHandler):
        def handle(self):
            self.wfile.write(b"220 plain ESMTP\r\n")
            for raw in self.rfile:
                commands.append(raw.decode(errors="replace").split(" ", 1)[0].strip().upper())
                if commands[-1] == "QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                self.wfile.write(b"250-plain\r\n250 AUTH PLAIN\r\n" if commands[-1] == "EHLO" else b"250 ok\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Plain)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        email_alerts(config, "localhost", server.server_address[1])
        lines = alert_lines(failed_import(cli, sandbox).err)
        assert len(lines) == 1 and "STARTTLS" in lines[0]
        assert "AUTH" not in commands
    finally:
        server.shutdown()
        server.server_close()


def test_tls_settings_are_validated(cli, config):
    email_alerts(config, "smtp.example.com", 587, tls="none")
    result = cli("customers", "list")
    assert result.code == 2 and "alerts.email.tls" in result.err
    email_alerts(config, "smtp.example.com", 587, tls="sometimes")
    assert cli("customers", "list").code == 2
    email_alerts(config, "smtp.example.com", 587, ca_file="/nonexistent/ca.pem")
    result = cli("customers", "list")
    assert result.code == 2 and "alerts.email.ca_file" in result.err
    email_alerts(config, "smtp.example.com", 587, starttls=True)  # the older spelling still works
    assert cli("customers", "list").code == 0
