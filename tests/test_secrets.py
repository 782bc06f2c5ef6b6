"""Secrets: where the password may come from, and that neither it nor a session token ever leaks."""

from __future__ import annotations

import logging

import pytest

from core.config.file import load_config
from core.errors import ConfigError
from core.host.plugins import get_plugin_manager


def load(path):
    return load_config(path, get_plugin_manager())


def test_the_password_can_come_from_a_private_file_relative_to_the_config(write_config, tmp_path, caplog):
    secret = tmp_path / "also.pass"
    secret.write_text("sandbox-password\n")
    secret.chmod(0o600)
    path = write_config(password=None, password_file="also.pass")
    with caplog.at_level(logging.WARNING):
        settings = load(path).integrations["also"]
    assert settings.password.get_secret_value() == "sandbox-password"
    assert "written in the file" not in caplog.text


def test_a_password_file_readable_by_others_is_refused(write_config, tmp_path):
    secret = tmp_path / "also.pass"
    secret.write_text("x")
    secret.chmod(0o644)
    path = write_config(password=None, password_file=str(secret))
    with pytest.raises(ConfigError, match=r"integrations\.also: password_file .* is readable by others \(mode 644\)"):
        load(path)


def test_exactly_one_password_source(write_config, tmp_path):
    secret = tmp_path / "p"
    secret.write_text("x")
    secret.chmod(0o600)
    with pytest.raises(ConfigError, match="give exactly one of password, password_file or password_keyring"):
        load(write_config(password_file=str(secret)))
    with pytest.raises(ConfigError, match="give exactly one"):
        load(write_config(password=None))


def test_the_keyring_source_says_what_it_needs(write_config):
    try:
        import keyring  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="password_keyring needs the 'keyring' package"):
            load(write_config(password=None, password_keyring="psa-integrator"))
    else:
        pytest.skip("a keyring package is installed; its backend is the machine's")


def test_tls_verification_cannot_be_turned_off(write_config):
    with pytest.raises(ConfigError, match=r"integrations\.also\.verify_tls: unknown key"):
        load(write_config(verify_tls=False))


COMMANDS = [
    ["plugins"], ["test-connection", "also"], ["customers", "add", "Contoso Ltd"], ["mappings", "generate", "also"],
    ["mappings", "suggest", "also"], ["import", "customers", "also", "--dry-run"], ["import", "customers", "also"],
    ["import", "subscriptions", "also", "--dry-run"], ["import", "subscriptions", "also"], ["run", "--once"],
    ["customers", "list", "--json"], ["mappings", "list", "also", "--json"], ["licences", "list", "--json"],
    ["licences", "history", "--json"], ["history", "--json"], ["status", "--json"],
    ["mappings", "remove", "also", "--external-id", "100010"],
    ["mappings", "add", "also", "--external-id", "100010", "--customer", "Contoso Ltd"],
]


def test_no_command_ever_shows_or_stores_the_password_or_a_token(cli, write_config, sandbox, db, caplog,
                                                                   monkeypatch):
    write_config()
    seen = []
    with caplog.at_level(logging.DEBUG):
        for command in COMMANDS:
            result = cli("-v", *command)
            seen.append(result.out + result.err)
        sandbox.state.expire_all_tokens()  # a re-login mid-run, then failures of every kind
        seen.append(cli("-v", "run", "--once").err)
        sandbox.inject(operation="GetSubscriptions", status=500, times=-1, message="fault")
        seen.append(cli("-v", "import", "subscriptions", "also").err)
        monkeypatch.setenv("ALSO_TEST_PASSWORD", "an-entirely-wrong-Passw0rd")
        seen.append(cli("-v", "test-connection", "also").err)
    tokens = list(sandbox.state.issued)
    assert len(tokens) >= len(COMMANDS) // 2
    everything = "\n".join(seen) + caplog.text
    database = db.file_bytes() or b""
    stored = "\n".join(db.dump())
    for secret in ["sandbox-password", "an-entirely-wrong-Passw0rd", *tokens]:
        assert secret not in everything
        assert secret not in stored and secret.encode() not in database
