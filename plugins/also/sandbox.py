"""A loopback server that speaks ALSO's Simple API as the live service does, for tests and demos.

JSON in, JSON out, XML WCF faults, session tokens with a lifetime, MFA users, users without
reseller rights, and injectable faults and latency. ``POST /_sandbox/control`` changes the
behaviour of a running server (used by tests that drive the integrator as a subprocess).
"""

from __future__ import annotations

import json
import secrets
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

from plugins.also import sandbox_controls
from plugins.also.client import API_PATH
from plugins.also.sandbox_data import (  # noqa: F401 - the datasets, re-exported for the sandbox's users
    DEMO_SKUS,
    RESELLER_ID,
    SandboxData,
    demo_data,
    demo_tenant,
    generated_data,
    subscription,
)
from plugins.also.sandbox_invoices import answer_invoices
from plugins.also.sandbox_state import FaultRule, SandboxState, SandboxUser

DEFAULT_USERNAME = "api-user@acme-msp.example"
DEFAULT_PASSWORD = "sandbox-password"
WRONG_CREDENTIALS = "We could not sign you in. Check your username and password and try again."
MFA_MESSAGE = "Unable to get session token. Users with enabled MFA are not supported."
NO_RIGHTS = "Access denied. The user does not have permission to perform this operation."


