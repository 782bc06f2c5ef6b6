"""Every ``--customer NAME`` filter finds the customer the way ``customers add`` stored it.

A name typed with spaces around it, or decomposed (NFD, as a Mac types "Müller"), is the same
customer: each filter gives exactly what the stored spelling gives, and an unknown name is a
one-line usage error (exit 2), never an empty report with exit 0.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

import pytest
from sqlalchemy import update

from core.db.models import LicenceChange

IMPORTED_AT = datetime(2026, 9, 20, 9, 0)
CONTOSO = "Contoso Ltd"
MUELLER = "Müller & Söhne GmbH"


@pytest.fixture
def synced(cli, write_config, db, sandbox):
    write_config(set_price_and_cost=True)
    assert cli("import", "customers", "also").code == 0
    assert cli("import", "subscriptions", "also").code == 0
    with db.engine.begin() as conn:  # imported before October: the whole month has these licences
        conn.execute(update(LicenceChange).values(changed_at=IMPORTED_AT))
    # A leak: ALSO bills Contoso for a subscription the PSA does not have (3 x 4.00 = 12.00).
    sandbox.state.invoice.apply({"extra_charges": [{"company": 100010, "account_id": 299999, "units": 3,
                                                    "unit_cost": "4.00", "service_name": "Visio Plan 2"}]})
    return cli


def spellings(name: str) -> list[str]:
    return [f"  {name}  ", unicodedata.normalize("NFD", name), f"\t{unicodedata.normalize('NFD', name)} "]


COMMANDS = {
    "billing reconcile": ("billing", "reconcile", "--period", "2026-10", "--json"),
    "billing charges": ("billing", "charges", "--period", "2026-10", "--json"),
    "licences list": ("licences", "list", "--json"),
    "licences history": ("licences", "history", "--json"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("name", [CONTOSO, MUELLER])
def test_every_customer_filter_finds_the_customer_however_its_name_is_typed(synced, command, name):
    exact = synced(*COMMANDS[command], "--customer", name)
    assert exact.code in (0, 1), exact.err
    assert (exact.json["lines"] if isinstance(exact.json, dict) else exact.json) != []
    for typed in spellings(name):
        result = synced(*COMMANDS[command], "--customer", typed)
        assert (result.code, result.json) == (exact.code, exact.json), repr(typed)


def test_billing_reconcile_with_spaces_around_the_name_reports_the_leak_and_exits_1(synced):
    result = synced("billing", "reconcile", "--period", "2026-10", "--customer", "  Contoso Ltd  ", "--json")
    assert result.code == 1, result.err
    leaks = [ln for ln in result.json["lines"] if ln["status"] == "leak"]
    assert [(ln["customer"], ln["external_id"], ln["vendor_cost"]) for ln in leaks] == [
        ("Contoso Ltd", "299999", "12.00")]
    assert result.json["totals"]["leak"] == "12.00"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_unknown_customer_is_a_usage_error_in_every_filter(synced, command):
    result = synced(*COMMANDS[command], "--customer", "Nobody Ltd")
    assert result.code == 2
    assert result.err.strip().splitlines() == ["integrator: error: no customer is named 'Nobody Ltd' "
                                               "(see 'integrator customers list')"]
