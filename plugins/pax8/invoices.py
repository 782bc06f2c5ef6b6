"""Pax8's invoices to the partner, as the core's vendor charges (for ``billing reconcile``).

The invoice of a month is dated its 1st and published around the 5th; its items carry the
subscription, the company, the period billed, the units and the partner's cost.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from core.types import Listing, RecordProblem, VendorCharge
from core.vendor import RecordError
from plugins.pax8.mapping import invoice_item_to_charge, record_label


def list_charges(client: Any, year: int, month: int) -> Listing[VendorCharge]:
    first, last = date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    listing: Listing[VendorCharge] = Listing()
    for invoice in client.invoices(first.isoformat(), last.isoformat()):
        invoice_id = invoice.get("id") if isinstance(invoice, dict) else None
        if not isinstance(invoice_id, str) or not invoice_id:
            listing.problems.append(RecordProblem(None, "invoice", "an invoice without an id"))
            continue
        for item in client.invoice_items(invoice_id):
            try:
                listing.items.append(invoice_item_to_charge(item))
            except (RecordError, ValueError, TypeError) as exc:
                rid, name = record_label(item)
                listing.problems.append(RecordProblem(rid, name, f"invoice {invoice_id}: {exc}"))
    return listing
