"""A JSON array read one element at a time: the 50,000 companies of a large listing are mapped as
they are parsed, so their parsed objects (about 37 MB) are never all held beside what is made of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from json.decoder import WHITESPACE
from typing import Any

_decoder = json.JSONDecoder()  # what json.loads uses with no options


def starts_array(text: str) -> bool:
    start = WHITESPACE.match(text, 0).end()  # type: ignore[union-attr]
    return text.startswith("[", start)


def array_items(text: str) -> Iterator[Any]:
    """The elements of the JSON array ``text`` (see :func:`starts_array`), in order. Malformed text
    raises, when reached, the ``ValueError`` ``json.loads(text)`` raises, with the same message."""
    try:
        pos = WHITESPACE.match(text, 0).end() + 1  # type: ignore[union-attr]
        pos = WHITESPACE.match(text, pos).end()  # type: ignore[union-attr]
        if text.startswith("]", pos):
            pos += 1
        else:
            while True:
                value, pos = _decoder.raw_decode(text, pos)
                yield value
                pos = WHITESPACE.match(text, pos).end()  # type: ignore[union-attr]
                if text.startswith(",", pos):
                    pos = WHITESPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
                elif text.startswith("]", pos):
                    pos += 1
                    break
                else:
                    raise ValueError("malformed array")
        if WHITESPACE.match(text, pos).end() != len(text):  # type: ignore[union-attr]
            raise ValueError("extra data")
    except ValueError:
        json.loads(text)  # the message json.loads gives for this text
        raise
