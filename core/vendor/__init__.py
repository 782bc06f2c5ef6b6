"""The toolkit for vendor plugin authors: parsing vendor values, mapping records, and the REST client.

Everything here is public and used by the built-in plugins exactly as a third-party plugin
would use it::

    from core.vendor import RecordError, map_records, parse_date, parse_money, parse_quantity
    from core.vendor import RESTClient, OAuth2ClientCredentials, PageNumberPaginator

- ``values``: the value parsers, :func:`map_records`, :func:`mask_url`;
- ``rest``: :class:`RESTClient` (``HttpClient`` is its old name): one keep-alive pool, timeouts,
  retries with a capped Retry-After, AIMD pacing on 429/503, TLS always verified, typed faults;
- ``auth``: :class:`TokenAuth`/:class:`BearerToken`, :class:`SessionLogin`, :class:`OAuth2ClientCredentials`;
- ``paginate``: :class:`NoPaging`, :class:`PageNumberPaginator`;
- ``transport`` and ``pacing``: the urllib3 transport and the AIMD pacer underneath.

The HTTP names load the HTTP stack (urllib3) only when first used: a plugin that only maps records,
and a command that never calls a vendor, do not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.vendor.values import (
    MAX_QUANTITY,
    RecordError,
    map_records,
    mask_url,
    parse_date,
    parse_id,
    parse_money,
    parse_quantity,
    parse_text,
    record_label,
)

if TYPE_CHECKING:
    from core.vendor.auth import Auth, BearerToken, OAuth2ClientCredentials, SessionLogin, TokenAuth
    from core.vendor.pacing import Pacer, PaceReport
    from core.vendor.paginate import NoPaging, PageNumberPaginator, Paginator
    from core.vendor.rest import Response, RESTClient
    HttpClient = RESTClient

__all__ = [
    "MAX_QUANTITY",
    "Auth",
    "BearerToken",
    "HttpClient",
    "NoPaging",
    "OAuth2ClientCredentials",
    "PaceReport",
    "Pacer",
    "PageNumberPaginator",
    "Paginator",
    "RESTClient",
    "RecordError",
    "Response",
    "SessionLogin",
    "TokenAuth",
    "map_records",
    "mask_url",
    "parse_date",
    "parse_id",
    "parse_money",
    "parse_quantity",
    "parse_text",
    "record_label",
]

_LAZY = {
    "RESTClient": "rest", "HttpClient": "rest", "Response": "rest",
    "Auth": "auth", "BearerToken": "auth", "OAuth2ClientCredentials": "auth", "SessionLogin": "auth",
    "TokenAuth": "auth",
    "NoPaging": "paginate", "PageNumberPaginator": "paginate", "Paginator": "paginate",
    "Pacer": "pacing", "PaceReport": "pacing",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'core.vendor' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"core.vendor.{module}"), "RESTClient" if name == "HttpClient" else name)
    globals()[name] = value
    return value
