"""A third-party vendor plugin, as an external distribution would ship it (used by the tests).

It serves a fixed, in-memory marketplace so that discovery, configuration and sync through the
core can be shown without any network.
"""

from __future__ import annotations

from pydantic import SecretStr

from core import (
    Address,
    Connection,
    Listing,
    RecordProblem,
    VendorAccount,
    VendorCustomer,
    VendorSettings,
    VendorSubscription,
    default_deactivations,
    hookimpl,
)
from core.errors import AuthenticationError

HOOK_CONTRACT = (1, 2)

CUSTOMERS = [
    VendorCustomer("A-1", "Acme Cloud Customer One", True, "Active", Address("1 Cloud Way", "Reading", "RG1", "UK")),
    VendorCustomer("A-2", "Acme Cloud Customer Two", True, "Active"),
]
SUBSCRIPTIONS = {
    "A-1": [VendorSubscription("S-1", "A-1", "Backup 1 TB", "Active", False, 3)],
    "A-2": [VendorSubscription("S-2", "A-2", "Mail Security", "Active", False, 20)],
}


class AcmeSettings(VendorSettings):
    api_key: SecretStr


@hookimpl
def integrator_settings_model():
    return AcmeSettings


@hookimpl
def integrator_connect(settings):
    if settings.api_key.get_secret_value() != "good-key":
        raise AuthenticationError("Acme Cloud refused the API key: create a new one in the Acme portal")
    return Connection(vendor="acme_cloud", title="Acme Cloud", account=VendorAccount("ACME", "Acme Reseller"))


@hookimpl
def integrator_list_customers(connection):
    return Listing(items=list(CUSTOMERS))


@hookimpl
def integrator_list_subscriptions(connection, customer):
    problems = [RecordProblem("S-9", "Broken", "no quantity")] if customer.external_id == "A-2" else []
    return Listing(items=list(SUBSCRIPTIONS.get(customer.external_id, [])), problems=problems)


@hookimpl
def integrator_deactivate(licences, settings):
    return default_deactivations(licences, settings)
