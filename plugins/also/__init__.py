"""The ALSO Cloud Marketplace plugin: hook implementations only, each delegating."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr, field_validator, model_validator

from core import (
    Connection,
    DemoSandbox,
    Listing,
    VendorAccount,
    VendorSettings,
    check_vendor_url,
    default_deactivations,
    hookimpl,
    resolve_password,
)
from core.vendor import map_records
from plugins.also import mapping

if TYPE_CHECKING:
    from plugins.also.client import AlsoClient

HOOK_CONTRACT = (1, 1)
TITLE = "ALSO"


class AlsoSettings(VendorSettings):
    url: str
    username: str = Field(min_length=1)
    password: SecretStr
    password_file: str | None = None  # a file only its owner may read (chmod 600)
    password_keyring: str | None = None  # the OS keyring's service name holding the password
    timeout_seconds: float = Field(default=30.0, gt=0)
    retries: int = Field(default=5, ge=0, le=20)
    backoff_seconds: float = Field(default=0.5, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _password_source(cls, data: object) -> object:
        return resolve_password(data) if isinstance(data, dict) else data

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_vendor_url(value)


def make_client(settings: AlsoSettings) -> AlsoClient:
    from plugins.also.client import AlsoClient  # the HTTP stack, only for commands that talk to ALSO

    return AlsoClient(
        settings.url,
        settings.username,
        settings.password.get_secret_value(),
        timeout=settings.timeout_seconds,
        retries=settings.retries,
        backoff=settings.backoff_seconds,
        pool_size=max(settings.max_concurrency, 1) * 2,
        concurrency=settings.max_concurrency,
    )


@hookimpl
def integrator_sandbox_command():  # type: ignore[no-untyped-def]
    from plugins.also.commands import sandbox_cmd

    return sandbox_cmd


@hookimpl
def integrator_demo_sandbox() -> DemoSandbox:
    from core.types import DemoChange
    from plugins.also import sandbox
    from plugins.also import sandbox_controls as controls

    server = sandbox.SandboxServer(sandbox.make_state(), "127.0.0.1", 0).start()
    state = server.state
    story = [  # Contoso Ltd: Exchange Online (Plan 1) 5 -> 10 on day 11; Business Basic cancelled on day 21
        DemoChange(11, "Exchange Online (Plan 1) at Contoso Ltd goes from 5 to 10",
                   lambda: controls.change(state, 200100, {"quantity": 10}) and None),
        DemoChange(21, "Microsoft 365 Business Basic at Contoso Ltd (25) is cancelled",
                   lambda: controls.change(state, 200101, {"status": "Terminated"}) and None),
    ]
    return DemoSandbox(url=server.url, stop=server.stop, billing_customer="Contoso Ltd", billing_story=story,
                       settings={
                           "url": server.url,
                           "username": sandbox.DEFAULT_USERNAME,
                           "password": "${ALSO_PASSWORD:-" + sandbox.DEFAULT_PASSWORD + "}",
                           "top_level_for_new_customers": "ALSO Customers",
                           "set_price_and_cost": True,
                       })


@hookimpl
def integrator_display_name() -> str:
    return "ALSO"


@hookimpl
def integrator_settings_model() -> type[VendorSettings]:
    return AlsoSettings


@hookimpl
def integrator_connect(settings: AlsoSettings) -> Connection:
    client = make_client(settings)
    try:
        client.login()
        company = client.get_company()
        account = VendorAccount(external_id=mapping.account_id(company), name=str(company.get("CompanyName") or "?"))
    except mapping.RecordError as exc:
        client.close()
        from core.errors import VendorProtocolError

        raise VendorProtocolError(f"ALSO GetCompany answered an unusable company: {exc}") from None
    except BaseException:
        client.close()
        raise
    return Connection(vendor="also", title=TITLE, account=account, client=client, closer=client.close,
                      share=lambda: partial(restore_connection, client.export_session(), account))


def restore_connection(handoff: Any, account: VendorAccount | None) -> Connection:
    """A Connection on a session handed over by the parent process (see Connection.share)."""
    from plugins.also.client import AlsoClient

    client = AlsoClient.from_session(handoff)
    return Connection(vendor="also", title=TITLE, account=account, client=client, closer=client.close)


@hookimpl
def integrator_list_customers(connection: Connection) -> Listing:
    records = connection.client.iter_companies(int(connection.account.external_id))
    return map_records(records, mapping.company_to_customer, mapping.record_label)


@hookimpl
def integrator_list_subscriptions(connection: Connection, customer) -> Listing:  # type: ignore[no-untyped-def]
    records = connection.client.get_subscriptions(int(customer.external_id))
    return map_records(records, lambda r: mapping.subscription_to_licence(r, customer.external_id),
                       mapping.record_label)


@hookimpl
def integrator_list_charges(connection: Connection, year: int, month: int) -> Listing:
    from plugins.also.invoices import list_charges

    return list_charges(connection.client, year, month)


@hookimpl
def integrator_deactivate(licences, settings):  # type: ignore[no-untyped-def]
    return default_deactivations(licences, settings)

