"""Vendor text is untrusted: a company or licence named with bidirectional controls (U+202E reverses
what follows it) cannot reorder the console's own ids and quantities, nor the terminal's lines."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from core.text import BIDI_CONTROLS, visible
from core.web.app import create_app
from core.web.security import hash_password, store_password
from tests.web_support import CONSOLE_PASSWORD, csrf_of, log_in, make_app, wait_for_job

EVIL_COMPANY = "Fabrikam\u202e GmbH"  # shown as typed, "(100011)" after it would read "(110001)"
EVIL_LICENCE = "Defender \u2067for\u2069 Business\u200f\x1b[31m"


@pytest.fixture
def evil_sandbox(sandbox):
    company = next(c for c in sandbox.state.data.companies if c["AccountId"] == 100011)
    company["CompanyName"] = EVIL_COMPANY
    licence = next(s for s in sandbox.state.data.subscriptions[100011] if s["AccountId"] == 200111)
    for key in ("ServiceDisplayName", "ServiceName"):
        if licence.get(key):
            licence[key] = EVIL_LICENCE
    return sandbox


@pytest.fixture
def console(config, evil_sandbox) -> Iterator[TestClient]:
    app = make_app(config)
    store_password(app.sessions, hash_password(CONSOLE_PASSWORD))
    with TestClient(create_app(app), base_url="http://127.0.0.1:8780") as client:
        assert log_in(client).status_code == 303
        yield client


def no_controls(text: str) -> bool:
    return not any(ch in BIDI_CONTROLS or ch == "\x1b" for ch in text)


def run_import(client: TestClient, entity: str, mode: str) -> str:
    token = csrf_of(client.get("/imports").text)
    started = client.post(f"/imports/also/{entity}", data={"csrf": token, "mode": mode}, follow_redirects=False)
    wait_for_job(client, started.headers["location"])
    return client.get(started.headers["location"]).text


def test_the_console_shows_bidi_controls_instead_of_obeying_them(console: TestClient):
    plan = run_import(console, "customers", "plan")
    assert no_controls(plan)
    assert "Fabrikam&lt;U+202E&gt; GmbH (100011)" in plan
    run_import(console, "customers", "start")
    licences_plan = run_import(console, "subscriptions", "plan")
    assert no_controls(licences_plan) and "&lt;U+2067&gt;for&lt;U+2069&gt;" in licences_plan
    run_import(console, "subscriptions", "start")
    for path in ["/mappings", "/licences", "/history", "/billing?period=2026-11", "/integrations"]:
        page = console.get(path).text
        assert no_controls(page), path
    assert "Fabrikam&lt;U+202E&gt; GmbH" in console.get("/mappings").text


def test_the_terminal_never_receives_bidi_controls(cli, config, evil_sandbox):
    dry = cli("import", "customers", "also", "--dry-run")
    assert dry.code == 0 and no_controls(dry.out + dry.err)
    assert "Fabrikam<U+202E> GmbH (100011)" in dry.out
    assert cli("import", "customers", "also").code == 0
    dry = cli("import", "subscriptions", "also", "--dry-run")
    assert no_controls(dry.out + dry.err)
    assert cli("import", "subscriptions", "also").code == 0
    for args in [("customers", "list"), ("mappings", "list", "also"), ("licences", "list"),
                 ("billing", "charges", "--period", "2026-11"), ("history",)]:
        shown = cli(*args)
        assert no_controls(shown.out + shown.err), args


def test_visible_keeps_ordinary_text_and_names_each_control():
    assert visible("Müller & Söhne GmbH") == "Müller & Söhne GmbH"
    assert visible("שלום Ltd") == "שלום Ltd"  # right-to-left letters are text, not controls
    assert visible("a\u202eb\u2066c\nd\x1be") == "a<U+202E>b<U+2066>c<U+000A>d<U+001B>e"
