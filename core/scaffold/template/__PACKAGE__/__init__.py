"""The __TITLE__ vendor plugin: hook implementations only, each delegating to client.py and mapping.py.

``integrator_deactivate`` is not implemented: the core's default rule applies (terminated upstream:
inactive; deleted upstream: inactive with ``deactivate_deleted_licences``, else quantity 0).
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator

from core import (Connection, Listing, VendorCustomer, VendorSettings, VendorSubscription, check_vendor_url,
                  hookimpl, resolve_password)
from core.vendor import map_records

from . import mapping
from .client import __CLASS__Client

#: The hook contract versions this plugin supports; another core refuses to load it.
HOOK_CONTRACT = (1, 1)
TITLE = "__TITLE__"


class __CLASS__Settings(VendorSettings):
    """The keys of ``integrations.__NAME__`` besides the common ones; unknown keys are refused."""

    url: str = "https://api.__NAME__.example"
    username: str = Field(min_length=1)
    password: SecretStr  # SecretStr: never shown in a repr, a log or an error
    password_file: str | None = None  # a file only its owner may read (chmod 600)
    password_keyring: str | None = None  # the OS keyring's service name holding the password
    timeout_seconds: float = Field(default=30.0, gt=0)
    retries: int = Field(default=3, ge=0, le=10)

    @model_validator(mode="before")
    @classmethod
    def _password_source(cls, data: object) -> object:
        return resolve_password(data) if isinstance(data, dict) else data

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_vendor_url(value)  # https anywhere, plain http on loopback only


@hookimpl
def integrator_settings_model() -> type[VendorSettings]:
    return __CLASS__Settings


@hookimpl
def integrator_connect(settings: __CLASS__Settings) -> Connection:
    client = __CLASS__Client(settings)
    try:
        account = client.login()
    except BaseException:
        client.close()
        raise
    return Connection(vendor="__NAME__", title=TITLE, account=account, client=client, closer=client.close)


@hookimpl
def integrator_list_customers(connection: Connection) -> Listing[VendorCustomer]:
    return map_records(connection.client.customers(), mapping.to_customer, mapping.label)


@hookimpl
def integrator_list_subscriptions(connection: Connection, customer: VendorCustomer) -> Listing[VendorSubscription]:
    records = connection.client.subscriptions(customer.external_id)
    return map_records(records, lambda record: mapping.to_subscription(record, customer.external_id), mapping.label)
