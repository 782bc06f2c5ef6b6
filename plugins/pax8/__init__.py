"""The Pax8 plugin: hook implementations only, each delegating.

Built as a third party would build it, on the SDK alone (``core`` types and hookspecs,
``core.vendor``'s REST client and parsers, ``core.settings``, ``core.secrets``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr, field_validator, model_validator

from core import Connection, DemoSandbox, Listing, VendorSettings, check_vendor_url, hookimpl, read_secret_file
from core.vendor import map_records
from plugins.pax8 import mapping

if TYPE_CHECKING:
    from plugins.pax8.client import Pax8Client

HOOK_CONTRACT = (1, 1)
TITLE = "Pax8"


class Pax8Settings(VendorSettings):
    url: str = "https://api.pax8.com"  # the client adds /v1
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    client_secret_file: str | None = None  # a file only its owner may read (chmod 600)
    timeout_seconds: float = Field(default=30.0, gt=0)
    retries: int = Field(default=5, ge=0, le=20)
    backoff_seconds: float = Field(default=0.5, ge=0)
    requests_per_minute: int = Field(default=900, ge=1, le=100_000)  # Pax8 allows 1,000

    @model_validator(mode="before")
    @classmethod
    def _secret_source(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        given = [k for k in ("client_secret", "client_secret_file") if data.get(k) not in (None, "")]
        if len(given) != 1:
            raise ValueError("give exactly one of client_secret or client_secret_file"
                             + (f" (found {', '.join(given)})" if given else ""))
        if given[0] == "client_secret_file":
            return {**data, "client_secret": read_secret_file(str(data["client_secret_file"]), "client_secret_file")}
        return data

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_vendor_url(value)


def make_client(settings: Pax8Settings) -> Pax8Client:
    from plugins.pax8.client import Pax8Client  # the HTTP stack, only for commands that talk to Pax8

    return Pax8Client(settings.url, settings.client_id, settings.client_secret.get_secret_value(),
                      timeout=settings.timeout_seconds, retries=settings.retries, backoff=settings.backoff_seconds,
                      concurrency=settings.max_concurrency, requests_per_minute=settings.requests_per_minute)


@hookimpl
def integrator_settings_model() -> type[VendorSettings]:
    return Pax8Settings


@hookimpl
def integrator_sandbox_command():  # type: ignore[no-untyped-def]
    from plugins.pax8.commands import sandbox_cmd

    return sandbox_cmd


@hookimpl
def integrator_demo_sandbox() -> DemoSandbox:
    from plugins.pax8 import sandbox

    server = sandbox.SandboxServer(sandbox.make_state(), "127.0.0.1", 0).start()
    return DemoSandbox(url=server.url, stop=server.stop, settings={
        "url": server.url,
        "client_id": sandbox.DEFAULT_CLIENT_ID,
        "client_secret": "${PAX8_CLIENT_SECRET:-" + sandbox.DEFAULT_CLIENT_SECRET + "}",
        "top_level_for_new_customers": "Pax8 Customers",
        "set_price_and_cost": True,
    })


@hookimpl
def integrator_connect(settings: Pax8Settings) -> Connection:
    client = make_client(settings)
    try:
        client.check()  # a token and one company: the credentials and the URL work
    except BaseException:
        client.close()
        raise
    # An API credential cannot say which partner it belongs to: the connection names no account.
    return Connection(vendor="pax8", title=TITLE, account=None, client=client, closer=client.close)


@hookimpl
def integrator_list_customers(connection: Connection) -> Listing:
    return map_records(connection.client.companies(), mapping.company_to_customer, mapping.record_label)


@hookimpl
def integrator_list_subscriptions(connection: Connection, customer) -> Listing:  # type: ignore[no-untyped-def]
    client: Pax8Client = connection.client
    records = client.subscriptions(customer.external_id)
    # Lists may lack productName: the product's name (and SKU) come from GET /products/{id}, once per run.
    products = {r["productId"]: client.product(r["productId"]) for r in records
                if isinstance(r, dict) and not r.get("productName") and isinstance(r.get("productId"), str)}
    return map_records(records, lambda r: mapping.subscription_to_licence(
        r, customer.external_id, products.get(r.get("productId")) if isinstance(r, dict) else None),
        mapping.record_label)


@hookimpl
def integrator_list_charges(connection: Connection, year: int, month: int) -> Listing:
    from plugins.pax8.invoices import list_charges

    return list_charges(connection.client, year, month)


@hookimpl
def integrator_display_name() -> str:
    return TITLE
