"""Reading and writing the PSA database: customers, mappings, licences, history and sync runs.

Plans are applied here, each inside the caller's transaction.
"""

from __future__ import annotations

import os
import socket
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from core.db import clock
from core.db.limits import LIMITS, SITE_SIZES, cut, refuse_too_long
from core.db.models import Customer, CustomerMapping, Licence, LicenceChange, RunStatus, Site, SyncRun
from core.errors import UsageError
from core.planning.customers import CREATE, MAP, UPDATE, CustomerPlan, CustomerRow, MappingRow
from core.planning.licences import LicenceChangeSet, LicenceRow
from core.planning.names import lookup_name, normalise_name
from core.types import Address

# -- customers ---------------------------------------------------------------------------------

def add_customer(session: Session, name: str, top_level: str | None = None,
                 address: Address | None = None) -> Customer:
    try:
        name = normalise_name(name)
    except ValueError as exc:
        raise UsageError(f"customer name {name!r} {exc}") from None
    if not name:
        raise UsageError("a customer needs a name")
    refuse_too_long(name, "customer name", LIMITS["name"])
    if top_level is not None:
        refuse_too_long(top_level, "--top-level", LIMITS["top_level"])
    if session.scalar(select(Customer).where(Customer.name == name)) is not None:
        raise UsageError(f"a customer named {name!r} already exists")
    customer = Customer(name=name, top_level=top_level, active=True, created_at=clock.now())
    if address is not None:
        customer.sites.append(Site(name="Main", is_main=True, **_site_fields(address)))
    session.add(customer)
    session.flush()
    return customer


def find_customer(session: Session, name: str) -> Customer:
    """The customer a person means by ``name`` (typed with spaces around it, or decomposed as a Mac types
    "Müller"): the one lookup behind every ``--customer`` filter. UsageError when there is none."""
    customer = session.scalar(select(Customer).where(Customer.name == lookup_name(name)))
    if customer is None:
        raise UsageError(f"no customer is named {name!r} (see 'integrator customers list')")
    return customer


def list_customers(session: Session) -> list[Customer]:
    return list(session.scalars(select(Customer).options(selectinload(Customer.sites)).order_by(Customer.name)))


STREAMED = {"yield_per": 2000}  # rows read in slices, not all buffered before the first is used


def customer_rows(session: Session) -> list[CustomerRow]:
    """Every customer with its main site, as plain rows (one query; the planner needs no ORM objects)."""
    query = (select(Customer.id, Customer.name, Site.id, Site.address, Site.city, Site.postcode, Site.country)
             .outerjoin(Site, (Site.customer_id == Customer.id) & Site.is_main).order_by(Customer.id, Site.id))
    rows: dict[int, CustomerRow] = {}
    shared: dict[str | None, str | None] = {}  # one string per city and country, not one per customer
    for cid, name, site_id, address, city, postcode, country in session.execute(query, execution_options=STREAMED):
        if cid not in rows:  # the first main site, if a customer somehow has two
            site = Address(address, shared.setdefault(city, city), postcode, shared.setdefault(country, country))
            rows[cid] = CustomerRow(id=cid, name=name, main_site=site if site_id is not None else None)
    return list(rows.values())


# -- mappings ----------------------------------------------------------------------------------

def list_mappings(session: Session, vendor: str) -> list[CustomerMapping]:
    query = (select(CustomerMapping).where(CustomerMapping.vendor == vendor)
             .options(selectinload(CustomerMapping.customer)).order_by(CustomerMapping.id))
    return list(session.scalars(query))


def mapping_rows(session: Session, vendor: str) -> list[MappingRow]:
    query = select(CustomerMapping.external_id, CustomerMapping.external_name, CustomerMapping.customer_id).where(
        CustomerMapping.vendor == vendor).order_by(CustomerMapping.id)
    return [MappingRow(*row) for row in session.execute(query, execution_options=STREAMED)]


def mapped_customers(session: Session, vendor: str) -> dict[str, tuple[int, str, str | None]]:
    """external id -> (customer id, customer name, vendor's company name), in one query."""
    query = (select(CustomerMapping.external_id, CustomerMapping.customer_id, Customer.name,
                    CustomerMapping.external_name)
             .join(Customer, Customer.id == CustomerMapping.customer_id).where(CustomerMapping.vendor == vendor))
    rows = session.execute(query, execution_options=STREAMED)
    return {ext: (cid, name, ext_name) for ext, cid, name, ext_name in rows}


def add_mapping(session: Session, vendor: str, external_id: str, customer_name: str,
                external_name: str | None = None, source: str = "manual") -> CustomerMapping:
    external_id = external_id.strip()
    if not external_id:
        raise UsageError("--external-id must not be empty")
    refuse_too_long(external_id, "--external-id", LIMITS["external_id"])
    external_name = cut(external_name, LIMITS["external_name"])
    customer = find_customer(session, customer_name)
    existing = session.scalar(select(CustomerMapping).where(
        CustomerMapping.vendor == vendor, CustomerMapping.external_id == external_id))
    if existing is not None:
        raise UsageError(f"{vendor} company {external_id} is already mapped to {existing.customer.name!r}: "
                         f"remove that mapping first")
    mapping = CustomerMapping(vendor=vendor, external_id=external_id, external_name=external_name,
                              customer_id=customer.id, source=source, created_at=clock.now())
    session.add(mapping)
    try:
        session.flush()
    except IntegrityError:
        raise UsageError(f"{vendor} company {external_id} is already mapped") from None
    return mapping


