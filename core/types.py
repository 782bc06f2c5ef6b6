"""The types plugins return. Plain dataclasses: no database rows, no vendor JSON."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address as the vendor holds it; any part may be missing."""

    address: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str | None = None
    region: str | None = None  # state, province or county, where the vendor gives one

    def is_empty(self) -> bool:
        return not any((self.address, self.city, self.postcode, self.country, self.region))


@dataclass(frozen=True)
class VendorAccount:
    """The account the integration is logged in as (e.g. the reseller's own company)."""

    external_id: str
    name: str


@dataclass(frozen=True, slots=True)
class VendorCustomer:
    """A customer company at the vendor."""

    external_id: str
    name: str
    active: bool
    state: str
    address: Address = field(default_factory=Address)
    contract_end_date: date | None = None
    email: str | None = None
    domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VendorSubscription:
    """One subscription of a vendor customer; it becomes one licence in the PSA."""

    external_id: str
    customer_external_id: str
    name: str
    status: str
    terminated: bool
    quantity: int | None
    price: Decimal | None = None
    cost: Decimal | None = None
    currency: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    # Licence terms, when the vendor gives them (optional for plugins).
    billing_cycle: str | None = None  # e.g. Monthly, Annual
    commitment_months: int | None = None
    sku: str | None = None  # the vendor's product number
    tenant_id: str | None = None  # the customer's tenant at the software vendor (e.g. Microsoft)
    #: Ordered but not live yet (provisioning): a new licence is created inactive, an existing one keeps its
    #: active flag, until the vendor lists it live. ``status`` still carries the vendor's word.
    pending_activation: bool = False


@dataclass(frozen=True)
class VendorCharge:
    """One line of the vendor's invoice to us: what it billed for one subscription over some days.

    ``start`` and ``end`` are the first and last day billed (both inclusive). ``units`` is None
    for a charge that is not unit based (consumption, set-up fees). Money is ``Decimal``.
    """

    subscription_external_id: str
    customer_external_id: str
    service_name: str
    start: date
    end: date
    units: Decimal | None
    unit_cost: Decimal | None
    cost: Decimal
    currency: str | None
    customer_name: str | None = None


@dataclass(frozen=True)
class RecordProblem:
    """A record the plugin could not read; it is reported and skipped, never fatal to the rest."""

    external_id: str | None
    name: str | None
    message: str

    def describe(self) -> str:
        who = " ".join(p for p in (self.name or "record", f"({self.external_id})" if self.external_id else None) if p)
        return f"{who}: {self.message}"


@dataclass
class Listing(Generic[T]):
    """What a list hook returns: the good records, and the ones skipped with the reason."""

    items: list[T] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)


@dataclass
class Connection:
    """A live, logged-in connection to a vendor. ``client`` is the plugin's own object.

    ``account`` names the account logged in as, when the vendor's API can say (an OAuth2 client
    credential often cannot): None otherwise.

    ``share`` (optional) lets listing worker processes use this login instead of logging in again: it
    returns a picklable, argument-less callable that, called in another process, gives a Connection on
    the same session that never logs in or out (its ``repr`` must not show the token)."""

    vendor: str
    title: str
    account: VendorAccount | None = None
    client: Any = None
    closer: Callable[[], None] | None = None
    share: Callable[[], Callable[[], Connection]] | None = None

    def close(self) -> None:
        if self.closer is not None:
            self.closer()

    def __repr__(self) -> str:
        return f"Connection(vendor={self.vendor!r}, account={self.account!r})"


class Disappearance(enum.Enum):
    """Why a licence needs a deactivation decision."""

    TERMINATED = "terminated"  # the vendor still lists it, as terminated
    DELETED = "deleted"  # the vendor's listing no longer contains it


class DeactivationAction(enum.Enum):
    """How the core applies a deactivation decision to a licence."""

    DEACTIVATE = "deactivate"  # active becomes false
    ZERO_QUANTITY = "zero_quantity"  # quantity becomes 0, status and active stay
    KEEP = "keep"  # nothing changes


@dataclass(frozen=True)
class LicenceGone:
    """A licence the upstream listing terminated or no longer contains."""

    external_id: str
    name: str
    reason: Disappearance


@dataclass(frozen=True)
class Deactivation:
    """The plugin's decision for one ``LicenceGone``."""

    external_id: str
    action: DeactivationAction


@dataclass(frozen=True)
class DemoChange:
    """One change a demo sandbox makes at the "vendor" before the sync of ``day`` (day of the month),
    for ``integrator demo --billing``: ``what`` says it in words, ``apply`` makes it."""

    day: int
    what: str
    apply: Callable[[], None]


@dataclass
class DemoSandbox:
    """A running loopback stand-in of a vendor with demo data, for ``integrator demo``.

    ``settings`` is the ``integrations.<name>`` block that points at it (``${VAR:-default}``
    may stand for a secret); ``stop`` shuts it down. Optional, for ``integrator demo --billing``:
    ``billing_customer`` (a customer of the demo data) and ``billing_story`` (what changes, on
    which day of the month, between the daily syncs).
    """

    url: str
    settings: dict[str, Any]
    stop: Callable[[], None]
    billing_customer: str | None = None
    billing_story: list[DemoChange] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"DemoSandbox(url={self.url!r})"
