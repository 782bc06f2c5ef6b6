"""The Westcoast stub goes through the same mappings, imports, history and daemon as ALSO."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def westcoast_config(tmp_path: Path, database_url: str, also_settings=None, **overrides) -> Path:
    export = tmp_path / "export.json"
    if not export.exists():
        shutil.copy(ROOT / "config" / "westcoast-export.example.json", export)
    integrations = {"westcoast_stub": {"file": str(export), "top_level_for_new_customers": "Westcoast Customers",
                                       "set_price_and_cost": True, "integrator": {"enabled": True}, **overrides}}
    if also_settings:
        integrations["also"] = also_settings
    path = tmp_path / "wc.yaml"
    path.write_text(yaml.safe_dump({"database": database_url, "integrations": integrations}))
    return path


def test_the_westcoast_stub_syncs_customers_and_licences_end_to_end(cli, tmp_path, database_url):
    config = westcoast_config(tmp_path, database_url)
    result = cli("-c", str(config), "run", "--once")
    assert result.code == 0, result.err
    customers = {c["name"]: c for c in cli("-c", str(config), "customers", "list", "--json").json}
    assert customers["Blue Yonder Airlines"]["top_level"] == "Westcoast Customers"
    assert customers["Blue Yonder Airlines"]["main_site"]["city"] == "Manchester"
    licences = {lic["external_id"]: lic for lic in cli("-c", str(config), "licences", "list", "--json").json}
    assert licences["WS-1"]["quantity"] == 10 and licences["WS-1"]["price"] == "19.70"
    assert licences["WS-1"]["vendor"] == "westcoast_stub"
    assert licences["WS-2"]["end_date"] is None


def test_a_licence_deleted_from_the_export_is_deactivated_as_configured(cli, tmp_path, database_url):
    # The customer's only licence is replaced: 100% of it, so the guard must be opened to let it through.
    config = westcoast_config(tmp_path, database_url, deactivate_deleted_licences=True, mass_deactivation_threshold=1.0)
    cli("-c", str(config), "run", "--once")
    export = tmp_path / "export.json"
    data = json.loads(export.read_text())
    data["subscriptions"] = [s for s in data["subscriptions"] if s["id"] != "WS-2"]
    data["subscriptions"].append({"id": "WS-3", "customer_id": "WC-101", "name": "Teams Phone", "quantity": 2})
    export.write_text(json.dumps(data))
    assert cli("-c", str(config), "run", "--once").code == 0
    licences = {lic["external_id"]: lic for lic in cli("-c", str(config), "licences", "list", "--json").json}
    assert licences["WS-2"]["active"] is False and licences["WS-3"]["active"] is True
    history = cli("-c", str(config), "licences", "history", "--json").json
    assert any(h["external_id"] == "WS-2" and h["field"] == "active" and h["new"] == "false" for h in history)


def test_both_vendors_share_one_customer_by_exact_name(cli, tmp_path, database_url, sandbox, also_settings,
                                                      monkeypatch):
    monkeypatch.setenv("ALSO_TEST_PASSWORD", "sandbox-password")
    config = westcoast_config(tmp_path, database_url, also_settings=also_settings)
    assert cli("-c", str(config), "run", "--once").code == 0
    contoso = cli("-c", str(config), "licences", "list", "--customer", "Contoso Ltd", "--json").json
    assert {lic["vendor"] for lic in contoso} == {"also", "westcoast_stub"}
    assert [c["name"] for c in cli("-c", str(config), "customers", "list", "--json").json].count("Contoso Ltd") == 1


def test_a_missing_export_file_is_a_one_line_error(cli, tmp_path, database_url):
    config = westcoast_config(tmp_path, database_url, file=str(tmp_path / "missing.json"))
    result = cli("-c", str(config), "test-connection", "westcoast_stub")
    assert result.code == 1 and f"Westcoast export file {tmp_path}/missing.json does not exist" in result.err
