"""Tables fit the terminal: never wider than it, and a date, an id or an amount is never cut (an optional
column is left out first, then a text column is cut); vendor text cannot reorder a row (bidi controls are
shown as <U+202E>). Every table command at 80 and 100 columns."""

from __future__ import annotations

from datetime import datetime

import pytest
from rich.cells import cell_len
from sqlalchemy import update

from core.cli.output import table
from core.db.models import LicenceChange

WIDTHS = [80, 100]


@pytest.fixture
def synced(cli, write_config, db, monkeypatch):
    """Customers and licences with prices, their history dated in September 2026 (so October is billed)."""
    write_config(set_price_and_cost=True)
    assert cli("import", "customers", "also").code == 0
    assert cli("import", "subscriptions", "also").code == 0
    with db.engine.begin() as conn:
        conn.execute(update(LicenceChange).values(changed_at=datetime(2026, 9, 20, 9, 0)))
    return cli


def fits(text: str, width: int) -> None:
    wide = [line for line in text.splitlines() if cell_len(line) > width]
    assert not wide, f"{len(wide)} line(s) wider than {width}: {wide[:3]}"


@pytest.mark.parametrize("width", WIDTHS)
def test_licences_list_fits_and_keeps_ids_dates_and_amounts_whole(synced, monkeypatch, width):
    rows = synced("licences", "list", "--json").json
    monkeypatch.setenv("COLUMNS", str(width))
    text = synced("licences", "list").out
    fits(text, width)
    for row in rows:
        line = next(line for line in text.splitlines() if f" {row['external_id']} " in line)
        for value in (row["end_date"], row["price"]):
            if value is not None:
                assert f" {value}" in line, (value, line)


@pytest.mark.parametrize("width", WIDTHS)
def test_billing_charges_fit_and_never_cut_a_date_or_an_amount(synced, monkeypatch, width):
    lines = synced("billing", "charges", "--period", "2026-10", "--json").json
    assert lines
    monkeypatch.setenv("COLUMNS", str(width))
    text = synced("billing", "charges", "--period", "2026-10").out
    fits(text, width)
    assert "2026-1…" not in text
    for line in lines:
        row = next(r for r in text.splitlines() if f" {line['external_id']} " in r)
        for value in (line["from"], line["to"], line["amount"]):
            assert f" {value}" in row, (value, row)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_table_command_fits(synced, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    for args in (["customers", "list"], ["mappings", "list", "also"], ["licences", "history"], ["history"],
                 ["plugins"], ["billing", "reconcile", "--period", "2026-10"]):
        result = synced(*args)
        assert result.code in (0, 1), (args, result.err)
        fits(result.out, width)


def test_bidi_controls_in_vendor_text_are_shown_not_obeyed(cli, config):
    assert cli("customers", "add", "Evil \u202eCorp\u2066 Ltd").code == 0
    text = cli("customers", "list").out
    assert "\u202e" not in text and "\u2066" not in text
    assert "Evil <U+202E>Corp<U+2066> Ltd" in text


def test_optional_columns_go_first_then_text_is_cut_never_a_whole_value():
    headers = ["customer", "id", "licence", "amount", "tenant"]
    rows = [["Contoso Ltd", "200101", "Microsoft 365 Business Basic", "1234.56", "f" * 36]]
    text = table(headers, rows, width=60, optional=["tenant"])
    fits(text, 60)
    assert "Microsoft 365 Business Basic" in text and "tenant" not in text.splitlines()[0]
    assert "left out" in text.splitlines()[-1]
    narrow = table(headers, rows, width=40, optional=["tenant"], whole=["id"])
    fits(narrow, 40)
    assert " 200101 " in narrow and "1234.56" in narrow and "…" in narrow
    assert table(headers, rows) == table(headers, rows, width=None)  # a pipe: nothing fitted
