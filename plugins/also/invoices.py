"""ALSO's invoices to the reseller, as the core's vendor charges (for ``billing reconcile``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.types import Listing, RecordProblem, VendorCharge
from plugins.also import mapping
from plugins.also.client import AlsoClient


def list_charges(client: AlsoClient, year: int, month: int, today: Any = None) -> Listing[VendorCharge]:
    """The month's invoice lines: a closed month's invoices, or the current month's preview.

    A month after the current one has no invoice yet: the listing is empty.
    """
    today = today or datetime.now(UTC).date()
    if (year, month) > (today.year, today.month):
        return Listing()
    if (year, month) == (today.year, today.month):
        invoices = client.get_preview_invoices()
    else:
        invoices = client.get_invoices_for_period(year, month)
    return invoices_to_charges(invoices)


def invoices_to_charges(invoices: list[Any]) -> Listing[VendorCharge]:
    listing: Listing[VendorCharge] = Listing()
    for invoice in invoices:
        if not isinstance(invoice, dict):
            listing.problems.append(RecordProblem(None, "invoice", f"expected an object, got {type(invoice).__name__}"))
            continue
        charges = invoice.get("Charges") or []
        if not isinstance(charges, list):
            listing.problems.append(_problem(invoice, f"Charges is not a list: {charges!r}"))
            continue
        for charge in charges:
            try:
                listing.items.append(mapping.charge_to_vendor_charge(charge, invoice))
            except mapping.RecordError as exc:
                rid, name = mapping.record_label(charge)
                where = invoice.get("InvoiceNumber") or invoice.get("CompanyName") or "?"
                listing.problems.append(RecordProblem(rid, name, f"invoice {where}: {exc}"))
    return listing


def _problem(invoice: dict[str, Any], message: str) -> RecordProblem:
    number = invoice.get("InvoiceNumber")
    return RecordProblem(str(invoice.get("CompanyAccountId") or "") or None,
                         f"invoice {number}" if number else str(invoice.get("CompanyName") or "invoice"), message)
