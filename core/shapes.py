"""Every JSON view of the core's records, and the one money formatter: what the CLI's --json, the console
and the alerts show."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from core.db.models import Customer, CustomerMapping, Licence, LicenceChange, SyncRun


def utc(stamp: datetime | None) -> str | None:
    """A stored (naive UTC) or aware time as ISO 8601 in UTC with ``Z``."""
    if stamp is None:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return stamp.isoformat() + "Z"


CENT = Decimal("0.01")


def money(value: Decimal | None, *, unit: bool = False) -> str | None:
    """THE money formatter: an exact decimal string, never a float and never an exponent ("1E-7").

    An amount (a charge, a cost, a margin, a total) has two places, rounded half-up: "13.50".
    A unit price (``unit=True``) keeps its own places, at least two and no trailing zeros beyond
    them: "13.50" for 13.5000, "3.1234", "0.0000001". None stays None."""
    if value is None:
        return None
    value = Decimal(value)
    if not unit:
        return format(value.quantize(CENT, rounding=ROUND_HALF_UP), "f")
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        return format(value.quantize(CENT), "f")
    return format(normal, "f")


def customer_json(customer: Customer) -> dict[str, Any]:
    site = customer.main_site
    return {
        "id": customer.id,
        "name": customer.name,
        "top_level": customer.top_level,
        "active": customer.active,
        "main_site": None if site is None else {
            "address": site.address, "city": site.city, "postcode": site.postcode, "country": site.country,
        },
    }


def mapping_json(mapping: CustomerMapping) -> dict[str, Any]:
    return {
        "vendor": mapping.vendor,
        "external_id": mapping.external_id,
        "external_name": mapping.external_name,
        "customer": mapping.customer.name,
        "source": mapping.source,
    }


def licence_json(lic: Licence) -> dict[str, Any]:
    return {
        "customer": lic.customer.name,
        "vendor": lic.vendor,
        "external_id": lic.external_id,
        "name": lic.name,
        "status": lic.status,
        "active": lic.active,
        "quantity": lic.quantity,
        "price": money(lic.price, unit=True),
        "cost": money(lic.cost, unit=True),
        "currency": lic.currency,
        "start_date": lic.start_date.isoformat() if lic.start_date else None,
        "end_date": lic.end_date.isoformat() if lic.end_date else None,
        "billing_cycle": lic.billing_cycle,
        "commitment_months": lic.commitment_months,
        "sku": lic.sku,
        "tenant_id": lic.tenant_id,
    }


def change_json(change: LicenceChange) -> dict[str, Any]:
    lic = change.licence
    return {
        "id": change.id,
        "changed_at": utc(change.changed_at),
        "customer": lic.customer.name,
        "vendor": lic.vendor,
        "external_id": lic.external_id,
        "licence": lic.name,
        "field": change.field,
        "old": change.old_value,
        "new": change.new_value,
        "sync_run": change.sync_run_id,
    }


def run_json(run: SyncRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "vendor": run.vendor,
        "entity": run.entity,
        "started_at": utc(run.started_at),
        "finished_at": utc(run.finished_at),
        "status": run.status,
        "created": run.created,
        "updated": run.updated,
        "deactivated": run.deactivated,
        "held_back": run.held_back,
        "errors": list(run.errors or []),
    }


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
