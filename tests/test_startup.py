"""Start-up stays cheap: help and the read-only monitoring commands load neither Alembic nor the HTTP
stack nor the plugins' client modules, and an up-to-date schema is checked with one query."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("alembic", "urllib3", "requests", "plugins.also.client", "plugins.also.sandbox")
HELP_NEEDS_NONE_OF = (*HEAVY, "sqlalchemy")
PROBE = """
import sys
from core.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("LOADED", ",".join(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


def loaded_by(*args: str, watch: tuple[str, ...] = HEAVY) -> list[str]:
    result = subprocess.run([sys.executable, "-c", PROBE.format(heavy=watch), *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    line = [x for x in result.stderr.splitlines() if x.startswith("LOADED")][-1]
    return [m for m in line.removeprefix("LOADED").strip().split(",") if m]


def test_the_schema_head_is_read_from_the_migration_files_as_alembic_reads_it():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from core.db import MIGRATIONS, head_revision

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_help_loads_neither_the_database_layer_nor_the_http_stack():
    assert loaded_by("--help", watch=HELP_NEEDS_NONE_OF) == []


@pytest.mark.parametrize("command", ["status", "history"])
def test_monitoring_an_up_to_date_database_loads_no_heavy_module(cli, config, command):
    assert cli("customers", "list").code == 0  # creates the schema, in this process
    assert loaded_by("-c", str(config), command) == []
