"""One rule each, asked by every face: "is this setting a secret?" (``core.redact.is_secret_setting``)
and "how is this money written?" (``core.shapes.money``). The configuration, the console, the CLI's
JSON and the billing documents agree because they ask the same function."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from core import Connection, Listing, VendorAccount, hookimpl
from core.config.file import UNRESOLVED_SECRET, load_config
from core.config.settings import VendorSettings
from core.errors import ConfigError
from core.host.plugins import get_plugin_manager
from core.redact import is_secret_setting
from core.shapes import money
from core.web.views_setup import shown_settings

ROOT = Path(__file__).resolve().parent.parent

NAMES = {
    "password": True, "api_key": True, "apikey": True, "client_secret": True, "token": True,
    "access_token": True, "webhook_secret": True,
    "password_file": False, "password_keyring": False, "api_key_file": False,
    "username": False, "client_id": False, "url": False, "tenant": False,
}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_the_one_secret_rule(name):
    assert is_secret_setting(name) is NAMES[name]


class KeySettings(VendorSettings):
    api_key: str = ""  # deliberately a plain str: the name alone makes it a secret
    client_id: str = ""


class KeyVendor:
    @hookimpl
    def integrator_settings_model(self):
        return KeySettings

    @hookimpl
    def integrator_connect(self, settings):
        return Connection(vendor="keyed", title="Keyed", account=VendorAccount("1", "Me"))

    @hookimpl
    def integrator_list_customers(self, connection):
        return Listing(items=[])

    @hookimpl
    def integrator_list_subscriptions(self, connection, customer):
        return Listing(items=[])


def _keyed(tmp_path: Path, block: str):
    pm = get_plugin_manager(load_entry_points=False)
    pm.register(KeyVendor(), name="keyed")
    path = tmp_path / "integrator.yaml"
    path.write_text(f"database: sqlite:///{tmp_path / 'db.sqlite'}\nintegrations:\n  keyed:\n{block}")
    return path, pm


def test_a_command_that_needs_no_secret_reads_no_api_key(tmp_path, monkeypatch):
    """The configuration asks the rule: an api_key's variable may be unset for a command that never
    talks to the vendor, while a plain setting's variable must be set."""
    monkeypatch.delenv("KEYED_API_KEY", raising=False)
    monkeypatch.setenv("KEYED_CLIENT", "c-1")
    path, pm = _keyed(tmp_path, "    api_key: ${KEYED_API_KEY}\n    client_id: ${KEYED_CLIENT}\n")
    settings = load_config(path, pm, secrets=False).integrations["keyed"]
    assert settings.api_key == UNRESOLVED_SECRET and settings.client_id == "c-1"
    with pytest.raises(ConfigError, match="KEYED_API_KEY is not set"):
        load_config(path, pm, secrets=True)


def test_an_invalid_secret_is_not_echoed_in_the_error(tmp_path):
    path, pm = _keyed(tmp_path, "    api_key: [hunter2]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, pm)
    assert "integrations.keyed.api_key" in str(caught.value) and "hunter2" not in str(caught.value)


def test_the_console_hides_what_the_rule_calls_a_secret():
    class Shown(VendorSettings):
        api_key: str = "k-123"
        password_file: str = "/etc/integrator/pw"
        client_id: str = "c-1"
        token: SecretStr = SecretStr("t-1")

    rows = dict(shown_settings(Shown()))
    assert rows["api_key"] == rows["token"] == "(set, hidden)"
    assert rows["password_file"] == "/etc/integrator/pw" and rows["client_id"] == "c-1"


def _defined_tuples_with(*words: str) -> list[str]:
    """Modules that spell out their own list of secret words (a second rule)."""
    found = []
    for path in sorted((ROOT / "core").rglob("*.py")) + sorted((ROOT / "plugins").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Tuple | ast.List | ast.Set):
                values = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                if all(w in values for w in words):
                    found.append(str(path.relative_to(ROOT)))
    return found


def test_no_module_but_redact_keeps_its_own_secret_words():
    assert _defined_tuples_with("password", "token") == ["core/redact.py"]


# -- money ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "amount", "unit_price"), [
    (Decimal("13.5000"), "13.50", "13.50"),
    (Decimal("1E-7"), "0.00", "0.0000001"),
    (Decimal("3.1234"), "3.12", "3.1234"),
    (Decimal("0.005"), "0.01", "0.005"),
    (Decimal("-0.005"), "-0.01", "-0.005"),
    (Decimal("1E+3"), "1000.00", "1000.00"),
    (Decimal("7"), "7.00", "7.00"),
    ("2.5", "2.50", "2.50"),
    (None, None, None),
])
def test_the_one_money_formatter(value, amount, unit_price):
    assert money(value) == amount
    assert money(value, unit=True) == unit_price


def _money_formatters() -> list[str]:
    """Functions other than core.shapes.money that quantize money to cents for display."""
    found = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        if path == ROOT / "core" / "shapes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and ("money" in node.name or "price" in node.name):
                text = ast.unparse(node)
                if "quantize" in text and ("format(" in text or "str(" in text):
                    found.append(f"{path.relative_to(ROOT)}:{node.name}")
    return found


def test_no_second_money_formatter():
    assert _money_formatters() == []


def test_the_cli_writes_licence_prices_as_unit_prices(cli, config, database_url):
    """A price stored with four places is written with its own places, a cost of 13.5000 as 13.50."""
    from core.db import clock, open_database, store
    from core.db.models import Licence

    assert cli("customers", "add", "Contoso").code == 0
    sessions = open_database(database_url)
    with sessions.begin() as session:
        customer = store.find_customer(session, "Contoso")
        session.add(Licence(vendor="also", external_id="L1", customer_id=customer.id, vendor_customer_id="C1",
                            name="Tiny", status="Active", active=True, quantity=1, price=Decimal("0.0001"),
                            cost=Decimal("13.5000"), currency="EUR", updated_at=clock.now()))
    sessions.kw["bind"].dispose()
    row = cli("licences", "list", "--json").json[0]
    assert (row["price"], row["cost"]) == ("0.0001", "13.50")
