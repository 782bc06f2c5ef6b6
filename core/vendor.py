"""The toolkit for vendor plugin authors: parsing vendor values, mapping records, an HTTP client base.

Everything here is public and used by the built-in plugins exactly as a third-party plugin
would use it::

    from core.vendor import HttpClient, RecordError, map_records, parse_date, parse_money, parse_quantity

A mapping function turns one vendor record into a core type and raises :class:`RecordError` (or
``ValueError``/``KeyError``/``TypeError``) when the record is unusable; :func:`map_records` turns
a list of records into a :class:`~core.types.Listing` with one ``RecordProblem`` per bad record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from core.errors import (
    AuthenticationError,
    PermissionDeniedError,
    VendorFaultError,
    VendorProtocolError,
    VendorUnreachableError,
)
from core.types import Listing, RecordProblem

if TYPE_CHECKING:  # the HTTP stack loads when a client is made, not when a plugin maps records
    import requests

T = TypeVar("T")

__all__ = [
    "HttpClient",
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
    match = _DATE.match(value.strip())
    if not match:
        raise RecordError(f"{field} is not a date: {value!r}")
    year, month, day = (int(g) for g in match.groups()[:3])
    if year == 1:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        raise RecordError(f"{field} is not a valid date: {value!r}") from None


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


class HttpClient:
    """A base for a vendor's HTTP client: one ``requests.Session`` with a connection pool, a timeout
    on every call, urllib3 ``Retry`` with backoff for connection faults and 429/502/503/504 (honouring
    Retry-After), and HTTP faults translated into the core's typed errors.

    Subclass it, set ``vendor`` (the name used in messages), add credentials in ``__init__`` (e.g.
    ``self.session.headers["Authorization"] = ...``) and write one method per API operation with
    :meth:`get_json` / :meth:`post_json`. It is safe to share across the threads listing
    subscriptions. Never keep a secret in an attribute its ``repr`` shows.
    """

    vendor = "the vendor"
    retry_statuses: tuple[int, ...] = (429, 502, 503, 504)

    def __init__(self, base_url: str, *, timeout: float = 30.0, retries: int = 3, backoff: float = 0.5,
                 pool_size: int = 16, retry_methods: Iterable[str] = ("GET", "HEAD", "OPTIONS")) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        self.session = requests.Session()
        retry = Retry(total=retries, connect=retries, read=retries, status=retries, backoff_factor=backoff,
                      status_forcelist=self.retry_statuses, allowed_methods=frozenset(retry_methods),
                      respect_retry_after_header=True, raise_on_status=False)
        adapter = HTTPAdapter(max_retries=retry, pool_connections=pool_size, pool_maxsize=pool_size)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({mask_url(self.base_url)!r})"

    def close(self) -> None:
        self.session.close()

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One call, with the timeout and retries; an unreachable host or an HTTP fault raises typed."""
        import requests

        kwargs.setdefault("timeout", self.timeout)
        where = mask_url(self.url(path))
        try:
            response = self.session.request(method, self.url(path), **kwargs)
        except requests.exceptions.SSLError:
            raise VendorUnreachableError(f"{self.vendor} at {where}: the TLS certificate did not verify") from None
        except requests.exceptions.Timeout:
            raise VendorUnreachableError(
                f"{self.vendor} at {where} did not answer within {self.timeout:g} s") from None
        except requests.exceptions.RequestException as exc:
            raise VendorUnreachableError(
                f"cannot reach {self.vendor} at {where}: {type(exc).__name__}") from None
        self.raise_for_status(response, f"{method} {where}")
        return response

    def raise_for_status(self, response: requests.Response, what: str) -> None:
        """Translate an HTTP fault; override to read the vendor's own error body."""
        status = response.status_code
        if status < 400:
            return
        if status == 401:
            raise AuthenticationError(f"{self.vendor} refused the credentials ({what}: 401): check them")
        if status == 403:
            raise PermissionDeniedError(f"{self.vendor} denied access ({what}: 403): check the account's rights")
        if status in self.retry_statuses:
            raise VendorUnreachableError(f"{self.vendor} answered {status} to {what} after retrying; try again later")
        raise VendorFaultError(f"{self.vendor} answered {status} to {what}")

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return self._json(self.request("GET", path, **kwargs), f"GET {path}")

    def post_json(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self._json(self.request("POST", path, json=body, **kwargs), f"POST {path}")

    def _json(self, response: requests.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "no content type")
            raise VendorProtocolError(f"{self.vendor} answered {what} with something that is not JSON ({kind})") \
                from None
