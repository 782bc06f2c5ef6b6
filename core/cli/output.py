"""Plain-text tables for people (fitted to the terminal); ``--json`` values (UTC times, decimal money)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len, set_cell_size

ELLIPSIS = "…"


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    text = str(value)
    # A newline or other control character in a name must not break the row.
    return "".join(ch if ch.isprintable() else " " for ch in text) if not text.isprintable() else text


def terminal_width() -> int | None:
    """The width to fit: the terminal's, or $COLUMNS; None when printing to a pipe or file."""
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def _fit(widths: list[int], floor: list[int], width: int) -> list[int]:
    widths = list(widths)
    while sum(widths) + 2 * (len(widths) - 1) > width:
        widest = max(range(len(widths)), key=lambda i: widths[i] - floor[i])
        if widths[widest] <= floor[widest]:
            break
        widths[widest] -= 1
    return widths


def _pad(text: str, width: int) -> str:
    if cell_len(text) > width:
        return set_cell_size(text, max(width - 1, 0)) + ELLIPSIS if width else ""
    return set_cell_size(text, width)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], width: int | None = None) -> str:
    """Columns aligned by display width (East Asian wide characters count two); wide columns are cut
    with an ellipsis so that the table fits ``width`` (default: the terminal)."""
    texts = [[cell(v) for v in row] for row in rows]
    widths = [max([cell_len(h), *(cell_len(r[i]) for r in texts)]) for i, h in enumerate(headers)]
    width = width if width is not None else terminal_width()
    if width:
        widths = _fit(widths, [min(w, max(cell_len(h), 4)) for w, h in zip(widths, headers, strict=True)], width)
    lines = ["  ".join(_pad(h, w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(_pad(v, w) for v, w in zip(r, widths, strict=True)).rstrip() for r in texts]
    return "\n".join(lines)
