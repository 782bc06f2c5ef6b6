"""A loopback server that speaks Pax8's partner API (v1) as the live service does, for tests and demos.

``POST /v1/token`` (client credentials, JSON body), bearer tokens with a lifetime, 0-based paging
with totals, the error envelope, keys without a value omitted, mixed date formats, ``productName``
left out of subscription lists when asked, a rate limit answering 429 (with or without
Retry-After), injectable faults and latency. Control endpoints (loopback only, no token):

- ``POST /_control/subscriptions``: ``{"action": "change", "id", "quantity"?, "price"?, "status"?,
  "day"?}``, ``{"action": "add", "companyId", "productId"?, "quantity", ...}`` (answers the new
  subscription), ``{"action": "delete", "id"}``: change the data between syncs;
- ``POST /_control/sandbox``: the switches (``expire_tokens``, ``token_ttl``, ``list_product_names``,
  ``rate_limit_per_minute``, ``retry_after``, ``latency_ms``, ``today``, ``faults``, ``clear_faults``);
- ``GET /_control/stats``: calls per route, tokens issued, 429s sent.
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from plugins.pax8 import sandbox_control
from plugins.pax8.sandbox_data import Fault, SandboxData, demo_data, invoice, invoice_items, invoice_months, today_utc

DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
AUDIENCE = "https://api.pax8.com"
MAX_SIZE = 200


@dataclass
class SandboxState:
    data: SandboxData
    clients: dict[str, str]
    token_ttl: float = 86400.0
    latency: float = 0.0
    list_product_names: bool = True  # False: subscription lists omit productName (GET by id keeps it)
    rate_limit_per_minute: int = 1000  # 0: no limit
    retry_after: str | None = None  # the Retry-After header of a 429, when set
    today: date | None = None  # None: the real UTC date
    faults: list[Fault] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic)
    issued: list[str] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    allowance: float = -1.0  # the rate limit's bucket; -1: full
    checked: float = field(default_factory=time.monotonic)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def current_day(self) -> date:
        return self.today or today_utc()

    def take_fault(self, path: str, query: dict[str, str]) -> Fault | None:
        with self.lock:
            for rule in self.faults:
                if rule.matches(path, query):
                    rule.times -= rule.times > 0
                    return rule
        return None

    def over_limit(self) -> bool:
        """A token bucket holding one minute's requests, refilled continuously."""
        with self.lock:
            limit = self.rate_limit_per_minute
            if limit <= 0:
                return False
            now = time.monotonic()
            if self.allowance < 0:
                self.allowance = float(limit)
            self.allowance = min(float(limit), self.allowance + (now - self.checked) * limit / 60.0)
            self.checked = now
            if self.allowance < 1:
                self.throttled += 1
                return True
            self.allowance -= 1
            return False

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()


def envelope(status: int, kind: str, message: str, path: str) -> dict[str, Any]:
    return {"type": kind, "message": message, "instance": "/public" + path, "status": status, "details": []}


ERROR_TYPES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 422: "INVALID_PARAM",
               429: "TOO_MANY_REQUESTS"}


def paged(items: list[Any], query: dict[str, str]) -> dict[str, Any]:
    """Pax8's page wrapper: 0-based ``page``, ``size`` default 10 clamped to 200, totals counting from 1."""
    page, size = max(0, int(query.get("page", "0"))), min(MAX_SIZE, max(1, int(query.get("size", "10"))))
    total = len(items)
    return {"content": items[page * size:(page + 1) * size],
            "page": {"size": size, "totalElements": total, "totalPages": math.ceil(total / size), "number": page}}


