"""Planning the licences of one vendor customer from its subscription listing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from core.db.models import LIMITS
from core.text import counted
from core.types import (
    DeactivationAction,
    VendorCustomer,
    VendorSubscription,
)

PRICE_FIELDS = ("price", "cost", "currency")
MONEY_PLACES = Decimal("0.0001")  # licences.price and .cost are Numeric(14, 4): what the row keeps
MONEY_LIMIT = Decimal("1e10")  # ... and no more than 10 digits before the point
TERM_FIELDS = ("billing_cycle", "commitment_months", "sku", "tenant_id")  # licence terms, when the vendor gives them
FIELDS = ("name", "status", "active", "quantity", "start_date", "end_date", *PRICE_FIELDS, "customer_id",
          *TERM_FIELDS)


@dataclass(frozen=True, slots=True)
class LicenceRow:
    """A licence as it stands in the PSA database."""

    id: int
    external_id: str
    vendor_customer_id: str
    customer_id: int
    name: str
    status: str
    active: bool
    quantity: int
    price: Decimal | None = None
    cost: Decimal | None = None
    currency: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    billing_cycle: str | None = None
    commitment_months: int | None = None
    sku: str | None = None
    tenant_id: str | None = None

    def values(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in FIELDS}


@dataclass(slots=True)
class LicenceChangeSet:
    external_id: str
    name: str
    values: dict[str, Any]  # the licence's full new state
    changes: dict[str, tuple[Any, Any]]  # field -> (old, new); empty for a create
    licence_id: int | None = None  # None: create
    reason: str | None = None  # terminated | deleted | None


@dataclass
class LicencePlan:
    creates: list[LicenceChangeSet] = field(default_factory=list)
    updates: list[LicenceChangeSet] = field(default_factory=list)
    deactivations: list[LicenceChangeSet] = field(default_factory=list)
    held_back: list[LicenceChangeSet] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what a person should look at (duplicate ids)
    unchanged: int = 0
    guard_reason: str | None = None

    @property
    def writes(self) -> list[LicenceChangeSet]:
        return self.creates + self.updates + self.deactivations


def plan_listed(
    company: VendorCustomer,
    customer_id: int,
    upstream: list[VendorSubscription],
    current: list[LicenceRow],
    decisions: dict[str, DeactivationAction],
    *,
    set_price_and_cost: bool,
) -> LicencePlan:
    """What the listed subscriptions change: creates, updates (moves included) and terminations.

    A subscription first seen already terminated is created inactive: the period it was live in is
    still billed, and its name, status and quantity are imported like any other's."""
    plan = LicencePlan()
    by_external = {row.external_id: row for row in current}
    seen: set[str] = set()
    for sub in upstream:
        if sub.external_id in seen:
            plan.problems.append(f"{sub.name} ({sub.external_id}): listed twice; the first is used")
            continue
        seen.add(sub.external_id)
        too_long = _too_long(sub)
        if too_long:
            plan.problems.append(f"{sub.name[:80]} ({sub.external_id[:64]}): {too_long} is longer than the PSA keeps")
            continue
        too_large = _too_large(sub) if set_price_and_cost else None
        if too_large:
            plan.problems.append(f"{sub.name[:80]} ({sub.external_id[:64]}): {too_large}")
            continue
        row = by_external.get(sub.external_id)
        new = _upstream_values(sub, company, customer_id, row, set_price_and_cost)
        if sub.terminated:
            action = DeactivationAction.DEACTIVATE if row is None else decisions.get(
                sub.external_id, DeactivationAction.DEACTIVATE)
            new = _apply(action, new)
        if row is None:
            plan.creates.append(LicenceChangeSet(sub.external_id, sub.name, new, {},
                                                 reason="terminated" if sub.terminated else None))
            continue
        changes = _diff(row.values(), new)
        if not changes and row.vendor_customer_id != company.external_id:
            # A move between two companies of one customer: no field changes, but the holder must, or the
            # old holder's next listing "lacks" it and a failure of that listing blames the new one.
            plan.updates.append(LicenceChangeSet(sub.external_id, sub.name, new, {}, row.id, "moved"))
            continue
        if not changes:
            plan.unchanged += 1
            continue
        target = plan.deactivations if sub.terminated and "active" in changes else plan.updates
        target.append(LicenceChangeSet(sub.external_id, sub.name, new, changes, row.id,
                                       "terminated" if sub.terminated else None))
    return plan


