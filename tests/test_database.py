"""The schema is versioned: an old database upgrades without losing data; customers round-trip."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, text

from core.db import open_database, upgrade_schema
from core.errors import DatabaseError


def test_a_database_created_by_the_first_schema_version_upgrades_cleanly(tmp_path):
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade_schema(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO customers (id, name, top_level, active, created_at) "
                          "VALUES (1, 'Café Lumière SARL', 'ALSO Customers', 1, '2024-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO sync_runs (id, vendor, entity, started_at, status, created, updated, "
                          "deactivated, errors) VALUES (1, 'also', 'customers', '2024-01-01 00:00:00', 'ok', 1, 0, "
                          "0, '[]')"))
        conn.execute(text("INSERT INTO licences (id, vendor, external_id, customer_id, vendor_customer_id, name, "
                          "status, active, quantity, updated_at) VALUES (1, 'also', '200130', 1, '100013', "
                          "'Exchange Online (Plan 2)', 'Active', 1, 2, '2024-01-01 00:00:00')"))
    engine.dispose()

    open_database(f"sqlite:///{path}")

    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0005"
        assert conn.execute("SELECT name, top_level FROM customers").fetchall() == [
            ("Café Lumière SARL", "ALSO Customers")]
        assert conn.execute("SELECT quantity FROM licences WHERE external_id='200130'").fetchone() == (2,)
        assert conn.execute("SELECT billing_cycle, commitment_months, sku, tenant_id FROM licences").fetchone() == (
            None, None, None, None)  # licence terms (0004) start empty
        assert conn.execute("SELECT held_back FROM sync_runs").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM integration_locks").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM web_settings").fetchone() == (0,)  # the console's (0005)
        assert conn.execute("SELECT count(*) FROM web_actions").fetchone() == (0,)


def test_a_current_database_is_not_written_when_opened(tmp_path):
    path = tmp_path / "db.sqlite"
    open_database(f"sqlite:///{path}")
    before = path.read_bytes()
    open_database(f"sqlite:///{path}")
    assert path.read_bytes() == before


def test_a_database_newer_than_the_release_is_refused(tmp_path):
    path = tmp_path / "future.db"
    open_database(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num='9999'")
    with pytest.raises(DatabaseError, match="newer than this release"):
        open_database(f"sqlite:///{path}")


def test_an_unreachable_database_server_is_one_line_without_the_password(tmp_path):
    pytest.importorskip("psycopg", reason="needs a PostgreSQL driver")
    with pytest.raises(DatabaseError) as info:
        open_database("postgresql+psycopg://user:s3cret@127.0.0.1:1/db")
    assert "s3cret" not in str(info.value) and "\n" not in str(info.value)


def test_customers_add_and_list_round_trip_non_ascii_names(cli, config):
    for name in ("Müller & Söhne GmbH", "Žilina Systems s.r.o.", "株式会社テスト"):
        assert cli("customers", "add", name, "--top-level", "Direct").code == 0
    customers = cli("customers", "list", "--json").json
    assert sorted(c["name"] for c in customers) == sorted(["Müller & Söhne GmbH", "Žilina Systems s.r.o.",
                                                           "株式会社テスト"])
    assert all(c["top_level"] == "Direct" and c["active"] is True and c["main_site"] is None for c in customers)
    assert set(customers[0]) == {"id", "name", "top_level", "active", "main_site"}


def test_adding_a_customer_twice_is_a_clear_error(cli, config):
    assert cli("customers", "add", "Contoso Ltd").code == 0
    result = cli("customers", "add", "Contoso Ltd")
    assert result.code == 2
    assert "a customer named 'Contoso Ltd' already exists" in result.err
    assert len(cli("customers", "list", "--json").json) == 1


def test_several_processes_starting_on_a_new_database_all_succeed(config):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    procs = [subprocess.Popen([sys.executable, "-m", "core.cli", "customers", "list", "--json"], cwd=root,
                              env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    results = [(p.wait(timeout=60), p.communicate()[1]) for p in procs]
    assert [code for code, _ in results] == [0, 0, 0, 0], results
