"""Testing an integration's configuration: log in, read the account's own company and its customers.

The console's "Test Configuration" button calls this; it says what ``integrator test-connection`` says.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.host.plugins import VendorFacade
from core.sync.app import App


@dataclass(frozen=True)
class ConnectionCheck:
    title: str
    account_name: str
    account_id: str
    customers: int
    unreadable: int

    def line(self) -> str:
        extra = f" ({self.unreadable} unreadable)" if self.unreadable else ""
        return (f"Connected to {self.title} as {self.account_name} (account {self.account_id}): "
                f"{self.customers} customers{extra}")


def check_connection(app: App, vendor: str) -> ConnectionCheck:
    """Raises the vendor's IntegratorError (one line a person can act on) when it cannot connect."""
    settings = app.config.integration(vendor)
    facade = VendorFacade(app.pm, vendor)
    connection = facade.connect(settings)
    try:
        listing = facade.list_customers(connection)
    finally:
        connection.close()
    account = connection.account
    return ConnectionCheck(connection.title, account.name, account.external_id, len(listing.items),
                           len(listing.problems))
