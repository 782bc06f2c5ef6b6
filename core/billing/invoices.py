"""The vendor's invoice to us: its lines for a month (``integrator_list_charges``), and which PSA customer
each of the vendor's companies is. Read by the reconcile run and by the usage lines of a charge run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from core.db.models import Customer, CustomerMapping
from core.host.plugins import VendorFacade
from core.types import Listing, VendorCharge

if TYPE_CHECKING:
    from core.sync.app import App

HOOK = "integrator_list_charges"


def fetch_charges(app: App, vendor: str, year: int, month: int) -> Listing[VendorCharge] | None:
    """The vendor's invoice lines, or None when its plugin has no invoice data (no such hook)."""
    facade = VendorFacade(app.pm, vendor)
    if not facade.implements(HOOK):
        return None  # no login either
    connection = facade.connect(app.config.integration(vendor))
    try:
        return facade.list_charges(connection, year, month)
    finally:
        connection.close()


def company_customers(session: Any, vendor: str) -> dict[str, str]:
    """The vendor's company id -> the name of the PSA customer it is mapped to."""
    query = (select(CustomerMapping.external_id, Customer.name)
             .join(Customer, Customer.id == CustomerMapping.customer_id).where(CustomerMapping.vendor == vendor))
    return {external_id: name for external_id, name in session.execute(query)}
