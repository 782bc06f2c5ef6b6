"""The Pax8 sandbox's data: companies, products, subscriptions as the live service writes them, and
the invoices those subscriptions make.

Records are kept in wire form (camelCase keys, keys without a value omitted, dates in the four
formats the live service mixes, money as JSON numbers). Invoices are derived, never stored: the
invoice of month M (dated M-01, listable from M-05) has one item per subscription and stretch of
equal quantity billed in M, so it always agrees with the subscriptions and their changes.
"""

from __future__ import annotations

import calendar
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

NAMESPACE = uuid.UUID("5f0c2b8e-4d1a-4c6e-9a3b-8e7d6c5b4a39")
CENT = Decimal("0.01")
INVOICE_RELEASE_DAY = 5  # Pax8 publishes the month's invoice around the 5th
PARTNER = "Acme MSP LLC"
#: Statuses billed on the invoice (the pending ones are not provisioned yet).
BILLED_STATUSES = {"Active", "Trial", "Activated", "PendingCancel", "Cancelled", "Converted"}


def make_id(*parts: object) -> str:
    """A stable UUID per name: the same dataset always has the same ids."""
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def wire_date(day: date, style: int) -> str:
    """``day`` in one of the formats the live service mixes (§3.5 of the reference)."""
    return (day.strftime("%Y-%m-%dT%H:%M:%S.952628Z"),  # microseconds, UTC
            day.strftime("%Y-%m-%dT08:30:00Z"),
            day.strftime("%Y-%m-%dT00:00:00.000Z"),
            day.strftime("%Y-%m-%dT11:33:12.314-0600"),  # an offset without a colon
            day.isoformat())[style % 5]  # a date alone, in a date-time field


def read_day(value: Any) -> date | None:
    return date.fromisoformat(value[:10]) if isinstance(value, str) and len(value) >= 10 else None


@dataclass
class SandboxData:
    companies: list[dict[str, Any]] = field(default_factory=list)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    #: subscription id -> [(first day of the new quantity, old quantity)]: what the invoices bill
    changes: dict[str, list[tuple[date, int]]] = field(default_factory=dict)
    by_company: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def reindex(self) -> None:
        self.by_company = {}
        for sub in self.subscriptions:
            self.by_company.setdefault(sub["companyId"], []).append(sub)


# -- records -----------------------------------------------------------------------------------

def company(name: str, street: str | None, city: str | None, postcode: str | None, region: str | None,
            country: str | None, *, status: str = "Active", website: str | None = None,
            external_id: str | None = None, street2: str | None = None, n: int = 0) -> dict[str, Any]:
    record: dict[str, Any] = {"id": make_id("company", name), "name": name}
    address = {k: v for k, v in (("street", street), ("street2", street2), ("city", city),
                                 ("stateOrProvince", region), ("postalCode", postcode), ("country", country)) if v}
    record["address"] = address
    record["phone"] = f"(337) 555-{n % 10000:04d}"
    if website:
        record["website"] = website
    if external_id:
        record["externalId"] = external_id
    record.update(billOnBehalfOfEnabled=False, selfServiceAllowed=False, status=status)
    if n % 3:  # some records omit orderApprovalRequired and updatedDate, as live lists do
        record["orderApprovalRequired"] = False
        record["updatedDate"] = wire_date(date(2024, 1 + n % 12, 1 + n % 28), n)
    return record


def product(name: str, sku: str, vendor: str = "Microsoft") -> dict[str, Any]:
    return {"id": make_id("product", name), "name": name, "vendorName": vendor, "sku": sku,
            "vendorSku": sku.split("-")[-1], "shortDescription": name, "requiresCommitment": True}


COMMITMENTS = {"Monthly": None, "Annual": "1-Year", "2-Year": "2-Year", "3-Year": "3-Year"}


def subscription(company_id: str, prod: dict[str, Any], quantity: int, *, key: object, price: float,
                 cost: float, status: str = "Active", term: str = "Monthly", start: date = date(2024, 3, 1),
                 end: date | None = None, currency: str = "USD", n: int = 0) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": make_id("subscription", company_id, key), "companyId": company_id, "productId": prod["id"],
        "productName": prod["name"], "quantity": quantity, "startDate": wire_date(start, n),
        "createdDate": (start - timedelta(days=2)).isoformat(), "billingStart": start.isoformat(),
        "status": status, "price": price, "partnerCost": cost, "currencyCode": currency, "billingTerm": term,
    }
    if end is not None:
        record["endDate"] = wire_date(end, n + 1)
    months = {"1-Year": 12, "2-Year": 24, "3-Year": 36}.get(COMMITMENTS.get(term) or "")
    if months:
        last = _add_months(start, months) - timedelta(days=1)
        record["commitment"] = {"id": make_id("commitment", term), "term": COMMITMENTS[term],
                                "endDate": last.strftime("%Y-%m-%dT00:00:00.000Z")}
    else:
        record["commitment"] = None  # month to month: an explicit null, as the live service sends
    return record


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, min(day.day, calendar.monthrange(day.year + year, month + 1)[1]))


