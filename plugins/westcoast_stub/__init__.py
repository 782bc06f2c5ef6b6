"""Westcoast cloud marketplace, from an export file (Westcoast publishes no API description).

Settings: ``file:`` a JSON export (see ``config/westcoast-export.example.json``). Hook
implementations only; reading the file is in ``export.py``.
"""

from __future__ import annotations

from pydantic import Field

from core import Connection, Listing, VendorSettings, default_deactivations, hookimpl
from plugins.westcoast_stub import export

HOOK_CONTRACT = (1, 1)


class WestcoastSettings(VendorSettings):
    file: str = Field(min_length=1)


@hookimpl
def integrator_settings_model() -> type[VendorSettings]:
    return WestcoastSettings


@hookimpl
def integrator_connect(settings: WestcoastSettings) -> Connection:
    data = export.load(settings.file)
    return Connection(vendor="westcoast_stub", title="Westcoast", account=export.account(data, settings.file),
                      client=data)


@hookimpl
def integrator_list_customers(connection: Connection) -> Listing:
    return export.customers(connection.client)


@hookimpl
def integrator_list_subscriptions(connection: Connection, customer) -> Listing:  # type: ignore[no-untyped-def]
    return export.subscriptions(connection.client, customer.external_id)


@hookimpl
def integrator_deactivate(licences, settings):  # type: ignore[no-untyped-def]
    return default_deactivations(licences, settings)