def plan_deleted(
    company: VendorCustomer,
    current: list[LicenceRow],
    gone: set[str],
    decisions: dict[str, DeactivationAction],
    *,
    listed_count: int,
    unreadable: set[str] = frozenset(),  # type: ignore[assignment]
    unidentified: int = 0,
    mass_threshold: float = 0.5,
    allow_mass_deactivation: bool = False,
) -> LicencePlan:
    """What happens to the company's licences its listing no longer holds (``gone``), by the plugin's
    ``decisions``, behind the mass-deactivation guard. ``listed_count``: how many records it listed;
    ``unidentified``: how many it could not read and that carry no id (any of them may be a missing one)."""
    plan = LicencePlan()
    deleted: list[LicenceChangeSet] = []
    for row in current:
        if row.vendor_customer_id != company.external_id or row.external_id not in gone:
            continue
        # An inactive licence is out of billing already: its disappearance changes nothing.
        new = _apply(decisions.get(row.external_id, DeactivationAction.KEEP), row.values()) if row.active else {}
        changes = _diff(row.values(), new)
        if changes:
            deleted.append(LicenceChangeSet(row.external_id, row.name, new, changes, row.id, "deleted"))
        else:
            plan.unchanged += 1
    plan.guard_reason = _mass_deactivation(company, listed_count, unreadable, current, deleted, mass_threshold,
                                           unidentified)
    if plan.guard_reason and not allow_mass_deactivation:
        plan.held_back = deleted
    else:
        plan.deactivations = deleted
    return plan


def _too_long(sub: VendorSubscription) -> str | None:
    for label, value, limit in (("the name", sub.name, LIMITS["licence_name"]),
                                ("the id", sub.external_id, LIMITS["external_id"]),
                                ("the status", sub.status, LIMITS["status"]),
                                ("the currency", sub.currency or "", LIMITS["currency"])):
        if len(value) > limit:
            return f"{label} ({len(value)} characters, at most {limit})"
    return None


def _upstream_values(
    sub: VendorSubscription, company: VendorCustomer, customer_id: int, row: LicenceRow | None, prices: bool
) -> dict[str, Any]:
    values = {
        "name": sub.name,
        "status": sub.status,
        # Not live yet: created inactive; a licence already held keeps its flag until the vendor lists it live.
        "active": (row.active if row is not None else False) if sub.pending_activation else True,
        "quantity": sub.quantity if sub.quantity is not None else 0,
        "start_date": sub.start_date,
        "end_date": sub.end_date or company.contract_end_date,
        "customer_id": customer_id,
        **{name: _term(name, getattr(sub, name)) for name in TERM_FIELDS},
    }
    if prices:
        # At the row's scale, as the database would round it: else every run "changes" 19.1235 to 19.123456.
        values.update(price=_kept(sub.price), cost=_kept(sub.cost), currency=sub.currency)
    else:  # price and cost are never touched when the setting is off
        values.update({f: getattr(row, f) if row is not None else None for f in PRICE_FIELDS})
    return values


def _too_large(sub: VendorSubscription) -> str | None:
    for label, money in (("the price", sub.price), ("the cost", sub.cost)):
        if money is not None and abs(money) >= MONEY_LIMIT - MONEY_PLACES / 2:
            return f"{label} ({money}) is larger than the PSA keeps (at most {MONEY_LIMIT - MONEY_PLACES})"
    return None


def _term(name: str, value: Any) -> Any:
    """A licence term as kept, or None (unknown) when longer than its column: terms are informative, and
    an odd one never costs the licence its import."""
    return None if isinstance(value, str) and len(value) > LIMITS.get(name, len(value)) else value


def _kept(money: Decimal | None) -> Decimal | None:
    return None if money is None else money.quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)


def _apply(action: DeactivationAction, values: dict[str, Any]) -> dict[str, Any]:
    if action is DeactivationAction.DEACTIVATE:
        return {**values, "active": False}
    if action is DeactivationAction.ZERO_QUANTITY:
        return {**values, "quantity": 0}
    return dict(values)


def _diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {f: (old.get(f), new.get(f)) for f in FIELDS if f in new and old.get(f) != new.get(f)}


def _mass_deactivation(
    company: VendorCustomer,
    listed_count: int,
    unreadable: set[str],
    current: list[LicenceRow],
    deleted: list[LicenceChangeSet],
    threshold: float,
    unidentified: int = 0,
) -> str | None:
    """Why these deletions look like a vendor mistake rather than real ones; None when they do not."""
    if not deleted:
        return None
    if unidentified:
        return (f"{counted(unidentified, 'record')} of its listing could not be read and carry no id, so any of these "
                "licences may be among them")
    active = [r for r in current if r.vendor_customer_id == company.external_id and r.active and r.quantity > 0]
    if not listed_count and not unreadable and active:
        held = "was" if len(active) == 1 else "were"
        return f"the listing came back empty but {counted(len(active), 'active licence')} {held} held"
    if active and len(deleted) > threshold * len(active):
        return (f"{len(deleted)} of {len(active)} active licences would be deactivated or zeroed "
                f"(more than {threshold:.0%})")
    return None