# -- datasets ----------------------------------------------------------------------------------

PRODUCTS = [product("Microsoft 365 Business Basic", "MST-NCE-BB-01"),
            product("Microsoft 365 Business Standard", "MST-NCE-BS-01"),
            product("Microsoft 365 Business Premium", "MST-NCE-BP-01"),
            product("Exchange Online (Plan 1)", "MST-NCE-EO1-01"),
            product("Microsoft Defender for Business", "MST-NCE-DFB-01"),
            product("Acronis Cyber Protect Cloud", "ACR-CPC-WKS-01", "Acronis"),
            product("Microsoft Teams Essentials", "MST-NCE-TE-01")]


def demo_data() -> SandboxData:
    """A partner with a handful of companies and subscriptions in every status the rules name."""
    c = company
    companies = [
        c("Contoso Dental", "100 Main St", "Denver", "80202", "Colorado", "US", website="contosodental.example",
          n=1),
        c("Fabrikam Robotics", "1 Yonge St", "Toronto", "M5E 1E5", "Ontario", "CA", street2="Suite 400",
          external_id="PSA-0042", n=2),
        c("Tailspin Toys Inc.", "400 Harbor Blvd", "Seattle", "98101", "Washington", "US", n=3),
        c("Northwind Traders", None, None, None, None, None, status="Inactive", n=4),
        c("Old Client LLC", "3 Closed Road", "Austin", "73301", "Texas", "US", status="Deleted", n=5),
        c("Wingtip Accounting", "22 Queen St", "Auckland", "1010", "Auckland", "NZ", website="https://wingtip.example/",
          n=6),
    ]
    p = {prod["name"]: prod for prod in PRODUCTS}
    ids = [co["id"] for co in companies]
    s = subscription
    subs = [
        s(ids[0], p["Microsoft 365 Business Premium"], 18, key=1, price=22.0, cost=18.7, term="Annual", n=1),
        s(ids[0], p["Exchange Online (Plan 1)"], 5, key=2, price=4.0, cost=3.4, n=2),
        s(ids[0], p["Microsoft Teams Essentials"], 3, key=3, price=4.0, cost=3.2, status="Cancelled",
          end=date(2025, 6, 30), n=3),
        s(ids[1], p["Microsoft 365 Business Standard"], 12, key=1, price=12.5, cost=10.2, currency="CAD",
          term="3-Year", n=4),
        s(ids[1], p["Microsoft Defender for Business"], 12, key=2, price=3.0, cost=2.4, currency="CAD",
          status="PendingManual", start=date(2026, 11, 20), n=5),
        s(ids[2], p["Microsoft 365 Business Basic"], 25, key=1, price=6.0, cost=5.1, status="Trial",
          term="Trial", end=date(2027, 1, 31), n=6),
        s(ids[2], p["Acronis Cyber Protect Cloud"], 25, key=2, price=5.0, cost=3.6, status="PendingCancel",
          end=date(2027, 3, 31), n=7),
        s(ids[2], p["Microsoft 365 Business Standard"], 4, key=3, price=12.5, cost=10.2, status="Converted",
          end=date(2026, 1, 31), n=8),
        s(ids[4], p["Microsoft 365 Business Basic"], 2, key=1, price=6.0, cost=5.1, status="Cancelled",
          end=date(2024, 12, 31), n=9),
        s(ids[5], p["Microsoft 365 Business Basic"], 9, key=1, price=6.0, cost=5.1, currency="NZD", n=10),
        s(ids[5], p["Exchange Online (Plan 1)"], 9, key=2, price=4.0, cost=3.4, currency="NZD",
          status="WaitingForDetails", start=date(2026, 12, 1), n=11),
    ]
    data = SandboxData(companies=companies, products={prod["id"]: prod for prod in PRODUCTS}, subscriptions=subs)
    data.reindex()
    return data


def generated_data(companies: int, subscriptions_per_company: int, seed: int = 7) -> SandboxData:
    """A large synthetic partner for paging tests and benchmarks."""
    rng = random.Random(seed)
    rows, subs = [], []
    for i in range(companies):
        row = company(f"Customer {i:06d} LLC", f"{i} Example Road", "Denver", "80202", "Colorado", "US", n=i)
        rows.append(row)
        subs += [subscription(row["id"], PRODUCTS[j % len(PRODUCTS)], rng.randint(1, 300), key=j,
                              price=round(rng.uniform(2, 40), 2), cost=round(rng.uniform(1, 35), 2), n=i + j)
                 for j in range(subscriptions_per_company)]
    data = SandboxData(companies=rows, products={prod["id"]: prod for prod in PRODUCTS}, subscriptions=subs)
    data.reindex()
    return data


