"""Testing an integration's configuration: log in, read the account's own company and its customers.

The console's "Test Configuration" button calls this; it says what ``integrator test-connection`` says.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.host.plugins import VendorFacade
from core.sync.app import App
from core.types import VendorAccount


def connected_line(title: str, account: VendorAccount | None, customers: int, unreadable: int) -> str:
    """What a successful check says. A vendor whose API cannot name the account (an OAuth2 client
    credential) is said to be connected with its count of companies."""
    extra = f" ({unreadable} unreadable)" if unreadable else ""
    if account is None:
        return f"Connected to {title}: {customers} companies{extra}"
    return f"Connected to {title} as {account.name} (account {account.external_id}): {customers} customers{extra}"


@dataclass(frozen=True)
class ConnectionCheck:
    title: str
    account_name: str | None
    account_id: str | None
    customers: int
    unreadable: int

    def line(self) -> str:
        account = None if self.account_id is None else VendorAccount(self.account_id, self.account_name or "?")
        return connected_line(self.title, account, self.customers, self.unreadable)


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
    return ConnectionCheck(connection.title, account.name if account else None,
                           account.external_id if account else None, len(listing.items), len(listing.problems))
