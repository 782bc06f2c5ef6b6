"""Every console page at a desktop width (1,360 px) and a phone's (390 px), in a real Chromium: the page
is never wider than the window (no sideways scroll of the whole page; a wide table scrolls inside its
card), and every action of the top bar (the pages and "Log out") can be reached by a pointer.

Screenshots of each page at both widths go to test-artifacts/web/<page>-<width>.png (not committed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.test_web_browser import TIMEOUT_MS, browser, console_url, run_import, shot  # noqa: F401 (fixtures)
from tests.web_support import CONSOLE_PASSWORD

WIDTHS = (1360, 390)
NAV = ("Integrations", "Mappings", "Imports", "Licences", "History", "Billing")


def fits(page: Any) -> tuple[int, int]:
    """The document's scroll width and the window's width."""
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")  # type: ignore[no-any-return]


def check_page(page: Any, name: str, width: int, *, logged_in: bool = True) -> None:
    scroll, window = fits(page)
    shot(page, f"{name}-{width}")
    assert scroll <= window, f"{name} at {width} px is {scroll} px wide"
    if logged_in:
        for label in NAV:  # trial: every actionability check (visible, stable, not covered), no click
            page.locator("header nav a", has_text=label).click(trial=True, timeout=5_000)
        page.locator("header button:has-text('Log out')").click(trial=True, timeout=5_000)


@pytest.fixture
def filled_console(browser, console_url, sandbox) -> tuple[str, str]:  # noqa: F811 (fixtures)
    """A console with mappings, an import's job page, licences and charges; returns (url, job page path)."""
    context = browser.new_context(viewport={"width": 1360, "height": 860})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(console_url + "/login")
    page.fill("#password", CONSOLE_PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(console_url + "/integrations")
    page.click("nav >> text=Mappings")
    page.click("button:has-text('Generate mappings')")
    run_import(page, "Import customers", "responsive-import-customers")
    run_import(page, "Import subscriptions", "responsive-import-subscriptions")
    job = page.url.removeprefix(console_url)
    context.close()
    return console_url, job


def test_every_page_fits_a_desktop_and_a_phone(browser, filled_console):  # noqa: F811 (fixture)
    url, job = filled_console
    month = datetime.now(UTC).strftime("%Y-%m")
    pages = {"integrations": "/integrations", "mappings": "/mappings", "imports": "/imports", "job": job,
             "licences": "/licences", "history": "/history", "billing": f"/billing?period={month}",
             "reconcile": f"/billing/reconcile?period={month}", "not-found": "/no-such-page"}
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 844 if width < 800 else 860})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url + "/login")
        check_page(page, "login", width, logged_in=False)
        page.fill("#password", CONSOLE_PASSWORD)
        page.click("button:has-text('Log in')")
        page.wait_for_url(url + "/integrations")
        for name, path in pages.items():
            page.goto(url + path)
            check_page(page, name, width)
        if width < 800:  # by touch: the last nav item and "Log out" really respond
            page.locator("header nav a", has_text="Billing").click()
            page.wait_for_url(url + "/billing")
            page.locator("header button:has-text('Log out')").click()
            page.wait_for_url(url + "/login")
        context.close()
