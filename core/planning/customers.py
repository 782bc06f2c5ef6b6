"""Planning a customer import (and automatic mapping) from the vendor's companies."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from enum import StrEnum

from core.db.limits import LIMITS, fit_address
from core.planning.names import lookup_name, normalise_name
from core.types import Address, RecordProblem, VendorCustomer


class CustomerKind(StrEnum):
    """What a customer import does with one vendor company."""

    CREATE = "create"
    MAP = "map"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    SKIP = "skip"


CREATE, MAP, UPDATE, UNCHANGED, SKIP = (CustomerKind.CREATE, CustomerKind.MAP, CustomerKind.UPDATE,
                                        CustomerKind.UNCHANGED, CustomerKind.SKIP)
ADDRESS_FIELDS = ("address", "city", "postcode", "country")


@dataclass(frozen=True, slots=True)
class CustomerRow:
    """What the planner needs to know of an existing PSA customer."""

    id: int
    name: str
    main_site: Address | None


@dataclass(frozen=True, slots=True)
class MappingRow:
    external_id: str
    external_name: str | None
    customer_id: int


@dataclass(slots=True)
class CustomerAction:
    kind: CustomerKind
    company: VendorCustomer
    customer_id: int | None = None
    customer_name: str | None = None
    changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    reason: str | None = None
    needs_attention: bool = False  # a skip a person must resolve (reported as an error of the run)

    def label(self) -> str:
        return f"{self.company.name} ({self.company.external_id})"


@dataclass
class CustomerPlan:
    actions: list[CustomerAction] = field(default_factory=list)

    def of(self, kind: CustomerKind) -> list[CustomerAction]:
        return [a for a in self.actions if a.kind == kind]

    def counts(self) -> dict[str, int]:
        return {k: len(self.of(k)) for k in CustomerKind}


def screen_companies(companies: list[VendorCustomer]) -> tuple[list[VendorCustomer], list[RecordProblem]]:
    """The companies with their names normalised (:mod:`core.planning.names`), and the ones no import may touch:
    a name with a control character or nothing but white space, and every copy of an account id the
    vendor lists more than once (which copy is right cannot be known: neither may overwrite a
    customer's name or address)."""
    counts = Counter(c.external_id for c in companies)
    kept: list[VendorCustomer] = []
    problems: list[RecordProblem] = []
    reported: set[str] = set()
    for company in companies:
        if counts[company.external_id] > 1:
            if company.external_id not in reported:
                reported.add(company.external_id)
                names = ", ".join(repr(c.name) for c in companies if c.external_id == company.external_id)
                problems.append(RecordProblem(company.external_id, company.name,
                                              f"the vendor lists this account id {counts[company.external_id]} "
                                              f"times ({names}); none of them is imported until it lists one"))
            continue
        try:
            name = normalise_name(company.name)
        except ValueError as exc:
            problems.append(RecordProblem(company.external_id, company.name.strip()[:80], f"the name {exc}"))
            continue
        if not name:  # only white space: a customer named "" matches nothing a person can type
            problems.append(RecordProblem(company.external_id, None, "the name is empty"))
            continue
        kept.append(company if name == company.name else replace(company, name=name))
    return kept, problems


def plan_customer_import(
    companies: list[VendorCustomer],
    customers: list[CustomerRow],
    mappings: list[MappingRow],
    *,
    update_main_site_address: bool,
    create_new: bool = True,
) -> CustomerPlan:
    """Mapped companies update their customer; exact names are mapped; the rest is created or skipped.

    With ``create_new`` false this is ``mappings generate``: only exact-name mapping happens.
    """
    by_id = {c.id: c for c in customers}
    by_name = {lookup_name(c.name): c for c in customers}  # rows stored before names were normalised too
    mapped = {m.external_id: m for m in mappings}
    taken_customers = {m.customer_id: m.external_id for m in mappings}
    claimed_names: dict[str, VendorCustomer] = {}
    seen_ids: set[str] = set()
    plan = CustomerPlan()

    for company in sorted(companies, key=_order):
        if company.external_id in seen_ids:
            plan.actions.append(CustomerAction(SKIP, company, reason="listed twice by the vendor; the first is used"))
            continue
        seen_ids.add(company.external_id)
        if len(company.name) > LIMITS["name"] or len(company.external_id) > LIMITS["external_id"]:
            plan.actions.append(CustomerAction(
                SKIP, company, reason=f"name or id longer than the PSA keeps ({LIMITS['name']} characters)",
                needs_attention=True))
            continue
        mapping = mapped.get(company.external_id)
        if mapping is not None and mapping.customer_id in by_id:
            customer = by_id[mapping.customer_id]
            plan.actions.append(_update(company, customer, mapping.external_name, update_main_site_address))
            continue
        earlier = claimed_names.get(company.name)
        if earlier is not None:
            plan.actions.append(CustomerAction(
                SKIP, company,
                reason=f"another company, {earlier.name} ({earlier.external_id}), has the same name: "
                       "map this one by hand with 'integrator mappings add'", needs_attention=True))
            continue
        customer = by_name.get(company.name)
        if customer is not None:
            owner = taken_customers.get(customer.id)
            if owner is not None:
                plan.actions.append(CustomerAction(
                    SKIP, company, customer_id=customer.id, customer_name=customer.name,
                    reason=f"customer {customer.name!r} is already mapped to company {owner}: "
                           "map this one by hand if it belongs there too", needs_attention=True))
                continue
            claimed_names[company.name] = company
            taken_customers[customer.id] = company.external_id
            action = _update(company, customer, None, update_main_site_address and create_new)
            action.kind = MAP
            plan.actions.append(action)
            continue
        if not create_new:
            plan.actions.append(CustomerAction(SKIP, company, reason=f"no customer is named exactly {company.name!r}"))
            continue
        if not company.active:
            plan.actions.append(CustomerAction(SKIP, company, reason=f"{company.state.lower()}: not created"))
            continue
        claimed_names[company.name] = company
        plan.actions.append(CustomerAction(CREATE, company, customer_name=company.name))
    return plan


def _order(company: VendorCustomer) -> tuple[int, str]:
    digits = company.external_id.isdigit()
    return (int(company.external_id) if digits else 0, company.external_id)


def _update(
    company: VendorCustomer, customer: CustomerRow, known_name: str | None, update_address: bool
) -> CustomerAction:
    changes: dict[str, tuple[str | None, str | None]] = {}
    if known_name is not None and known_name != company.name:
        changes["external_name"] = (known_name, company.name)
    # An entirely empty vendor address never wipes the one kept in the PSA.
    if update_address and not company.address.is_empty():
        old = customer.main_site or Address()
        new = fit_address(company.address)  # as it will be stored: a cut address line is no change
        for name in ADDRESS_FIELDS:
            before, after = getattr(old, name), getattr(new, name)
            if (before or None) != (after or None):
                changes[name] = (before, after)
    kind = UPDATE if changes else UNCHANGED
    return CustomerAction(kind, company, customer_id=customer.id, customer_name=customer.name, changes=changes)
