"""Configuration: strict validation with errors naming the key and the file, secrets from the environment."""

from __future__ import annotations

import logging

import pytest

from core.config.file import load_config
from core.errors import ConfigError
from core.host.plugins import get_plugin_manager


def load(path):
    return load_config(path, get_plugin_manager())


def test_unknown_key_is_named_with_the_file(write_config):
    path = write_config(usernmae="typo")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert str(info.value) == f"{path}: integrations.also.usernmae: unknown key (did you mean 'username'?)"


def test_unknown_top_level_key_is_named(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("databse: sqlite:///x.db\n")
    with pytest.raises(ConfigError, match=r"c.yaml: databse: unknown key"):
        load(path)


def test_wrong_type_names_the_key(write_config):
    path = write_config(set_price_and_cost="yes please")
    with pytest.raises(ConfigError, match=r"integrations\.also\.set_price_and_cost: .*bool"):
        load(path)


def test_missing_required_setting_is_named(write_config, also_settings):
    settings = dict(also_settings)
    del settings["username"]
    path = write_config(integrations={"also": settings})
    with pytest.raises(ConfigError, match=r"integrations\.also\.username: missing required setting"):
        load(path)


def test_nested_integrator_setting_is_checked(write_config):
    path = write_config(integrator={"enabled": True, "run_at": "25:00"})
    with pytest.raises(ConfigError, match=r"integrations\.also\.integrator\.run_at: run_at must be"):
        load(path)


def test_unknown_vendor_is_an_error_naming_the_loaded_plugins(write_config):
    path = write_config(integrations={"alsoo": {"enabled": True}})
    with pytest.raises(ConfigError, match=r"integrations\.alsoo: no vendor plugin named 'alsoo'.*also"):
        load(path)


def test_environment_variables_are_substituted_and_missing_ones_named(write_config, monkeypatch):
    path = write_config()
    assert load(path).integrations["also"].password.get_secret_value() == "sandbox-password"
    monkeypatch.delenv("ALSO_TEST_PASSWORD")
    with pytest.raises(ConfigError, match=r"integrations\.also\.password: environment variable ALSO_TEST_PASSWORD"):
        load(path)


def test_a_literal_password_works_but_is_warned_about_without_showing_it(write_config, caplog):
    path = write_config(password="hunter2-literal")
    with caplog.at_level(logging.WARNING):
        settings = load(path).integrations["also"]
    assert settings.password.get_secret_value() == "hunter2-literal"
    assert "integrations.also.password is written in the file" in caplog.text
    assert "hunter2-literal" not in caplog.text
    assert "hunter2-literal" not in repr(settings)


def test_plain_http_is_refused_for_a_non_loopback_host(write_config):
    path = write_config(url="http://cloud.also.com")
    with pytest.raises(ConfigError, match=r"integrations\.also\.url: plain http:// is refused for cloud.also.com"):
        load(path)


def test_https_and_loopback_http_are_accepted(write_config):
    assert load(write_config(url="https://cloud.also.com/")).integrations["also"].url == "https://cloud.also.com"
    assert load(write_config(url="http://[::1]:9000")).integrations["also"].url == "http://[::1]:9000"


def test_a_relative_sqlite_path_is_relative_to_the_config_file(tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    path.write_text("database: sqlite:///integrator.db\n")
    monkeypatch.chdir("/")
    assert load(path).database_url == f"sqlite:///{tmp_path / 'integrator.db'}"


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("integrations:\n  also: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: invalid YAML at line \d+"):
        load(path)


def test_a_bad_config_gives_one_line_and_no_traceback(cli, write_config):
    write_config(retries="many")
    result = cli("customers", "list")
    assert result.code == 2
    assert result.err.count("\n") == 1 and "integrations.also.retries" in result.err
    assert "Traceback" not in result.err


def test_a_missing_config_file_says_how_to_give_one(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("INTEGRATOR_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    result = cli("customers", "list")
    assert result.code == 2
    assert "config file config/integrator.yaml not found: pass -c PATH or set INTEGRATOR_CONFIG" in result.err


def test_a_missing_database_folder_gives_one_line(cli, tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    path.write_text("database: sqlite:///no/such/folder/x.db\n")
    result = cli("-c", str(path), "customers", "list")
    assert result.code == 1
    assert f"database folder {tmp_path}/no/such/folder does not exist" in result.err
    assert "Traceback" not in result.err


def test_whole_numbers_are_accepted_where_a_decimal_is_and_booleans_are_not(write_config):
    settings = load(write_config(mass_deactivation_threshold=1, timeout_seconds=30)).integrations["also"]
    assert settings.mass_deactivation_threshold == 1.0 and settings.timeout_seconds == 30.0
    with pytest.raises(ConfigError, match=r"integrations\.also\.timeout_seconds"):
        load(write_config(timeout_seconds=True))