class _Handler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass

    def send_json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, text in (headers or {}).items():
            self.send_header(key, text)
        self.end_headers()
        self.wfile.write(body)

    def error(self, status: int, message: str, path: str, headers: dict[str, str] | None = None) -> None:
        self.send_json(status, envelope(status, ERROR_TYPES.get(status, "INTERNAL_SERVER_ERROR"), message, path),
                       headers)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def do_POST(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        body = self._body()
        if path.startswith("/_control/"):
            sandbox_control.handle(self, path, body)
        elif path in ("/v1/token", "/oauth/token"):
            self._token(body)
        else:
            self.error(405, "Method not allowed", path)

    def _token(self, body: Any) -> None:
        state = self.server.state
        with state.lock:
            state.calls["POST /token"] += 1
        if not isinstance(body, dict) or body.get("grant_type") != "client_credentials" \
                or body.get("audience") not in (AUDIENCE, "api://p8p.client"):
            self.send_json(400, {"error": "invalid_request", "error_description": "Bad Request"})
            return
        client_id, secret = body.get("client_id"), body.get("client_secret")
        if not isinstance(client_id, str) or state.clients.get(client_id) != secret:
            self.send_json(401, {"error": "access_denied", "error_description": "Unauthorized"})
            return
        token = secrets.token_urlsafe(24)
        with state.lock:
            state.tokens[token] = time.monotonic() + state.token_ttl
            state.issued.append(token)
        self.send_json(200, {"access_token": token, "expires_in": int(state.token_ttl), "token_type": "Bearer"})

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if path == "/_control/stats":
            sandbox_control.stats(self)
            return
        if not path.startswith("/v1/"):
            self.error(404, "Not Found", path)
            return
        state, path = self.server.state, path[3:]
        route = "/" + "/".join("{id}" if i == 1 else p for i, p in enumerate(path.strip("/").split("/")))
        with state.lock:
            state.calls["GET " + route] += 1
        if state.latency:
            time.sleep(state.latency)
        if state.over_limit():
            headers = {"Retry-After": state.retry_after} if state.retry_after else None
            self.error(429, "Too many requests", "/v1" + path, headers)
            return
        rule = state.take_fault(path, query)
        if rule is not None and rule.kind == "expire":
            state.expire_tokens()
        if not self._authorised():
            self.error(401, "Unauthorized", "/v1" + path)
            return
        if rule is not None and rule.kind == "status":
            headers = {"Retry-After": rule.retry_after} if rule.retry_after else None
            self.error(rule.status, "Injected failure", "/v1" + path, headers)
            return
        try:
            self._read(path, query)
        except ValueError:
            self.error(400, "Invalid input, please check the documentation for allowed values.", "/v1" + path)

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization") or ""
        token = header[7:] if header.startswith("Bearer ") else ""
        state = self.server.state
        with state.lock:
            expiry = state.tokens.get(token)
            if expiry is not None and expiry <= time.monotonic():
                del state.tokens[token]
                expiry = None
        return expiry is not None

    def _read(self, path: str, query: dict[str, str]) -> None:
        data, state = self.server.state.data, self.server.state
        where, segments = "/v1" + path, path.strip("/").split("/")
        head, rest = segments[0], segments[1:]
        if head == "companies" and not rest:
            rows = data.companies
            if "status" in query:
                rows = [c for c in rows if c.get("status") == query["status"]]
            self.send_json(200, paged(rows, query))
        elif head == "companies" and len(rest) == 1:
            found = next((c for c in data.companies if c["id"] == rest[0]), None)
            self._one(found, f"Company Not Found: {rest[0]}", where)
        elif head == "products" and len(rest) == 1:
            self._one(data.products.get(rest[0]), f"Product Not Found: {rest[0]}", where)
        elif head == "products" and not rest:
            self.send_json(200, paged(list(data.products.values()), query))
        elif head == "subscriptions" and not rest:
            self._subscriptions(query, where)
        elif head == "subscriptions" and len(rest) == 1:
            found = next((s for s in data.subscriptions if s["id"] == rest[0]), None)
            self._one(found, f"Subscription Not Found: {rest[0]}", where)
        elif head == "invoices":
            self._invoices(rest, query, where, state.current_day())
        else:
            self.error(404, "Not Found", where)

    def _one(self, record: dict[str, Any] | None, missing: str, where: str) -> None:
        if record is None:
            self.error(404, missing, where)
        else:
            self.send_json(200, record)

    def _subscriptions(self, query: dict[str, str], where: str) -> None:
        data = self.server.state.data
        if "companyId" in query:
            if not any(c["id"] == query["companyId"] for c in data.companies):
                self.error(403, "Invalid companyId", where)
                return
            rows = data.by_company.get(query["companyId"], [])
        else:
            rows = data.subscriptions
        for key in ("status", "productId", "billingTerm"):
            if key in query:
                rows = [s for s in rows if s.get(key) == query[key]]
        page = paged(rows, query)
        if not self.server.state.list_product_names:
            page["content"] = [{k: v for k, v in s.items() if k != "productName"} for s in page["content"]]
        self.send_json(200, page)

    def _invoices(self, rest: list[str], query: dict[str, str], where: str, today: date) -> None:
        data = self.server.state.data
        months = {invoice(data, y, m)["id"]: (y, m) for y, m in invoice_months(today)}
        if not rest:
            start, end = query.get("invoiceDateRangeStart"), query.get("invoiceDateRangeEnd")
            rows = [invoice(data, y, m) for y, m in sorted(months.values(), reverse=True)]
            rows = [r for r in rows if (not start or r["invoiceDate"] >= start) and (not end or r["invoiceDate"] <= end)
                    and query.get("invoiceDate", r["invoiceDate"]) == r["invoiceDate"]]
            self.send_json(200, paged(rows, query))
        elif rest[0] not in months:
            self.error(404, f"Invoice Not Found: {rest[0]}", where)
        elif len(rest) == 1:
            self.send_json(200, invoice(data, *months[rest[0]]))
        elif rest[1:] == ["items"]:
            self.send_json(200, paged(invoice_items(data, *months[rest[0]]), query))
        else:
            self.error(404, "Not Found", where)


def is_loopback(host: str) -> bool:
    import ipaddress

    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, state: SandboxState, host: str = "127.0.0.1", port: int = 0) -> None:
        if not is_loopback(host):
            raise ValueError(f"{host} is not a loopback address")
        self.state = state
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-answer is not worth a traceback

    def start(self) -> SandboxServer:
        threading.Thread(target=self.serve_forever, name="pax8-sandbox", daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def fault(self, path: str, **rule: Any) -> Fault:
        """Inject a fault (see :class:`Fault`); it is returned so a test can remove it."""
        fault = Fault(path=path, **rule)
        with self.state.lock:
            self.state.faults.append(fault)
        return fault


def make_state(data: SandboxData | None = None, client_id: str = DEFAULT_CLIENT_ID,
               client_secret: str = DEFAULT_CLIENT_SECRET) -> SandboxState:
    return SandboxState(data=data or demo_data(), clients={client_id: client_secret})
