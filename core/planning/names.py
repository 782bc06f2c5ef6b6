"""One spelling for a customer's name, for storage, lookup and exact-name matching.

"Müller AG" typed on a Mac (decomposed, NFD) and on Windows (composed, NFC) is one customer; so are
"  Spaced Ltd  " and "Spaced Ltd". A control character (a newline, a tab) has no place in a name: it
breaks every table and every exact match, so it is refused rather than guessed at.
"""

from __future__ import annotations

import unicodedata


def normalise_name(text: str) -> str:
    """``text`` in Unicode NFC with surrounding white space removed; ValueError naming a control character."""
    name = unicodedata.normalize("NFC", text).strip()
    for ch in name:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            raise ValueError(f"contains a control character (U+{ord(ch):04X})")
    return name


def lookup_name(text: str) -> str:
    """The spelling to look a typed name up by: like :func:`normalise_name`, never refusing."""
    return unicodedata.normalize("NFC", text).strip()
