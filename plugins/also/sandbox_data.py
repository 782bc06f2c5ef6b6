"""The ALSO sandbox's datasets: the demo's reseller, companies and subscriptions, and a generated dataset of
any size, shaped as the live Simple API sends them."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass
class SandboxData:
    reseller: dict[str, Any]
    companies: list[dict[str, Any]]
    subscriptions: dict[int, list[dict[str, Any]]]


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

