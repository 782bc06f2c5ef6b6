"""The web console in a real headless Chromium (Debian's package, driven by Playwright): a person's
whole round, from the login to the month's charges, with a screenshot of every page.

Screenshots go to $INTEGRATOR_WEB_SCREENSHOTS, else test-artifacts/web/ (not committed)."""

from __future__ import annotations

import csv
import io
import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.db import store
from core.web.app import create_app
from core.web.command import LOOPBACK_NAMES, bind
from core.web.security import hash_password, store_password
from tests.web_support import CONSOLE_PASSWORD, make_app

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(os.environ.get("INTEGRATOR_WEB_SCREENSHOTS") or Path(__file__).parent.parent / "test-artifacts" / "web")
TIMEOUT_MS = 60_000  # a busy shared machine


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"CI needs Debian's chromium at {CHROMIUM} for the browser tests (.ci/run installs it)")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium); the browser tests need it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def console_url(write_config) -> Iterator[str]:
    """The console served by uvicorn on a free loopback port, as `integrator web` serves it."""
    import uvicorn

    app = make_app(write_config(set_price_and_cost=True, max_concurrency=2))
    store_password(app.sessions, hash_password(CONSOLE_PASSWORD))
    with app.sessions.begin() as session:  # customers the PSA already had: one exact name, one near miss
        store.add_customer(session, "Contoso Ltd")
        store.add_customer(session, "MULLER & SOHNE")
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(app, allowed_hosts=[*LOOPBACK_NAMES]), log_config=None,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="console", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:  # uvicorn's own readiness flag: set once it accepts connections
        assert thread.is_alive() and time.monotonic() < deadline, "the console did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=30)


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def run_import(page: Any, label: str, name: str, sandbox: Any = None) -> None:
    """Click an import button on the Imports page; check the dry-run plan; "Start"; wait for the result
    (with a slow sandbox: watch the live progress until the page shows the result by itself)."""
    page.click("nav >> text=Imports")
    page.click(f"button:has-text('{label}')")
    page.wait_for_selector("#result", timeout=TIMEOUT_MS)
    assert "dry run: nothing written" in page.inner_text("main")
    assert page.locator("table.plan tbody tr").count() > 0
    shot(page, f"{name}-plan")
    if sandbox is not None:
        sandbox.state.latency = 0.3
    page.click("button:has-text('Start')")
    if sandbox is not None:
        page.wait_for_selector("#progress-text:has-text(' customers')")  # the script updates it as it runs
        shot(page, f"{name}-progress")
        sandbox.state.latency = 0
    page.wait_for_selector("#result >> text=Result", timeout=TIMEOUT_MS)
    assert "dry run" not in page.inner_text("#result .summary")
    shot(page, f"{name}-result")


def test_a_person_sets_up_imports_and_bills_a_month_in_the_browser(browser, console_url, sandbox):
    context = browser.new_context(viewport={"width": 1360, "height": 860}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("dialog", lambda dialog: dialog.accept())
    console_errors: list[str] = []  # a CSP violation (an inline style or script slipped in) shows here
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    page.goto(console_url + "/mappings")
    assert page.url.startswith(console_url + "/login")
    shot(page, "01-login")
    page.fill("#password", CONSOLE_PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(console_url + "/mappings")

    page.click("nav >> text=Integrations")
    page.click("button:has-text('Test Configuration')")
    assert "ALSO: Connected to ALSO as Acme MSP (account 100001): 12 customers" in page.inner_text(".flash.ok")
    page.click("#also summary")  # the settings as loaded, the password hidden
    assert "(set, hidden)" in page.inner_text("#also")
    shot(page, "02-integrations")

    page.click("nav >> text=Mappings")
    page.click("button:has-text('Generate mappings')")
    assert "Generate mappings: 1 mapped" in page.inner_text(".flash.ok")
    row = page.locator("#suggestions tr", has_text="Müller & Söhne GmbH")
    assert "MULLER & SOHNE" in row.inner_text()
    row.locator("button:has-text('Confirm')").click()
    assert "Mapped ALSO company 100012 (Müller & Söhne GmbH) to 'MULLER & SOHNE'" in page.inner_text(".flash.ok")
    table = page.inner_text("#mappings-table")
    assert re.search(r"Contoso Ltd\s+100010\s+Contoso Ltd\s+auto", table)
    assert re.search(r"100012\s+MULLER & SOHNE\s+manual", table)
    shot(page, "03-mappings")

    run_import(page, "Import customers", "04-import-customers")
    assert "customers (ok)" in page.inner_text("#result .summary")
    run_import(page, "Import subscriptions", "05-import-subscriptions", sandbox)
    assert re.search(r"subscriptions \((ok|partial)\)", page.inner_text("#result .summary"))

    page.click("nav >> text=Imports")
    assert "import subscriptions also" in page.inner_text("main")  # what this console started, with results
    shot(page, "06-imports")

    page.click("nav >> text=Licences")
    page.wait_for_url(console_url + "/licences")  # loaded, its script listening
    page.select_option("#customer", "Contoso Ltd")  # the filter applies on change
    page.wait_for_url(re.compile(r".*/licences\?customer=Contoso\+Ltd"))
    licences = page.inner_text("#licences")
    assert "Exchange Online (Plan 1)" in licences and "Fabrikam" not in licences
    page.locator("#licences details summary").first.click()
    assert "created" in page.locator("#licences details").first.inner_text()
    shot(page, "07-licences")

    page.click("nav >> text=History")
    runs = page.inner_text("#runs")
    assert "customers" in runs and "subscriptions" in runs
    assert "import subscriptions also" in page.inner_text("#actions")
    shot(page, "08-history")

    page.click("nav >> text=Billing")
    month = datetime.now(UTC).strftime("%Y-%m")
    page.fill("#period", month)
    page.click("button:has-text('Show charges')")
    charges = page.inner_text("#charges")
    assert "Contoso Ltd" in charges and "Exchange Online (Plan 1)" in charges and "Total Contoso Ltd" in charges
    totals = {row.split("\t")[0]: row.split("\t")[1:4] for row in page.inner_text("#billing-totals tbody").splitlines()}
    shot(page, "09-billing")
    with page.expect_download() as download_info:
        page.click("text=Download CSV")
    download = download_info.value
    assert download.suggested_filename == f"charges-{month}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows and {"customer", "licence", "amount", "currency"} <= set(rows[0])
    assert any(r["customer"] == "Contoso Ltd" and r["licence"] == "Exchange Online (Plan 1)" for r in rows)
    for currency, (amount, cost, margin) in totals.items():  # the page's totals are the CSV's sums
        mine = [r for r in rows if r["currency"] == currency]
        assert Decimal(amount) == sum(Decimal(r["amount"]) for r in mine)
        assert Decimal(margin) == Decimal(amount) - Decimal(cost) == sum(
            Decimal(r["amount"]) - Decimal(r["cost"]) for r in mine)
    assert console_errors == []
    context.close()
