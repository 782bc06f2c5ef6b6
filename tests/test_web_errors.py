"""The console's 404, 405 and 500 are pages of the console (its layout, a plain sentence, the top bar
for a logged-in person), never a bare "Not Found" or a traceback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient

from core.web import app as web_app
from core.web.app import create_app
from core.web.pages import page
from core.web.security import hash_password, store_password
from tests.web_support import CONSOLE_PASSWORD, log_in, make_app


@page
async def broken(request: Request, session: object) -> None:
    raise RuntimeError("a bug in a page")


@pytest.fixture
def client(config, monkeypatch) -> Iterator[TestClient]:
    original = web_app.routes
    monkeypatch.setattr(web_app, "routes", lambda: [*original(), Route("/broken", broken)])
    app = make_app(config)
    store_password(app.sessions, hash_password(CONSOLE_PASSWORD))
    with TestClient(create_app(app), base_url="http://127.0.0.1:8780", raise_server_exceptions=False) as c:
        yield c


def test_a_missing_page_is_a_404_in_the_layout(client):
    anonymous = client.get("/no-such-page")
    assert anonymous.status_code == 404
    assert "Page not found" in anonymous.text and "There is no page at /no-such-page" in anonymous.text
    assert 'class="topbar"' in anonymous.text and "Log out" not in anonymous.text  # no nav without a login
    log_in(client)
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.text and "Log out" in response.text and 'href="/billing"' in response.text
    unknown = client.get("/mappings?vendor=nope")
    assert unknown.status_code == 404 and "No integration named &#39;nope&#39; is configured" in unknown.text


def test_a_wrong_method_is_a_405_in_the_layout(client):
    log_in(client)
    response = client.put("/integrations")
    assert response.status_code == 405
    assert "Not allowed" in response.text and "cannot be opened this way (PUT)" in response.text
    assert "Log out" in response.text


def test_an_internal_error_is_a_500_in_the_layout_without_the_traceback(client, caplog):
    log_in(client)
    response = client.get("/broken")
    assert response.status_code == 500
    assert "Something went wrong" in response.text and "Log out" in response.text
    assert "a bug in a page" not in response.text and "Traceback" not in response.text
    assert "a bug in a page" in caplog.text
