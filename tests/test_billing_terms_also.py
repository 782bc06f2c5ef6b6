"""ALSO's PriceableItemType and PrepaidPeriodInMonths become the interface's cycle words; an unknown one
is passed on as ALSO wrote it, and `billing charges` reports it instead of charging a guess."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.billing.terms import parse_cycle
from plugins.also.mapping import billing_cycle, parse_terms


@pytest.mark.parametrize(("item_type", "prepaid", "word"), [
    ("Monthly", None, "Monthly"), ("Monthly", 1, "Monthly"), ("monthly", 0, "Monthly"),
    ("Monthly", 12, "Annual"), ("Annual", None, "Annual"), ("Yearly", None, "Annual"), (None, 12, "Annual"),
    ("Monthly", 24, "2-Year"), ("Monthly", 36, "3-Year"), ("3-Year", None, "3-Year"),
    ("Setup", None, "One-Time"), ("OneTime", None, "One-Time"), ("Trial", None, "Trial"), (None, None, None),
])
def test_also_cycles_become_the_interfaces_words(item_type, prepaid, word):
    assert billing_cycle(item_type, prepaid) == word
    assert parse_cycle(word) is not None


@pytest.mark.parametrize(("item_type", "prepaid", "raw"), [
    ("Quarterly", None, "Quarterly"), ("Monthly", 6, "Monthly (6 months prepaid)"),
])
def test_an_unknown_also_cycle_is_passed_on_as_written_and_billing_does_not_know_it(item_type, prepaid, raw):
    assert billing_cycle(item_type, prepaid) == raw
    assert parse_cycle(raw) is None


def test_the_quantity_items_prepaid_period_decides():
    record = {"PriceableItems": [{"FieldName": "Quantity", "PriceableItemType": "Monthly",
                                  "PrepaidPeriodInMonths": 12, "CommitementPeriodInMonths": 12}]}
    assert parse_terms(record)["billing_cycle"] == "Annual"


def test_billing_charges_warns_about_an_unknown_cycle_and_charges_nothing_for_it(cli, write_config, sandbox):
    sub = next(s for s in sandbox.state.data.subscriptions[100010] if s["AccountId"] == 200100)
    next(i for i in sub["PriceableItems"] if i["FieldName"] == "Quantity")["PriceableItemType"] = "Quarterly"
    write_config(set_price_and_cost=True)
    assert cli("import", "customers", "also").code == 0
    assert cli("import", "subscriptions", "also").code == 0
    month = datetime.now(UTC).strftime("%Y-%m")
    result = cli("billing", "charges", "--period", month, "--customer", "Contoso Ltd", "--json")
    assert result.code == 0, result.err
    assert "200100" not in {ln["external_id"] for ln in result.json}
    assert ("Contoso Ltd: Exchange Online (Plan 1) (also 200100) has the billing cycle 'Quarterly', which is none "
            "of Monthly, Annual, 2-Year, 3-Year, One-Time, Trial: it is not charged") in result.err
