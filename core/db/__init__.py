"""Opening the database and keeping its schema up to date."""

from __future__ import annotations

import re
import time
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import DatabaseError

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK_KEY = 0x1A7E6A7  # a PostgreSQL advisory lock key for schema upgrades


def reason(exc: SQLAlchemyError) -> str:
    """The first line of what the database driver said, for a one-line message."""
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def open_database(url: str, upgrade: bool = True) -> sessionmaker[Session]:
    """Connect, bring the schema to the newest version, and return a session factory."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        if not folder.is_dir():
            raise DatabaseError(f"database folder {folder} does not exist (database: {_safe(url)})")
    try:
        engine = _make_engine(url)
        if upgrade:
            upgrade_schema(engine)
        else:
            with engine.connect():
                pass
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot open database {_safe(url)}: {reason(exc)}") from None
    return sessionmaker(engine, expire_on_commit=False)


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def _alembic_config(connection):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def head_revision() -> str | None:
    """The newest migration, read from the migration files without importing Alembic (about 0.2 s of
    CPU that a command on an up-to-date database need not pay); None when it is not one clear head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    assignment = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in assignment.findall(path.read_text(encoding="utf-8")):
            found = set(re.findall(r"[\"']([^\"']+)[\"']", value))
            (revisions if name == "revision" else parents).update(found)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _is_current(engine: Engine) -> bool:
    """One query: is the database at the newest migration? False on any doubt (Alembic then decides)."""
    head = head_revision()
    if head is None:
        return False
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:  # no table yet: a new database
        return False
    return [tuple(row) for row in rows] == [(head,)]


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Apply every migration the database lacks; a no-op (no write) when it is current."""
    if revision == "head" and _is_current(engine):
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as connection:
        cfg = _alembic_config(connection)
        script = ScriptDirectory.from_config(cfg)
        target = script.get_current_head() if revision == "head" else revision
        if MigrationContext.configure(connection).get_current_revision() == target:
            return
        connection.rollback()
        server_lock = connection.dialect.name == "postgresql"
        if server_lock:  # several processes starting on one new database: one migrates, the others wait
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        try:
            current = MigrationContext.configure(connection).get_current_revision()
            known = {rev.revision for rev in script.walk_revisions()}
            if current is not None and current not in known:
                raise DatabaseError(
                    f"the database schema ({current}) is newer than this release knows: upgrade psa-integrator"
                )
            if current != target:
                try:
                    command.upgrade(cfg, revision)
                    connection.commit()
                except SQLAlchemyError:
                    connection.rollback()
                    # Another process (SQLite has no advisory lock) may be migrating it right now:
                    # give it a moment to finish before calling this a failure.
                    deadline = time.monotonic() + 10
                    while MigrationContext.configure(connection).get_current_revision() != target:
                        connection.rollback()
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.1)
        finally:
            connection.rollback()
            if server_lock:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                connection.commit()
