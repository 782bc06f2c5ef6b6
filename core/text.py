"""Text from a vendor is untrusted: what makes it safe to show to a person, in a terminal or a browser.

A company named with U+202E (RIGHT-TO-LEFT OVERRIDE) reverses everything after it on the line: the
console's own id and quantity in a plan line, an amount in a table. Bidirectional controls and other
control characters are therefore shown as what they are (``<U+202E>``), never obeyed.
"""

from __future__ import annotations

import unicodedata

#: Embeddings, overrides and isolates (U+202A-202E, U+2066-2069) and the invisible direction marks.
BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)


def _unsafe(ch: str) -> bool:
    if ch in BIDI_CONTROLS:
        return True
    category = unicodedata.category(ch)
    return category == "Cc" or category in ("Zl", "Zp")  # C0/C1 controls (ESC, newline, ...), line separators


def visible(text: str, marker: str = "<U+{:04X}>") -> str:
    """``text`` with every bidirectional control and control character replaced by a visible ``<U+XXXX>``
    (``marker``), so that it cannot reorder, recolour or break the line it is shown on. Other text,
    right-to-left letters included, is unchanged."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(marker.format(ord(ch)) if _unsafe(ch) else ch for ch in text)


def visible_lines(text: str) -> str:
    """:func:`visible` line by line: for output that is several lines on purpose (a log record with its traceback)."""
    return "\n".join(visible(line) for line in text.split("\n"))


def has_controls(text: str) -> bool:
    return any(_unsafe(ch) for ch in text)


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 licence``, ``2 licences``: a count with its noun in the right number (never "licence(s)")."""
    return f"{count} {noun if count == 1 else (plural or noun + 's')}"
