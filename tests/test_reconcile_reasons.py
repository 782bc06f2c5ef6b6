"""Each reconciliation line says why it has its status, in plain words: in `billing reconcile`'s text
table ("reason") and on the console's Reconcile page (/billing/reconcile)."""

from __future__ import annotations

from datetime import date, datetime

from starlette.testclient import TestClient

from core.web.app import create_app
from core.web.security import hash_password, store_password
from plugins.also.sandbox_invoices import change_quantity
from tests.test_billing_reconcile_cli import IMPORTED_AT, date_history, synced  # noqa: F401 (fixture)
from tests.web_support import CONSOLE_PASSWORD, log_in, make_app


def late_change(synced, sandbox, db) -> None:  # noqa: F811 (fixture)
    """5 -> 8 Exchange licences from 15 October at ALSO, seen by a sync on the 17th: 2 days differ;
    and a charge for a subscription the PSA does not have: a leak."""
    sub = next(s for s in sandbox.state.data.subscriptions[100010] if s["AccountId"] == 200100)
    change_quantity(sub, sandbox.state.invoice, 8, date(2026, 10, 15))
    last = date_history(db, IMPORTED_AT)
    assert synced("import", "subscriptions", "also").code == 0
    date_history(db, datetime(2026, 10, 17, 2, 0), after_id=last)
    sandbox.state.invoice.apply({"extra_charges": [{"company": 100010, "account_id": 299999, "units": 3,
                                                    "unit_cost": "4.00", "service_name": "Visio Plan 2"}]})


def test_the_text_table_gives_each_lines_reason(synced, sandbox, db):  # noqa: F811 (fixture)
    late_change(synced, sandbox, db)
    result = synced("billing", "reconcile", "--period", "2026-10", "--customer", "Contoso Ltd")
    assert result.code == 1  # the leak
    header, _, *rows = result.out.splitlines()
    assert header.split()[-1] == "reason"
    by_id = {ident: row for row in rows for ident in ("200100", "200101", "299999") if f" {ident} " in row}
    assert by_id["200100"].rstrip().endswith("units differ on 2 of 31 days")
    assert by_id["200101"].rstrip().endswith("the invoice and the charge agree")
    assert by_id["299999"].rstrip().endswith("billed by the vendor; the PSA has no such licence")


def test_the_console_reconcile_page_shows_the_reasons(synced, sandbox, db, config):  # noqa: F811 (fixture)
    late_change(synced, sandbox, db)
    app = make_app(config)
    store_password(app.sessions, hash_password(CONSOLE_PASSWORD))
    with TestClient(create_app(app), base_url="http://127.0.0.1:8780") as client:
        log_in(client)
        assert "Reconcile with the invoice" in client.get("/billing?period=2026-10").text
        untouched = client.get("/billing/reconcile").text  # the vendor is asked only on request
        assert 'id="reconcile-lines"' not in untouched
        page = client.get("/billing/reconcile?period=2026-10").text
        assert page.count("units differ on 2 of 31 days") == 1
        assert "billed by the vendor; the PSA has no such licence" in page and "1 leak" in page
        assert "the invoice and the charge agree" in page
        unknown = client.get("/billing/reconcile?period=2026-10&vendor=nope").text
        assert "No integration named &#39;nope&#39; is configured." in unknown