def remove_mapping(session: Session, vendor: str, external_id: str) -> CustomerMapping:
    mapping = session.scalar(select(CustomerMapping).where(
        CustomerMapping.vendor == vendor, CustomerMapping.external_id == external_id.strip()))
    if mapping is None:
        raise UsageError(f"no mapping for {vendor} company {external_id}")
    session.delete(mapping)
    return mapping


def _fit(value: str | None, field: str) -> str | None:
    """An address part cut to its column: a long address line is kept, shortened, rather than refused."""
    return cut(value, SITE_SIZES[field])


def _site_fields(address: Address) -> dict[str, str | None]:
    return {name: _fit(getattr(address, name), name) for name in SITE_SIZES}


CREATE_SLICE = 2000  # new customers per set of INSERTs


def apply_customer_plan(session: Session, vendor: str, plan: CustomerPlan, top_level: str | None) -> None:
    """Write a customer plan; the caller owns the transaction. New customers go in set-based inserts."""
    stamp = clock.now()
    all_creates = [a.company for a in plan.actions if a.kind == CREATE]
    # In slices, so a first import of 50,000 companies never holds 3 x 50,000 parameter sets at once.
    for start in range(0, len(all_creates), CREATE_SLICE):
        creates = all_creates[start:start + CREATE_SLICE]
        result = session.execute(insert(Customer).returning(Customer.id, sort_by_parameter_order=True), [
            {"name": c.name, "top_level": top_level, "active": True, "created_at": stamp} for c in creates])
        ids = list(result.scalars())
        session.execute(insert(Site), [
            {"customer_id": cid, "name": "Main", "is_main": True, **_site_fields(c.address)}
            for cid, c in zip(ids, creates, strict=True)])
        session.execute(insert(CustomerMapping), [
            {"vendor": vendor, "external_id": c.external_id, "external_name": c.name, "customer_id": cid,
             "source": "import", "created_at": stamp} for cid, c in zip(ids, creates, strict=True)])
    for action in plan.actions:
        company = action.company
        if action.kind in (MAP, UPDATE):
            assert action.customer_id is not None
            if action.kind == MAP:
                session.add(CustomerMapping(vendor=vendor, external_id=company.external_id,
                                            external_name=company.name, customer_id=action.customer_id,
                                            source="auto", created_at=clock.now()))
            _apply_customer_changes(session, vendor, action.customer_id, company.external_id, action.changes)
    session.flush()


def _apply_customer_changes(session: Session, vendor: str, customer_id: int, external_id: str,
                            changes: dict[str, tuple[str | None, str | None]]) -> None:
    if "external_name" in changes:
        mapping = session.scalar(select(CustomerMapping).where(
            CustomerMapping.vendor == vendor, CustomerMapping.external_id == external_id))
        if mapping is not None:
            mapping.external_name = changes["external_name"][1]
    address = {k: v[1] for k, v in changes.items() if k != "external_name"}
    if not address:
        return
    customer = session.get(Customer, customer_id)
    assert customer is not None
    site = customer.main_site
    if site is None:
        site = Site(name="Main", is_main=True)
        customer.sites.append(site)
    for key, value in address.items():
        setattr(site, key, _fit(value, key))


# -- licences ----------------------------------------------------------------------------------

def licence_rows_by_company(session: Session, vendor: str,
                            listed: dict[str, list[str]]) -> dict[str, list[LicenceRow]]:
    """For each company (id -> the licence ids its listing holds), the licences its listing concerns:
    those it holds now and those it lists that another company holds (a move, or a licence listed
    twice); a row can therefore appear under two companies.

    Plain Core rows, not ORM objects (the planner needs values; ORM loading cost 4x the query), in
    one statement on PostgreSQL (``= ANY(:ids)``: one array parameter, one plan) and in chunks of
    at most 900 ids on SQLite (its parameter limit)."""
    vendor_customer_ids = list(listed)
    listed_ids = list({ext for exts in listed.values() for ext in exts})
    listers: dict[str, list[str]] = {}
    for cid, exts in listed.items():
        for ext in exts:
            listers.setdefault(ext, []).append(cid)
    table = Licence.__table__
    columns = [table.c[name] for name in LicenceRow.__dataclass_fields__]
    connection = session.connection()
    found: dict[int, LicenceRow] = {}
    if connection.dialect.name == "postgresql":
        from sqlalchemy import String, any_, bindparam, or_
        from sqlalchemy.dialects.postgresql import ARRAY

        query = select(*columns).where(table.c.vendor == vendor, or_(
            table.c.vendor_customer_id == any_(bindparam("companies", type_=ARRAY(String))),
            table.c.external_id == any_(bindparam("licences", type_=ARRAY(String)))))
        results = [connection.execute(query, {"companies": vendor_customer_ids, "licences": listed_ids}).all()]
    else:
        # Those the companies hold, then only the listed ids not among them (moves; new ones find
        # nothing): a re-sync reads each row once, not once per query.
        results = []
        for column, values in ((table.c.vendor_customer_id, vendor_customer_ids), (table.c.external_id, None)):
            if values is None:
                held = {row.external_id for result in results for row in result}
                values = [ext for ext in listed_ids if ext not in held]
            for start in range(0, len(values), 900):
                query = select(*columns).where(table.c.vendor == vendor, column.in_(values[start:start + 900]))
                results.append(connection.execute(query).all())
    for result in results:
        for values_row in result:
            found[values_row[0]] = LicenceRow(*values_row)
    by_company: dict[str, list[LicenceRow]] = {cid: [] for cid in vendor_customer_ids}
    for row in found.values():
        for owner in dict.fromkeys([row.vendor_customer_id, *listers.get(row.external_id, ())]):
            if owner in by_company:
                by_company[owner].append(row)
    return by_company


