"""A plugin imports only the SDK: ``core`` (hookimpl, the types, the settings base and helpers) and
``core.hookspecs``, ``core.types``, ``core.errors``, ``core.vendor``, ``core.redact``, ``core.testing``,
``core.scaffold``. The shipped plugins and the scaffold's template are held to it, read from their imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import core

ROOT = Path(__file__).resolve().parent.parent
SDK = {"core", "core.hookspecs", "core.types", "core.errors", "core.vendor", "core.redact", "core.testing",
       "core.scaffold"}


def _in_sdk(module: str) -> bool:
    return any(module == sdk or module.startswith(sdk + ".") for sdk in SDK - {"core"}) or module == "core"


def core_imports(path: Path) -> list[tuple[int, str]]:
    """Every core module (or ``core`` name) the file imports, as (line, what)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "core"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "core":
            if node.module == "core":
                found += [(node.lineno, f"core.{a.name}") if a.name not in core.__all__ else (node.lineno, "core")
                          for a in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def plugin_files() -> list[Path]:
    files = sorted((ROOT / "plugins").rglob("*.py")) + sorted((ROOT / "core" / "scaffold" / "template").rglob("*.py"))
    return [f for f in files if "__pycache__" not in f.parts]


@pytest.mark.parametrize("path", plugin_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_shipped_plugin_imports_only_the_sdk(path):
    outside = [f"line {line}: {what}" for line, what in core_imports(path) if not _in_sdk(what)]
    assert outside == [], f"{path.relative_to(ROOT)} imports past the SDK"


def test_every_name_core_offers_plugins_is_importable():
    for name in core.__all__:
        assert getattr(core, name) is not None, name


def test_the_check_itself_sees_an_import_past_the_sdk(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from core.db import store\nfrom core import shapes, hookimpl\nimport core.sync.app\n")
    assert [what for _, what in core_imports(sneaky) if not _in_sdk(what)] == [
        "core.db", "core.shapes", "core.sync.app"]
