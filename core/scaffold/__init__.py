"""``integrator plugins new NAME``: a working vendor plugin package to start from.

The package is copied from ``template/``, with these placeholders replaced in file names and
contents: ``__NAME__`` (the entry-point name), ``__PACKAGE__`` (the import package),
``__DIST__`` (the distribution), ``__TITLE__`` (shown to people), ``__CLASS__`` (class prefix) and
``__ENV__`` (environment variable prefix).
"""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "template"
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class ScaffoldError(ValueError):
    """The name or the target folder cannot be used; the message says why."""


def placeholders(name: str) -> dict[str, str]:
    words = [w for w in name.split("_") if w]
    return {
        "__PACKAGE__": f"{name}_integrator",
        "__DIST__": f"{name.replace('_', '-')}-integrator",
        "__TITLE__": " ".join(w.capitalize() for w in words),
        "__CLASS__": "".join(w.capitalize() for w in words),
        "__ENV__": name.upper(),
        "__NAME__": name,
    }


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def new_plugin(name: str, folder: Path) -> Path:
    """Write the plugin package for vendor ``name`` as ``folder/name``; return that path."""
    if not NAME.fullmatch(name):
        raise ScaffoldError(f"{name!r} cannot be a vendor name: use lower-case letters, digits and _ "
                            "(starting with a letter), e.g. acme or acme_cloud")
    target = folder / name
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(f"{target} already exists and is not empty: choose another --dir or remove it")
    values = placeholders(name)
    for source in sorted(TEMPLATE.rglob("*")):
        if source.is_dir() or "__pycache__" in source.parts or source.suffix == ".pyc":
            continue
        relative = _fill(str(source.relative_to(TEMPLATE)), values)
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(_fill(source.read_text(encoding="utf-8"), values), encoding="utf-8")
    return target
