"""Shared fixtures: a loopback ALSO sandbox, a config file and database per test, and a CLI runner."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.cli import main
from plugins.also import sandbox as sb

PASSWORD = sb.DEFAULT_PASSWORD
#: An admin URL of a PostgreSQL server: when set, every test gets a fresh database on it instead of SQLite.
TEST_DATABASE_ENV = "INTEGRATOR_TEST_DATABASE_URL"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that gets a database (``database_url``, directly or through ``db``, ``config``,
    ``write_config`` or any fixture built on them) as ``database``: CI's PostgreSQL leg runs only those."""
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.database)


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
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for one test: a SQLite file, or a new PostgreSQL database."""
    admin_url = os.environ.get(TEST_DATABASE_ENV)
    if not admin_url:
        yield f"sqlite:///{tmp_path / 'integrator.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class DatabaseProbe:
    """What tests read from the database, whichever engine it is."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine = create_engine(url, poolclass=NullPool)

    def query(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]

    def dump(self, exclude: tuple[str, ...] = ()) -> list[str]:
        """Every row of every table, in key order, for before/after comparisons."""
        from sqlalchemy import MetaData, select

        metadata = MetaData()
        metadata.reflect(self.engine)
        lines = []
        with self.engine.connect() as conn:
            for name in sorted(metadata.tables):
                if name in exclude:
                    continue
                table = metadata.tables[name]
                order = list(table.primary_key.columns) or list(table.columns)
                lines += [f"{name}: {tuple(row)!r}" for row in conn.execute(select(table).order_by(*order))]
        return lines

    def file_bytes(self) -> bytes | None:
        """The SQLite file itself (None on a server database, where the table dump is what counts)."""
        if not self.is_sqlite:
            return None
        return Path(self.url.removeprefix("sqlite:///")).read_bytes()

    def age_runs(self, hours: float) -> None:
        """Pretend every sync run finished ``hours`` earlier."""
        from datetime import timedelta

        from sqlalchemy import select, update

        from core.db.models import SyncRun

        with self.engine.begin() as conn:
            for run_id, finished in conn.execute(select(SyncRun.id, SyncRun.finished_at)).all():
                if finished is not None:
                    conn.execute(update(SyncRun).where(SyncRun.id == run_id)
                                 .values(finished_at=finished - timedelta(hours=hours)))


@pytest.fixture
def db(database_url: str) -> Iterator[DatabaseProbe]:
    probe = DatabaseProbe(database_url)
    yield probe
    probe.engine.dispose()


@pytest.fixture
def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str,
                 also_settings: dict[str, Any]) -> Callable[..., Path]:
    """Write integrator.yaml in a fresh folder and point INTEGRATOR_CONFIG at it."""
    monkeypatch.setenv("ALSO_TEST_PASSWORD", PASSWORD)

    def write(integrations: dict[str, Any] | None = None, **also: Any) -> Path:
        settings = {**also_settings, **also}
        data = {"database": database_url,
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
