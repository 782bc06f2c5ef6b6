"""A loopback server that speaks ALSO's Simple API as the live service does, for tests and demos.

JSON in, JSON out, XML WCF faults, session tokens with a lifetime, MFA users, users without
reseller rights, and injectable faults and latency. ``POST /_sandbox/control`` changes the
behaviour of a running server (used by tests that drive the integrator as a subprocess).
"""

from __future__ import annotations

import json
import random
import secrets
import ssl
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

from plugins.also import sandbox_controls
from plugins.also.client import API_PATH
from plugins.also.sandbox_invoices import InvoiceControls, answer_invoices

DEFAULT_USERNAME = "api-user@acme-msp.example"
DEFAULT_PASSWORD = "sandbox-password"
WRONG_CREDENTIALS = "We could not sign you in. Check your username and password and try again."
MFA_MESSAGE = "Unable to get session token. Users with enabled MFA are not supported."
NO_RIGHTS = "Access denied. The user does not have permission to perform this operation."


@dataclass
class SandboxUser:
    password: str
    mfa: bool = False
    reseller_rights: bool = True


@dataclass
class FaultRule:
    """One injected misbehaviour. ``kind``: fault | html | text | malformed | reset | expire | empty | latency."""

    operation: str  # an operation name, or "*" for all
    kind: str = "fault"
    status: int = 500
    times: int = 1  # how many matching calls it affects; -1 = forever
    account_id: int | None = None  # only calls for this parentAccountId
    message: str = "Internal error"
    retry_after: str | None = None
    delay: float = 0.0


@dataclass
class SandboxData:
    reseller: dict[str, Any]
    companies: list[dict[str, Any]]
    subscriptions: dict[int, list[dict[str, Any]]]


@dataclass
class SandboxState:
    data: SandboxData
    users: dict[str, SandboxUser]
    token_ttl: float = 3600.0
    latency: float = 0.0
    company_as_array: bool = False  # the spec's shape; the live service answers an object
    max_in_flight: int = 0  # > 0: calls beyond this many at once are answered 429 (a rate-limited account)
    in_flight: int = 0
    throttled: int = 0  # how many 429s max_in_flight caused
    faults: list[FaultRule] = field(default_factory=list)
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)  # every token ever handed out (tests look for leaks)
    calls: Counter[str] = field(default_factory=Counter)
    invoice: InvoiceControls = field(default_factory=InvoiceControls)  # see sandbox_invoices
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_fault(self, operation: str, account: int | None) -> FaultRule | None:
        with self.lock:
            for rule in self.faults:
                if rule.operation not in ("*", operation):
                    continue
                if rule.account_id is not None and rule.account_id != account:
                    continue
                if rule.times == 0:
                    continue
                if rule.times > 0:
                    rule.times -= 1
                return rule
        return None

    def company_ids(self) -> set[Any]:
        """The companies' AccountIds, indexed once per change of the list (tests append to it)."""
        key = (id(self.data.companies), len(self.data.companies))
        if getattr(self, "_index_key", None) != key:
            self._index = {c.get("AccountId") for c in self.data.companies}
            self._index_key = key
        return self._index

    def expire_all_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()


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


# -- datasets ----------------------------------------------------------------------------------

RESELLER_ID = 100001


def _company(account_id: int, name: str, address: str | None, city: str | None, zip_: str | None,
             country: str | None, *, state: str = "Active", contract_end: str | None = None,
             email: str | None = None, domains: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "ParentAccountId": RESELLER_ID, "AccountId": account_id, "AccountState": state, "CompanyName": name,
        "VATID": "", "Domain": list(domains), "BillingStartDate": "2019-05-01T00:00:00",
        "Currency": "EUR", "Address": address, "City": city, "Country": country, "Zip": zip_,
        "Email": email, "CompanyContractEndDate": contract_end, "AccountType": "Company",
    }


