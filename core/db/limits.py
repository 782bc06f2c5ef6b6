"""Column sizes, and the one place a value meets them before the database does.

SQLite keeps any length in a VARCHAR column, PostgreSQL refuses a longer one ("value too long"):
so nothing longer than its column may reach either. What a person types (a customer's name, a
top level, an external id) is refused with a usage error naming the field; what a vendor sends
(an address, a company's name) is cut to the column, and compared cut, so that a vendor value
longer than the column does not read as a change on every import.
"""

from __future__ import annotations

from dataclasses import replace

from core.errors import UsageError
from core.types import Address

#: Column sizes (String(n) in core/db/models.py) the planners and the store check before writing.
LIMITS = {"name": 255, "top_level": 255, "external_id": 64, "external_name": 255, "licence_name": 500,
          "status": 64, "currency": 8, "billing_cycle": 32, "sku": 64, "tenant_id": 64}
#: The main site's columns.
SITE_SIZES = {"address": 500, "city": 255, "postcode": 64, "country": 255}


def refuse_too_long(value: str, what: str, size: int) -> str:
    """``value`` when it fits ``size`` characters; else a UsageError naming ``what`` (exit 2)."""
    if len(value) > size:
        raise UsageError(f"{what} is {len(value)} characters long; the PSA keeps at most {size}")
    return value


def cut(value: str | None, size: int) -> str | None:
    """A vendor's text cut to its column: kept, shortened, rather than refused."""
    return value[:size] if value else value


def fit_address(address: Address) -> Address:
    """``address`` with each part cut to its site column: what the PSA stores, and compares with."""
    return replace(address, **{name: cut(getattr(address, name), size) for name, size in SITE_SIZES.items()})
