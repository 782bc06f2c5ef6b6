"""A plugin names its vendor once (integrator_display_name: "ALSO") and every face uses that name:
CLI tables and messages, the console's pages and flashes. Commands still take the plugin name."""

from __future__ import annotations

from starlette.testclient import TestClient

from core import hookimpl
from core.host.plugins import display_name, get_plugin_manager
from core.web.app import create_app
from core.web.security import hash_password, store_password
from tests.web_support import CONSOLE_PASSWORD, csrf_of, flashes, log_in, make_app


def test_the_plugin_gives_the_name_and_a_plugin_without_the_hook_keeps_its_own():
    pm = get_plugin_manager()
    assert display_name(pm, "also") == "ALSO"

    class Blank:
        @hookimpl
        def integrator_display_name(self) -> str:
            return "   "  # not a name: the plugin name is shown

    pm.register(Blank(), name="blank")
    assert display_name(pm, "blank") == "blank"
    assert display_name(pm, "not-loaded") == "not-loaded"


def test_cli_tables_and_messages_use_the_display_name(config, cli, sandbox):
    assert cli("import", "customers", "also").code == 0
    added = cli("mappings", "add", "also", "--external-id", "100019", "--customer", "Contoso Ltd", "--no-check")
    assert added.code == 0 and "Mapped ALSO company 100019" in added.out
    listed = cli("mappings", "list", "also")
    assert listed.code == 0 and "ALSO company" in listed.out.splitlines()[0]
    assert '"vendor": "also"' in cli("mappings", "list", "also", "--json").out  # JSON keeps the plugin name
    removed = cli("mappings", "remove", "also", "--external-id", "100019")
    assert removed.code == 0 and "Removed the mapping of ALSO company 100019" in removed.out


def test_the_console_uses_the_display_name(config, sandbox):
    app = make_app(config)
    store_password(app.sessions, hash_password(CONSOLE_PASSWORD))
    with TestClient(create_app(app), base_url="http://127.0.0.1:8780") as client:
        log_in(client)
        page = client.get("/mappings").text
        assert "Which ALSO company is which customer" in page and "Which also company" not in page
        assert '<label for="external_id">ALSO company</label>' in page
        assert "<h2>ALSO</h2>" in client.get("/imports").text and "<h2>ALSO</h2>" in client.get("/integrations").text
        done = client.post("/integrations/also/test", data={"csrf": csrf_of(page)})
        assert any(f.startswith("ALSO: Connected to ALSO as") for f in flashes(done.text))