def _fault_xml(message: str, expired: bool = False) -> bytes:
    text = escape(message)
    return (
        '<Fault xmlns="http://schemas.microsoft.com/ws/2005/05/envelope/none">'
        "<Code><Value>Sender</Value></Code>"
        f'<Reason><Text xml:lang="en-US">{text}</Text></Reason>'
        '<Detail><ServiceException xmlns="http://schemas.datacontract.org/2004/07/Nervogrid.Platform.API" '
        'xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
        f"<IsSessionExpired>{'true' if expired else 'false'}</IsSessionExpired>"
        f'<IssueToken i:nil="true"/><Message>{text}</Message></ServiceException></Detail></Fault>'
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle on, the client's delayed ACK adds ~40 ms to each.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, value: Any) -> None:
        self._send(200, json.dumps(value).encode(), "application/json; charset=utf-8")

    def _fault(self, status: int, message: str, expired: bool = False, headers: dict[str, str] | None = None) -> None:
        self._send(status, _fault_xml(message, expired), "application/xml; charset=utf-8", headers)

    def do_GET(self) -> None:  # noqa: N802
        if not sandbox_controls.handle(self, "GET", b"", loopback=_is_loopback(self.client_address[0])):
            self._send(405, b"<html><body>Method not allowed</body></html>", "text/html")

    def do_DELETE(self) -> None:  # noqa: N802
        if not sandbox_controls.handle(self, "DELETE", b"", loopback=_is_loopback(self.client_address[0])):
            self._send(405, b"<html><body>Method not allowed</body></html>", "text/html")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if sandbox_controls.handle(self, "POST", raw, loopback=_is_loopback(self.client_address[0])):
            return
        if self.path == "/_sandbox/control":
            self._control(raw)
            return
        if not self.path.startswith(API_PATH):
            self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")
            return
        operation = self.path[len(API_PATH):]
        state = self.server.state
        with state.lock:
            state.calls[operation] += 1
            state.in_flight += 1
            over = 0 < state.max_in_flight < state.in_flight
            state.throttled += over
        try:
            if over:
                self._fault(429, "Too many requests. Please slow down.")
            else:
                self._api(operation, raw)
        finally:
            with state.lock:
                state.in_flight -= 1

    def _api(self, operation: str, raw: bytes) -> None:
        state = self.server.state
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._fault(400, "The request body is not valid JSON.")
            return
        if not isinstance(body, dict):
            self._fault(400, "The request body must be a JSON object.")
            return
        account = body.get("parentAccountId")
        if state.latency:
            time.sleep(state.latency)
        rule = state.take_fault(operation, account if isinstance(account, int) else None)
        if rule is not None and self._inject(rule):
            return
        self._dispatch(operation, body)

    def _inject(self, rule: FaultRule) -> bool:
        """Apply an injected fault; False when the call should then proceed normally."""
        if rule.kind == "latency":
            time.sleep(rule.delay)
            return False
        if rule.kind == "expire":
            self.server.state.expire_all_tokens()
            return False
        if rule.kind == "reset":
            self.close_connection = True
            self.connection.close()
            return True
        if rule.kind == "html":
            page = f"<html><head><title>{rule.status}</title></head><body>Service unavailable</body></html>"
            self._send(rule.status, page.encode(), "text/html")
            return True
        if rule.kind == "text":
            self._send(rule.status, rule.message.encode(), "text/plain")
            return True
        if rule.kind == "malformed":
            self._send(200, b'[{"AccountId": 1, "CompanyName": "trunc', "application/json")
            return True
        if rule.kind == "empty":
            self._json([])
            return True
        headers = {"Retry-After": rule.retry_after} if rule.retry_after else None
        self._fault(rule.status, rule.message, headers=headers)
        return True

    def _user(self) -> SandboxUser | None:
        header = self.headers.get("Authenticate") or ""
        if not header.startswith("CCPSessionId "):
            return None
        token = header[len("CCPSessionId "):]
        state = self.server.state
        with state.lock:
            entry = state.tokens.get(token)
            if entry is None or entry[1] < time.monotonic():
                state.tokens.pop(token, None)
                return None
        return state.users.get(entry[0])

    def _dispatch(self, operation: str, body: dict[str, Any]) -> None:
        state = self.server.state
        if operation == "GetSessionToken":
            self._login(body)
            return
        user = self._user()
        if user is None:
            self._fault(500, "Session is expired or invalid. Please log in again.", expired=True)
            return
        data = state.data
        if operation == "PingPong":
            self._send(200, b"", "application/json")
        elif operation == "TerminateSessionToken":
            header = self.headers.get("Authenticate", "")
            with state.lock:
                state.tokens.pop(header[len("CCPSessionId "):], None)
            self._send(200, b"", "application/json")
        elif operation == "GetCompany":
            self._json([data.reseller] if state.company_as_array else data.reseller)
        elif operation == "GetCompanies":
            if not user.reseller_rights:
                self._fault(500, NO_RIGHTS)
                return
            parent = body.get("parentAccountId")
            if not isinstance(parent, int):
                self._fault(400, "parentAccountId is required.")
                return
            self._json([c for c in data.companies if c.get("ParentAccountId") == parent])
        elif operation == "GetSubscriptions":
            parent = body.get("parentAccountId")
            if not isinstance(parent, int):
                self._fault(400, "parentAccountId is required.")
                return
            if parent not in state.company_ids():
                self._fault(500, f"Account {parent} was not found.")
                return
            self._json(data.subscriptions.get(parent, []))
        elif operation in ("GetLatestInvoicesForPeriod", "GetLatestInvoices", "GetPreviewInvoices"):
            self._invoices(operation, body)
        else:
            self._fault(404, f"Operation {operation} is not available in the sandbox.")

    def _invoices(self, operation: str, body: dict[str, Any]) -> None:
        state = self.server.state
        with state.lock:
            answer = answer_invoices(operation, body, state.data.companies, state.data.subscriptions, state.invoice)
        if answer is None:
            self._fault(400, "year and month are required.")
        else:
            self._json(answer)

    def _login(self, body: dict[str, Any]) -> None:
        state = self.server.state
        user = state.users.get(str(body.get("username")))
        if user is None or user.password != body.get("password"):
            self._fault(500, WRONG_CREDENTIALS)
            return
        if user.mfa:
            self._fault(500, MFA_MESSAGE)
            return
        token = secrets.token_urlsafe(24) + "=="
        with state.lock:
            state.tokens[token] = (str(body["username"]), time.monotonic() + state.token_ttl)
            state.issued.append(token)
        self._json(token)

    def _control(self, raw: bytes) -> None:
        if not _is_loopback(self.client_address[0]):
            self._send(403, b"", "text/plain")
            return
        try:
            command = json.loads(raw or b"{}")
        except ValueError:
            self._send(400, b"bad control JSON", "text/plain")
            return
        state = self.server.state
        with state.lock:
            if "latency" in command:
                state.latency = float(command["latency"])
            if "token_ttl" in command:
                state.token_ttl = float(command["token_ttl"])
            if "max_in_flight" in command:
                state.max_in_flight = int(command["max_in_flight"])
            if command.get("clear_faults"):
                state.faults.clear()
            for fault in command.get("faults", []):
                state.faults.append(FaultRule(**fault))
            if isinstance(command.get("invoice"), dict):
                state.invoice.apply(command["invoice"])
            calls = dict(state.calls)
        self._json({"calls": calls})


def _is_loopback(host: str) -> bool:
    return host.startswith("127.") or host in ("::1", "localhost")


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: SandboxState, host: str = "127.0.0.1", port: int = 0,
                 tls: ssl.SSLContext | None = None) -> None:
        if not _is_loopback(host):
            raise ValueError("the sandbox serves on loopback only")
        self.state = state
        super().__init__((host, port), _Handler)
        self.scheme = "https" if tls is not None else "http"
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops a kept-alive connection (a pool closed, a test ending) is normal here,
        not a traceback on whatever stderr is current."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)

    def inject(self, **rule: Any) -> FaultRule:
        fault = FaultRule(**rule)
        with self.state.lock:
            self.state.faults.append(fault)
        return fault

    def start(self) -> SandboxServer:
        threading.Thread(target=self.serve_forever, name="also-sandbox", daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def make_state(
    data: SandboxData | None = None, username: str = DEFAULT_USERNAME, password: str = DEFAULT_PASSWORD
) -> SandboxState:
    users = {
        username: SandboxUser(password=password),
        "mfa-user@acme-msp.example": SandboxUser(password=password, mfa=True),
        "readonly@acme-msp.example": SandboxUser(password=password, reseller_rights=False),
    }
    return SandboxState(data=data or demo_data(), users=users)
