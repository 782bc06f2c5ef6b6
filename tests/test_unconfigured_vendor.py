"""A vendor plugin that is installed but not configured gets the same answer from every command that
takes a vendor: one line naming the configuration file and what is configured, exit 2."""

from __future__ import annotations

import pytest

COMMANDS = [
    ("test-connection", "westcoast_stub"),
    ("import", "customers", "westcoast_stub"),
    ("import", "subscriptions", "westcoast_stub"),
    ("mappings", "list", "westcoast_stub"),
    ("mappings", "generate", "westcoast_stub"),
    ("mappings", "suggest", "westcoast_stub"),
    ("mappings", "add", "westcoast_stub", "--external-id", "1", "--customer", "Contoso Ltd", "--no-check"),
    ("mappings", "remove", "westcoast_stub", "--external-id", "1"),
    ("billing", "charges", "--period", "2026-11", "--vendor", "westcoast_stub"),
    ("billing", "reconcile", "--period", "2026-11", "--vendor", "westcoast_stub"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a[:2]) for a in COMMANDS])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_an_installed_but_unconfigured_vendor_exits_2_everywhere(cli, config, args, as_json):
    assert cli("customers", "add", "Contoso Ltd").code == 0
    result = cli(*args, *(["--json"] if as_json else []))
    assert result.code == 2, (args, result)
    assert result.out == ""
    [line] = result.err.strip().splitlines()
    assert "integrations.westcoast_stub is not configured (configured: also)" in line, line
