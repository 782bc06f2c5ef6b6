"""The PSA database: customers, sites, mappings, licences, their change history and sync runs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.db import limits


class Base(DeclarativeBase):
    pass


#: Column sizes the planners check before writing, so that one odd vendor record is reported and
#: skipped instead of failing a whole transaction on a database that enforces them (PostgreSQL).
LIMITS = limits.LIMITS


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    top_level: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    sites: Mapped[list[Site]] = relationship(back_populates="customer", cascade="all, delete-orphan")

    @property
    def main_site(self) -> Site | None:
        return next((s for s in self.sites if s.is_main), None)


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(255), default="Main")
    is_main: Mapped[bool] = mapped_column(Boolean, default=True)
    address: Mapped[str | None] = mapped_column(String(500))
    city: Mapped[str | None] = mapped_column(String(255))
    postcode: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(255))

    customer: Mapped[Customer] = relationship(back_populates="sites")


class CustomerMapping(Base):
    __tablename__ = "customer_mappings"
    __table_args__ = (UniqueConstraint("vendor", "external_id", name="uq_mapping_vendor_external"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(64))
    external_name: Mapped[str | None] = mapped_column(String(255))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # auto | manual | import
    created_at: Mapped[datetime] = mapped_column(DateTime)

    customer: Mapped[Customer] = relationship()


class Licence(Base):
    __tablename__ = "licences"
    __table_args__ = (UniqueConstraint("vendor", "external_id", name="uq_licence_vendor_external"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # The vendor company whose listing holds this licence: the unit a listing vouches for.
    vendor_customer_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    price: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    currency: Mapped[str | None] = mapped_column(String(8))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # Licence terms (migration 0004)
    billing_cycle: Mapped[str | None] = mapped_column(String(32))
    commitment_months: Mapped[int | None] = mapped_column(Integer)
    sku: Mapped[str | None] = mapped_column(String(64))
    tenant_id: Mapped[str | None] = mapped_column(String(64))

    customer: Mapped[Customer] = relationship()


class LicenceChange(Base):
    __tablename__ = "licence_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id"), index=True)
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime)

    licence: Mapped[Licence] = relationship()


class RunStatus(StrEnum):
    """A sync run's status, as stored and shown (a str: JSON and the database see the plain word)."""

    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"  # done, with errors or held-back deactivations
    FAILED = "failed"
    # an integration's outcome in ``run --once`` only, never stored:
    INTERRUPTED = "interrupted"
    SKIPPED = "skipped"


class SyncRun(Base):
    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16))  # running | ok | partial | failed
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    deactivated: Mapped[int] = mapped_column(Integer, default=0)
    held_back: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)


class IntegrationLock(Base):
    """Unused: the heartbeat lease of earlier releases. Syncs now hold the database engine's own lock
    (core/locks.py); the table stays in the schema so that no migration is needed."""

    __tablename__ = "integration_locks"

    vendor: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    acquired_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
