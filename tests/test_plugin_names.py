"""Plugin names are unique and typed right: ``plugins new`` refuses an installed plugin's name, two
distributions registering one entry-point name are reported (never one picked silently), and a mistyped
name in INTEGRATOR_DISABLE_PLUGINS is warned about."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


def install(site: Path, dist: str, version: str, entry: str, module: str, source: str) -> None:
    """A distribution laid out as pip would: its module and a dist-info with one integrator entry point."""
    (site / f"{module}.py").write_text(source)
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[integrator]\n{entry} = {module}\n")


@pytest.fixture
def site(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path_factory.mktemp("site")
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name in ("fake_also", "acme_twin"):
        sys.modules.pop(name, None)


@pytest.mark.parametrize("name", ["also", "westcoast_stub", "pax8"])
def test_plugins_new_refuses_the_name_of_an_installed_plugin(cli, tmp_path, name):
    result = cli("plugins", "new", name, "--dir", str(tmp_path))
    assert result.code == 2, result.err
    assert "installed plugin" in result.err and name in result.err and len(result.err.splitlines()) == 1
    assert not (tmp_path / name).exists()


def test_plugins_new_refuses_a_third_party_plugins_name(cli, external_plugin, tmp_path):
    result = cli("plugins", "new", "acme_cloud", "--dir", str(tmp_path))
    assert result.code == 2 and "acme-cloud-plugin" in result.err
    assert cli("plugins", "new", "acme_other", "--dir", str(tmp_path)).code == 0


def test_two_distributions_registering_one_name_are_reported_not_one_picked(cli, config, site):
    install(site, "also-lookalike", "0.1.0", "also", "fake_also", "raise RuntimeError('must not be imported')\n")
    for args in (["plugins"], ["run", "--once"]):
        result = cli(*args)
        assert result.code == 2, result.err
        assert "'also'" in result.err and "also-lookalike" in result.err and "psa-integrator" in result.err
        assert "must not be imported" not in result.err and len(result.err.splitlines()) == 1


def test_a_mistyped_disabled_plugin_is_warned_about(cli, monkeypatch):
    monkeypatch.setenv("INTEGRATOR_DISABLE_PLUGINS", "westcoast_stbu")
    result = cli("plugins")
    assert result.code == 0
    assert "INTEGRATOR_DISABLE_PLUGINS" in result.err and "did you mean 'westcoast_stub'" in result.err
    assert "westcoast_stub" in result.out  # still loaded: the mistyped name disabled nothing
    monkeypatch.setenv("INTEGRATOR_DISABLE_PLUGINS", "westcoast_stub")
    result = cli("plugins")
    assert result.code == 0 and result.err == "" and "westcoast_stub" not in result.out