# -- invoices ----------------------------------------------------------------------------------

def today_utc() -> date:
    return datetime.now(UTC).date()


def invoice_months(today: date, back: int = 3) -> list[tuple[int, int]]:
    """The months whose invoice is listable on ``today``: this month's from its 5th, and ``back`` before."""
    year, month = today.year, today.month
    if today.day < INVOICE_RELEASE_DAY:
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    months = []
    for _ in range(back + 1):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def invoice(data: SandboxData, year: int, month: int) -> dict[str, Any]:
    items = invoice_items(data, year, month)
    total = sum((Decimal(str(i["costTotal"])) for i in items), Decimal(0))
    return {"id": make_id("invoice", year, month), "invoiceDate": date(year, month, 1).isoformat(),
            "dueDate": date(year, month, 15).isoformat(), "status": "Unpaid", "total": float(total),
            "balance": float(total), "carriedBalance": 0, "currencyCode": "USD", "partnerName": PARTNER}


def invoice_items(data: SandboxData, year: int, month: int) -> list[dict[str, Any]]:
    first, last = date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    names = {c["id"]: c["name"] for c in data.companies}
    items = []
    for sub in data.subscriptions:
        if sub.get("status") not in BILLED_STATUSES:
            continue
        start, end = read_day(sub.get("startDate")) or first, read_day(sub.get("endDate"))
        frm, to = max(first, start), min(last, end) if end else last
        for stretch_from, stretch_to, units in _stretches(data.changes.get(sub["id"], []), int(sub["quantity"]),
                                                          frm, to):
            items.append(_item(sub, names.get(sub["companyId"], "?"), data.products.get(sub["productId"], {}),
                               stretch_from, stretch_to, units, last.day))
    return items


def _stretches(changes: list[tuple[date, int]], current: int, frm: date, to: date) -> list[tuple[date, date, int]]:
    """The runs of equal quantity within [frm, to], walking back from the current quantity."""
    if to < frm:
        return []
    runs, quantity, end = [], current, to
    for day, old in sorted(changes, reverse=True):
        if day > to:
            quantity = old
            continue
        if day <= frm:
            break
        runs.append((day, end, quantity))
        quantity, end = old, day - timedelta(days=1)
    runs.append((frm, end, quantity))
    return [r for r in reversed(runs) if r[2] > 0]


def _item(sub: dict[str, Any], company_name: str, prod: dict[str, Any], frm: date, to: date, units: int,
          days_in_month: int) -> dict[str, Any]:
    days = (to - frm).days + 1
    cost, price = Decimal(str(sub["partnerCost"])), Decimal(str(sub["price"]))
    share = Decimal(days) / Decimal(days_in_month)
    return {
        "id": make_id("item", sub["id"], frm, units), "type": "subscription" if days == days_in_month else "prorate",
        "purchaseOrderNumber": "N/A", "companyId": sub["companyId"], "companyName": company_name,
        "subscriptionId": sub["id"], "productId": sub["productId"], "productName": prod.get("name", "?"),
        "sku": prod.get("sku"), "vendorName": prod.get("vendorName"), "description": prod.get("name", "?"),
        "startPeriod": frm.isoformat(), "endPeriod": to.isoformat(), "quantity": units, "unitOfMeasure": "User",
        "term": "Monthly" if sub.get("billingTerm") == "Monthly" else str(sub.get("billingTerm")).replace("-", " "),
        "rateType": "single", "chargeType": "per", "price": float(price),
        "subTotal": float((price * units * share).quantize(CENT, ROUND_HALF_UP)), "cost": float(cost),
        "costTotal": float((cost * units * share).quantize(CENT, ROUND_HALF_UP)), "billingFee": 0,
        "billingFeeRate": 0, "total": float((price * units * share).quantize(CENT, ROUND_HALF_UP)),
        "amountDue": float((price * units * share).quantize(CENT, ROUND_HALF_UP)), "salesTax": 0,
        "currencyCode": sub.get("currencyCode", "USD"), "offeredBy": "Pax8", "billedByPax8": False,
    }


@dataclass
class Fault:
    """One injected misbehaviour on calls whose path starts with ``path`` (``/subscriptions``...).

    ``status``: answer it with the error envelope; ``kind`` "expire": drop every token first (the call
    then gets 401); ``company``/``page``: only calls with that companyId / page; ``times``: -1 forever."""

    path: str
    status: int = 500
    kind: str = "status"
    times: int = 1
    company: str | None = None
    page: int | None = None
    retry_after: str | None = None

    def matches(self, path: str, query: dict[str, str]) -> bool:
        return (self.times != 0 and path.startswith(self.path)
                and (self.company is None or query.get("companyId") == self.company)
                and (self.page is None or query.get("page", "0") == str(self.page)))
