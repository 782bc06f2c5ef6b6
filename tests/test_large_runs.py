"""Large runs: what a run keeps does not grow with every licence it writes, and a first import on
PostgreSQL refreshes the planner's statistics as the licence table grows from nothing."""

from __future__ import annotations

import pytest

from core.sync.runs import PLAN_LINES_KEPT
from plugins.also import sandbox as sb

COMPANIES, PER_COMPANY = 220, 10  # 2,200 licences: past the statistics threshold and the kept plan lines


@pytest.fixture
def large_sandbox():
    server = sb.SandboxServer(sb.make_state(sb.generated_data(COMPANIES, PER_COMPANY)), "127.0.0.1", 0).start()
    yield server
    server.stop()


@pytest.fixture
def mapped(cli, write_config, large_sandbox):
    write_config(url=large_sandbox.url, max_concurrency=8)
    assert cli("import", "customers", "also").code == 0
    return cli


def test_a_large_import_lists_the_first_lines_of_its_plan_and_counts_the_rest(mapped, db):
    result = mapped("import", "subscriptions", "also")
    assert result.code == 0
    total = COMPANIES * PER_COMPANY
    plan = [line for line in result.out.splitlines() if line.startswith("create ")]
    assert len(plan) == PLAN_LINES_KEPT
    assert f"... and {total - PLAN_LINES_KEPT} more (--dry-run lists every one)" in result.out
    assert db.query("SELECT count(*) FROM licences") == [(total,)]


def test_a_dry_run_lists_every_line_of_its_plan(mapped):
    result = mapped("import", "subscriptions", "also", "--dry-run")
    assert result.code == 0
    assert len([line for line in result.out.splitlines() if line.startswith("create ")]) == COMPANIES * PER_COMPANY
    assert "more (--dry-run" not in result.out


def test_a_large_first_import_on_postgresql_refreshes_the_statistics(mapped, db):
    if db.is_sqlite:
        pytest.skip("ANALYZE matters on PostgreSQL (INTEGRATOR_TEST_DATABASE_URL)")
    assert mapped("import", "subscriptions", "also").code == 0
    analyzed = db.query("SELECT analyze_count, n_live_tup FROM pg_stat_user_tables "
                        "WHERE relname = 'licences'")
    assert analyzed and analyzed[0][0] >= 1