def refresh_statistics(session: Session) -> None:
    """PostgreSQL: ANALYZE the licence tables, so that a first import that grew them from nothing is
    not planned from the statistics of an empty table (sequential scans for every batch)."""
    if session.connection().dialect.name == "postgresql":
        session.execute(text("ANALYZE licences"))
        session.execute(text("ANALYZE licence_changes"))


def apply_licence_changes(session: Session, vendor: str, changes: list[tuple[str, LicenceChangeSet]],
                          run_id: int | None) -> None:
    """Write creates and updates, with one history row per changed field, as a few set-based statements
    in the caller's transaction. ``changes`` pairs each change with its vendor company's id.

    Every history row of a run is dated at the run's start, not when it is written: a run across
    midnight bills all its changes on one day, the day it started (README, Billing)."""
    stamp = clock.now()
    seen_at = stamp
    if run_id is not None:
        seen_at = session.scalar(select(SyncRun.started_at).where(SyncRun.id == run_id)) or stamp
    history: list[dict[str, Any]] = []
    creates = [(cid, c) for cid, c in changes if c.licence_id is None]
    if creates:
        rows = [{"vendor": vendor, "external_id": c.external_id, "vendor_customer_id": cid, "updated_at": stamp,
                 **c.values} for cid, c in creates]
        table = Licence.__table__
        result = session.execute(  # Core, not ORM, inserts: the plan is already plain values
            insert(table).returning(table.c.id, table.c.external_id, sort_by_parameter_order=True), rows)
        for (licence_id, _), (_, change) in zip(result.all(), creates, strict=True):
            history.append({"licence_id": licence_id, "sync_run_id": run_id, "field": "created", "old_value": None,
                            "new_value": as_text(change.values.get("quantity")), "changed_at": seen_at})
    updates = [(cid, c) for cid, c in changes if c.licence_id is not None]
    if updates:
        session.execute(update(Licence), [
            {"id": c.licence_id, "vendor_customer_id": cid, "updated_at": stamp,
             **{name: new for name, (_, new) in c.changes.items()}} for cid, c in updates])
        moved = {cid for _, c in updates if "customer_id" in c.changes for cid in c.changes["customer_id"]}
        names: dict[int, str] = {}
        if moved:
            names = {cid: name for cid, name in session.execute(
                select(Customer.id, Customer.name).where(Customer.id.in_(moved)))}
        for _, change in updates:
            for name, (old, new) in change.changes.items():
                if name == "customer_id":  # a licence that moved: the history says between which customers
                    name, old, new = "customer", names.get(old, old), names.get(new, new)
                history.append({"licence_id": change.licence_id, "sync_run_id": run_id, "field": name,
                                "old_value": as_text(old), "new_value": as_text(new), "changed_at": seen_at})
    if history:
        session.execute(insert(LicenceChange.__table__), history)


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def licence_query(customer: str | None = None):  # type: ignore[no-untyped-def]
    """Licences, of one customer when given ``customer``: a stored name, as :func:`find_customer` gives it."""
    query = select(Licence).join(Customer).options(selectinload(Licence.customer)).order_by(
        Customer.name, Licence.vendor, Licence.name, Licence.external_id)
    if customer is not None:
        query = query.where(Customer.name == customer)
    return query


def history_query(customer: str | None = None):  # type: ignore[no-untyped-def]
    """Licence changes, newest first, of one customer when given ``customer`` (a stored name)."""
    query = (select(LicenceChange).join(Licence).join(Customer)
             .options(selectinload(LicenceChange.licence).selectinload(Licence.customer))
             .order_by(LicenceChange.id.desc()))
    if customer is not None:
        query = query.where(Customer.name == customer)
    return query


# -- sync runs ---------------------------------------------------------------------------------

def start_run(session: Session, vendor: str, entity: str) -> SyncRun:
    run = SyncRun(vendor=vendor, entity=entity, started_at=clock.now(), status=RunStatus.RUNNING, created=0, updated=0,
                  deactivated=0, held_back=0, errors=[], host=socket.gethostname(), pid=os.getpid())
    session.add(run)
    session.flush()
    return run


