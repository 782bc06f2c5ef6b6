"""The README's billing terms example is what `integrator billing charges` prints (issue 24).

November 2026 on a fake clock against the ALSO sandbox, Contoso Ltd: Exchange Online (Plan 1) bought
as an annual term from 1 November (5 at 37.20 a year), up to 8 at the sync of 21 November; Microsoft
365 Business Basic monthly as before (25 at 5.60); an onboarding service bought once on 5 November
(1 at 250.00); Teams Essentials on trial (free); Azure usage of 123.45 on ALSO's invoice, 15% markup.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from core.db import clock as db_clock
from plugins.also.sandbox_data import subscription

README = Path(__file__).parent.parent / "README.md"
COMMAND = '$ integrator billing charges --period 2026-11 --customer "Contoso Ltd"   # terms, one-time, usage'


def readme_block() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"```\n" + re.escape(COMMAND) + r"\n(.*?)```", text, re.S)
    assert match, "the README has no billing terms example"
    return match.group(1)


def quantity_item(sub):
    return next(i for i in sub["PriceableItems"] if i["FieldName"] == "Quantity")


@pytest.fixture
def terms_month(cli, write_config, sandbox, monkeypatch):
    moments = [datetime(2026, 10, 15, 2, 0)]
    monkeypatch.setattr(db_clock, "now", lambda: moments[0])
    path = write_config(set_price_and_cost=True)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["billing"] = {"usage_markup_percent": 15}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    contoso = sandbox.state.data.subscriptions[100010]
    exchange = next(s for s in contoso if s["AccountId"] == 200100)
    exchange["BillingStartDate"] = "2026-11-01T00:00:00"
    quantity_item(exchange).update(PriceableItemType="Annual", SalesPrice=37.2, PurchasePrice=32.4)
    contoso.append(subscription(200108, 100010, "Onboarding service", "1", price=250.0, cost=200.0,
                                start="2026-11-05T00:00:00", cycle="OneTime", commitment=None))
    contoso.append(subscription(200109, 100010, "Microsoft Teams Essentials", "10", price=4.0, cost=3.5,
                                start="2026-11-01T00:00:00", cycle="Trial", commitment=None))
    sandbox.state.invoice.extra_charges.append(
        {"company": 100010, "account_id": 900001, "service_name": "Azure plan usage", "cost": "123.45"})
    assert cli("import", "customers", "also").code == 0
    assert cli("import", "subscriptions", "also").code == 0
    moments[0] = datetime(2026, 11, 21, 2, 0)
    next(f for f in exchange["Fields"] if f["Name"] == "Quantity")["Value"] = "8"
    assert cli("import", "subscriptions", "also").code == 0
    moments[0] = datetime(2026, 12, 2, 9, 0)  # November is over
    return cli


def test_the_readme_prints_what_billing_charges_prints(terms_month):
    result = terms_month("billing", "charges", "--period", "2026-11", "--customer", "Contoso Ltd")
    assert result.code == 0, result.err
    assert result.out == readme_block()


def test_the_terms_example_to_the_cent(terms_month):
    result = terms_month("billing", "charges", "--period", "2026-11", "--customer", "Contoso Ltd", "--json")
    assert [(ln["kind"], ln["licence"], ln["from"], ln["to"], ln["quantity"], ln["amount"], ln["cost"])
            for ln in result.json] == [
        ("usage", "Azure plan usage", "2026-11-01", "2026-11-30", 1, "141.97", "123.45"),  # 123.45 x 1.15
        ("term", "Exchange Online (Plan 1)", "2026-11-01", "2027-10-31", 5, "186.00", "162.00"),  # 5 x 37.20
        # 3 x 37.20 x 345/365 = 105.48 (21 Nov 2026..31 Oct 2027 = 345 days)
        ("term_prorata", "Exchange Online (Plan 1)", "2026-11-21", "2027-10-31", 3, "105.48", "91.87"),
        ("recurring", "Microsoft 365 Business Basic", "2026-11-01", "2026-11-30", 25, "140.00", "122.50"),
        ("one_time", "Onboarding service", "2026-11-05", "2026-11-05", 1, "250.00", "200.00"),
    ]
    december = terms_month("billing", "charges", "--period", "2026-12", "--customer", "Contoso Ltd", "--json")
    assert sorted({ln["kind"] for ln in december.json}) == ["recurring", "usage"]
