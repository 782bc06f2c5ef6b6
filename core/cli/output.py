"""Plain-text tables for people (fitted to the terminal); ``--json`` values (UTC times, decimal money)."""

from __future__ import annotations

import os
import re
import shutil
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len, set_cell_size

from core.text import visible

ELLIPSIS = "…"


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    # Vendor text is untrusted: a bidi control (U+202E) would reorder the row, a newline break it, an
    # escape sequence act on the terminal. Shown as <U+202E>, the one rule the console uses too.
    return visible(str(value))


def terminal_width() -> int | None:
    """The width to fit: the terminal's, or $COLUMNS; None when printing to a pipe or file."""
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def fill(text: str, indent: str = "  ") -> str:
    """A sentence for people wrapped to the terminal (in a pipe: as it is), its later lines indented;
    vendor text in it shown safely."""
    width = terminal_width()
    text = visible(text)
    if not width:
        return text
    return textwrap.fill(text, width, subsequent_indent=indent, break_on_hyphens=False, break_long_words=True)


#: A value that is never cut: a number or amount, a date or time, a count like 10/30, a UUID.
_WHOLE_VALUE = re.compile(r"[-+]?[\d.,:/ T-]*\d[\d.,:/ TZ-]*|[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def _is_whole(values: list[str]) -> bool:
    present = [v for v in values if v != "-"]
    return bool(present) and all(_WHOLE_VALUE.fullmatch(v) for v in present)


def _pad(text: str, width: int) -> str:
    if cell_len(text) > width:
        return set_cell_size(text, max(width - 1, 0)) + ELLIPSIS if width else ""
    return set_cell_size(text, width)


def _total(widths: list[int]) -> int:
    return sum(widths) + 2 * (len(widths) - 1)


def _shrink(widths: list[int], floor: list[int], which: list[int], width: int) -> None:
    """Narrow the ``which`` columns, the widest above its floor first, until the table fits ``width``."""
    while _total(widths) > width:
        candidates = [i for i in which if widths[i] > floor[i]]
        if not candidates:
            return
        widest = max(candidates, key=lambda i: widths[i] - floor[i])
        widths[widest] -= 1


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], width: int | None = None, *,
          optional: Sequence[str] = (), whole: Sequence[str] = (), indent: int = 0) -> str:
    """Columns aligned by display width (East Asian wide characters count two), fitted to ``width``
    (default: the terminal's; in a pipe nothing is fitted), every line ``indent`` spaces in.

    To fit, the ``optional`` columns are left out first (in the order given, and a last line says
    which), then text columns are cut with an ellipsis. A ``whole`` column is never cut: dates, ids,
    amounts, counts (a column whose every value looks like one is whole too); only its header may be.
    """
    texts = [[cell(v) for v in row] for row in rows]
    names = list(headers)
    widths = [max([cell_len(h), *(cell_len(r[i]) for r in texts)]) for i, h in enumerate(names)]
    width = width if width is not None else terminal_width()
    left_out: list[str] = []
    if width:
        width = max(width - indent, 1)
        # Optional columns go before a text column is cut below a readable width.
        readable = [w if _is_whole([r[i] for r in texts]) or names[i] in whole else min(w, max(cell_len(names[i]), 16))
                    for i, w in enumerate(widths)]
        for name in optional:
            if _total(readable) <= width:
                break
            if name in names and len(names) > 1:
                i = names.index(name)
                left_out.append(name)
                del names[i], widths[i], readable[i]
                for r in texts:
                    del r[i]
        keep = [i for i, n in enumerate(names) if n in whole or _is_whole([r[i] for r in texts])]
        values = [max([0, *(cell_len(r[i]) for r in texts)]) for i in range(len(names))]
        floor = [values[i] if i in keep else min(widths[i], max(cell_len(n), 4)) for i, n in enumerate(names)]
        _shrink(widths, floor, [i for i in range(len(names)) if i not in keep], width)
        _shrink(widths, [max(values[i], 3) for i in range(len(names))], keep, width)  # whole: headers only
        _shrink(widths, [1] * len(names), [i for i in range(len(names)) if i not in keep], width)
        _shrink(widths, [1] * len(names), keep, width)  # a terminal too narrow for the whole values
    pad = " " * indent
    lines = [pad + "  ".join(_pad(h, w) for h, w in zip(names, widths, strict=True)).rstrip()]
    lines.append(pad + "  ".join("-" * w for w in widths))
    lines += [pad + "  ".join(_pad(v, w) for v, w in zip(r, widths, strict=True)).rstrip() for r in texts]
    if left_out:
        note = f"(left out to fit {width + indent} columns: {', '.join(left_out)}; --json has every field)"
        lines += [pad + part for part in textwrap.wrap(note, width)]
    return "\n".join(lines)
