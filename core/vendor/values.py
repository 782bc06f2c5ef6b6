"""Parsing vendor values and mapping records (part of ``core.vendor``, the plugin authors' toolkit).

A mapping function turns one vendor record into a core type and raises :class:`RecordError` (or
``ValueError``/``KeyError``/``TypeError``) when the record is unusable; :func:`map_records` turns
a list of records into a :class:`~core.types.Listing` with one ``RecordProblem`` per bad record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from core.types import Listing, RecordProblem

T = TypeVar("T")

__all__ = [
    "RecordError",
    "map_records",
    "mask_url",
    "parse_date",
    "parse_id",
    "parse_money",
    "parse_quantity",
    "parse_text",
    "record_label",
]

_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"  # the date
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,7})?)?)?"  # an optional time with 0-7 fractional digits
    r"(?:Z|[+-]\d{2}:?\d{2})?$"  # an optional zone, ignored: the calendar date is what is kept
)


#: The most licences one subscription can hold (the PSA stores a 32-bit integer).
MAX_QUANTITY = 2**31 - 1


class RecordError(ValueError):
    """One record is unusable; the message says which field and why (it is shown to people)."""


# -- values ------------------------------------------------------------------------------------

def parse_date(value: Any, field: str) -> date | None:
    """An ISO 8601 date or date-time (0-7 fractional digits, zone ignored), a ``date``, or None/"".

    Year 1 (``0001-01-01``, .NET's ``DateTime.MinValue``) means "no date" and gives None.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return None if value.year == 1 else value
    if not isinstance(value, str):
        raise RecordError(f"{field} is not a date: {value!r}")
    try:
        return _date_text(value)
    except _NotADate:
        raise RecordError(f"{field} is not a date: {value!r}") from None
    except ValueError:
        raise RecordError(f"{field} is not a valid date: {value!r}") from None


class _NotADate(Exception):
    pass


@lru_cache(maxsize=4096)
def _date_text(text: str) -> date | None:
    """A date written as text (a listing repeats the same few: each is parsed once); raises when it is none."""
    match = _DATE.match(text.strip())
    if not match:
        raise _NotADate
    year, month, day = (int(g) for g in match.groups()[:3])
    return None if year == 1 else date(year, month, day)


def parse_money(value: Any, field: str) -> Decimal | None:
    """A price or cost as ``Decimal``: from a decimal string, an int, a float (by its shortest
    repr, so 3.1 stays 3.1) or a Decimal; None stays None. Booleans and non-finite values are refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise RecordError(f"{field} is not a number: {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise RecordError(f"{field} is not a number: {value!r}") from None
    if not number.is_finite():
        raise RecordError(f"{field} is not a number: {value!r}")
    return number


def parse_quantity(value: Any, field: str = "quantity") -> int | None:
    """A number of licences: a whole, non-negative number given as int, string or float; None/"" is None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise RecordError(f"{field} is not a number: {value!r}")
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)  # the usual "5": what the Decimal below gives, without it
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise RecordError(f"{field} is not a number: {value!r}") from None
    if not number.is_finite() or number < 0 or number > MAX_QUANTITY or number != number.to_integral_value():
        raise RecordError(f"{field} is not a whole number of licences: {value!r}")
    return int(number)


def parse_text(record: Mapping[str, Any], key: str) -> str | None:
    """``record[key]`` as trimmed text (numbers written out); missing, null or blank is None."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise RecordError(f"{key} is not text: {value!r}")
    text = str(value).strip()
    return text or None


def parse_id(value: Any, field: str = "id") -> str:
    """An external id as a string: a non-empty string (trimmed) or an integer written in decimal."""
    if isinstance(value, bool) or value is None:
        raise RecordError(f"{field} is missing")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise RecordError(f"{field} is not an id: {value!r}")


# -- records -----------------------------------------------------------------------------------

def record_label(record: Any, id_keys: Iterable[str] = ("id",),
                 name_keys: Iterable[str] = ("name",)) -> tuple[str | None, str | None]:
    """Best-effort id and name of a record that failed to map, for its ``RecordProblem``."""
    if not isinstance(record, Mapping):
        return None, None

    def first(keys: Iterable[str]) -> str | None:
        for key in keys:
            value = record.get(key)
            if value is not None and not isinstance(value, dict | list) and str(value).strip():
                return str(value).strip()
        return None

    return first(id_keys), first(name_keys)


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"{exc.args[0] if exc.args else 'a field'} is missing"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if isinstance(exc, ValueError) else f"{type(exc).__name__}: {text}"


def map_records(records: Iterable[Any], convert: Callable[[Any], T],
                label: Callable[[Any], tuple[str | None, str | None]] = record_label) -> Listing[T]:
    """Convert every record; one that raises ``RecordError``, ``ValueError``, ``KeyError``,
    ``TypeError`` or ``AttributeError`` becomes a ``RecordProblem`` (named by ``label``) and the
    rest go on. ``records`` must be the complete listing: raise before calling this if it is not."""
    listing: Listing[T] = Listing()
    for record in records:
        try:
            listing.items.append(convert(record))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            rid, name = label(record)
            listing.problems.append(RecordProblem(external_id=rid, name=name, message=_reason(exc)))
    return listing


# -- HTTP --------------------------------------------------------------------------------------

def mask_url(url: str) -> str:
    """The URL without its userinfo, query and fragment: safe to show in a message or log."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an unreadable URL)"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