#: Product numbers the demo's priceable items carry (ALSO's ProductNumber: the SKU).
DEMO_SKUS = {
    "Exchange Online (Plan 1)": "CFQ7TTC0LH16", "Exchange Online (Plan 2)": "CFQ7TTC0LH1G",
    "Microsoft 365 Business Basic": "CFQ7TTC0LH18", "Microsoft 365 Business Standard": "CFQ7TTC0LDPB",
    "Microsoft 365 Business Premium": "CFQ7TTC0LCHC", "Microsoft 365 E3": "CFQ7TTC0LFLX",
    "Microsoft Teams Essentials": "CFQ7TTC0RL5S", "Microsoft Defender for Business": "CFQ7TTC0LCHC-DFB",
    "Microsoft 365 Apps for business": "CFQ7TTC0LH1G-APB", "Exchange Online Archiving": "CFQ7TTC0LH0R",
    "Dynamics 365 Business Central Essentials": "CFQ7TTC0LH9P", "Acronis Cyber Protect Cloud": "ACR-CPC-WKS",
}


def demo_tenant(company_id: int) -> str:
    """A stable Microsoft tenant id per demo company."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://sandbox.invalid/tenant/{company_id}"))


def subscription(account_id: int, company_id: int, name: str, quantity: Any, *, state: str = "Active",
                 price: float | None = None, cost: float | None = None, currency: str = "EUR",
                 start: str | None = "2020-01-10T06:31:58.46", contract_end: str | None = None,
                 scheduled_end: str | None = None, service_name: str | None = None,
                 cycle: str = "Monthly", commitment: int | None = 12) -> dict[str, Any]:
    """A subscription record shaped as the live service sends it (ProvisioningStatus, not Status)."""
    priceable = []
    if price is not None or cost is not None:
        priceable.append({
            "ChargeType": "Recurring", "Currency": currency, "FieldName": "Quantity", "IsUDRCField": False,
            "PriceableItemDescription": name, "PriceableItemType": cycle, "PurchasePrice": cost,
            "SalesPrice": price, "SuggestedRetailPrice": price, "CommitementPeriodInMonths": commitment,
            "PriceableItemId": account_id * 10, "ProductNumber": DEMO_SKUS.get(name),
        })
    return {
        "AccountId": account_id, "AccountState": state, "ParentAccountId": company_id,
        "CompanyAccountId": company_id,
        "Fields": [{"DisplayName": "Domain", "Name": "Domain", "Value": "tenant.onmicrosoft.com"},
                   {"DisplayName": "Quantity", "Name": "Quantity", "Value": quantity},
                   {"DisplayName": "Microsoft Tenant Id", "Name": "MicrosoftTenantId",
                    "Value": demo_tenant(company_id)}],
        "PriceableItems": priceable, "ProvisioningStatus": "Provisioned", "ErrorDetails": None,
        "ServiceDisplayName": name, "ServiceName": service_name or name.replace(" ", ""),
        "ContractEndDate": contract_end, "BillingStartDate": start,
        "ScheduledTerminationDate": scheduled_end, "VendorDisplayName": "Microsoft",
    }


def demo_data() -> SandboxData:
    """A reseller with a dozen customers and varied subscriptions, quirks included."""
    reseller = _company(RESELLER_ID, "Acme MSP", "1 Chapel Hill", "Bournemouth", "BH1 1AA", "United Kingdom",
                        email="billing@acme-msp.example")
    reseller.update({"ParentAccountId": 100000, "AccountType": "Reseller"})
    c = _company
    companies = [
        c(100010, "Contoso Ltd", "12 High Street", "London", "EC1A 1BB", "United Kingdom",
          email="it@contoso.example", domains=("contoso.example",), contract_end="2026-12-31T00:00:00"),
        c(100011, "Fabrikam GmbH", "Hauptstraße 5", "Berlin", "10115", "Germany", email="admin@fabrikam.example"),
        c(100012, "Müller & Söhne GmbH", "Königsallee 92", "Düsseldorf", "40212", "Germany",
          contract_end="2027-03-31T00:00:00.0000000"),
        c(100013, "Café Lumière SARL", "8 Rue de Rivoli", "Paris", "75004", "France"),
        c(100014, "Northwind Traders", "", None, None, None),
        c(100015, "Tailspin Toys Inc.", "400 Harbor Blvd", "Seattle", "98101", "United States",
          email="ops@tailspin.example", domains=("tailspin.example",)),
        c(100016, "Adventure Works AB", "Drottninggatan 1", "Stockholm", "111 51", "Sweden"),
        c(100017, "Wingtip Oy", "Mannerheimintie 10", "Helsinki", "00100", "Finland"),
        c(100018, "Litware BV", "Damrak 1", "Amsterdam", "1012 LG", "Netherlands"),
        c(100019, "Old Client Ltd", "3 Closed Road", "Leeds", "LS1 1AA", "United Kingdom", state="Terminated"),
        c(100020, "Proseware AS", "Karl Johans gate 2", "Oslo", "0154", "Norway"),
        c(100021, "Žilina Systems s.r.o.", "Národná 8", "Žilina", "010 01", "Slovakia"),
    ]
    s = subscription
    subs = {
        100010: [
            s(200100, 100010, "Exchange Online (Plan 1)", "5", price=3.1, cost=2.7,
              contract_end="2025-01-09T00:00:00"),
            s(200101, 100010, "Microsoft 365 Business Basic", 25, price=5.6, cost=4.9,
              scheduled_end="2026-06-30T00:00:00.1234567", contract_end="2027-01-09T00:00:00"),
            s(200102, 100010, "Microsoft Teams Essentials", "3", price=3.4, cost=3.0, state="Terminated",
              contract_end="2024-03-01T00:00:00"),
        ],
        100011: [
            s(200110, 100011, "Microsoft 365 Business Standard", "12", price=11.7, cost=10.2,
              contract_end="2026-09-30T00:00:00.5"),
            s(200111, 100011, "Microsoft Defender for Business", 12.0, price=2.8, cost=2.4),
        ],
        100012: [
            s(200120, 100012, "Microsoft 365 E3", "40", price=33.6, cost=30.1),
            s(200121, 100012, "Azure plan", None, service_name="AzurePlan"),
        ],
        100013: [s(200130, 100013, "Exchange Online (Plan 2)", "2", price=7.0, cost=6.1,
                   contract_end="2026-02-28T00:00:00")],
        100014: [],
        100015: [
            s(200150, 100015, "Microsoft 365 Business Premium", "18", price=19.7, cost=17.5, currency="USD",
              contract_end="2026-11-30T00:00:00.46"),
            s(200151, 100015, "Acronis Cyber Protect Cloud", "18", price=4.5, cost=3.2, currency="USD"),
        ],
        100016: [s(200160, 100016, "Microsoft 365 Apps for business", 7, price=9.8, cost=8.6)],
        100017: [s(200170, 100017, "Dynamics 365 Business Central Essentials", "4", price=65.0, cost=58.5,
                   contract_end="2027-05-31T00:00:00", cycle="Annual", commitment=36)],
        100018: [
            s(200180, 100018, "Microsoft 365 Business Basic", "9", price=5.6, cost=4.9),
            s(200181, 100018, "Exchange Online Archiving", "9", price=2.8, cost=2.4, start=None),
        ],
        100019: [s(200190, 100019, "Microsoft 365 Business Basic", "0", state="Terminated",
                   contract_end="2023-12-31T00:00:00")],
        100020: [s(200200, 100020, "Microsoft 365 Business Standard", "6", price=11.7, cost=10.2,
                   currency="NOK")],
        100021: [s(200210, 100021, "Microsoft 365 Business Basic", "11", price=5.6, cost=4.9)],
    }
    return SandboxData(reseller=reseller, companies=companies, subscriptions=subs)


def generated_data(companies: int, subscriptions_per_company: int, seed: int = 7) -> SandboxData:
    """A large synthetic reseller for benchmarks: ``companies`` x ``subscriptions_per_company``."""
    rng = random.Random(seed)
    reseller = demo_data().reseller
    products = ["Microsoft 365 Business Basic", "Microsoft 365 Business Standard", "Exchange Online (Plan 1)",
                "Microsoft Defender for Business", "Microsoft 365 E3", "Acronis Cyber Protect Cloud"]
    company_rows, subs = [], {}
    for i in range(companies):
        cid = 1_000_000 + i
        company_rows.append(_company(cid, f"Customer {i:06d} Ltd", f"{i} Example Road", "London",
                                     f"E{i % 20} {i % 9}AA", "United Kingdom"))
        subs[cid] = [
            subscription(10_000_000 + i * subscriptions_per_company + j, cid, products[j % len(products)],
                         str(rng.randint(1, 300)), price=round(rng.uniform(2, 40), 2),
                         cost=round(rng.uniform(1, 35), 2))
            for j in range(subscriptions_per_company)
        ]
    return SandboxData(reseller=reseller, companies=company_rows, subscriptions=subs)

