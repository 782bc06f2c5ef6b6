"""Shared fixtures: a loopback ALSO sandbox, a config file and database per test, and a CLI runner."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.cli import main
from plugins.also import sandbox as sb

PASSWORD = sb.DEFAULT_PASSWORD


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        import json

        return json.loads(self.out)


@pytest.fixture
def sandbox() -> Iterator[sb.SandboxServer]:
    server = sb.SandboxServer(sb.make_state(), "127.0.0.1", 0).start()
    yield server
    server.stop()


@pytest.fixture
def also_settings(sandbox: sb.SandboxServer) -> dict[str, Any]:
    return {
        "enabled": True,
        "url": sandbox.url,
        "username": sb.DEFAULT_USERNAME,
        "password": "${ALSO_TEST_PASSWORD}",
        "top_level_for_new_customers": "ALSO Customers",
        "retries": 2,
        "backoff_seconds": 0.01,
        "timeout_seconds": 5,
        "integrator": {"enabled": True, "entities_to_sync": ["customers", "subscriptions"], "run_at": "02:00"},
    }


@pytest.fixture
def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 also_settings: dict[str, Any]) -> Callable[..., Path]:
    """Write integrator.yaml in a fresh folder and point INTEGRATOR_CONFIG at it."""
    monkeypatch.setenv("ALSO_TEST_PASSWORD", PASSWORD)

    def write(integrations: dict[str, Any] | None = None, **also: Any) -> Path:
        settings = {**also_settings, **also}
        data = {"database": "sqlite:///integrator.db",
                "integrations": integrations if integrations is not None else {"also": settings}}
        path = tmp_path / "integrator.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        monkeypatch.setenv("INTEGRATOR_CONFIG", str(path))
        return path

    return write


@pytest.fixture
def config(write_config: Callable[..., Path]) -> Path:
    return write_config()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run the integrator command in-process, as a user would, and capture what it prints."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def dump_database(path: Path) -> list[str]:
    """Every row of every table, for before/after comparisons."""
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


@pytest.fixture
def external_plugin(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Install the third-party test plugin as a distribution on sys.path (dist-info with an entry point),
    exactly as pip would lay it out, so that discovery goes through installed metadata."""
    import shutil
    import sys

    site = tmp_path_factory.mktemp("site")
    shutil.copy(Path(__file__).parent / "external_plugin" / "acme_cloud_plugin.py", site)
    dist = site / "acme_cloud_plugin-0.3.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-cloud-plugin\nVersion: 0.3.0\n")
    (dist / "entry_points.txt").write_text("[integrator]\nacme_cloud = acme_cloud_plugin\n")
    monkeypatch.syspath_prepend(str(site))
    yield site
    sys.modules.pop("acme_cloud_plugin", None)
