"""A manual mapping: the one rule behind ``integrator mappings add`` and the console's "Add a mapping".

The vendor is asked whether it has the company (an id it does not know is refused, with the closest
one), and the company's name stored beside the mapping is the vendor's: never what a form sent. When
the vendor cannot be reached the mapping is made without a name, and the caller is told so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.db.limits import LIMITS, refuse_too_long
from core.errors import IntegratorError, UsageError
from core.sync.app import App


@dataclass(frozen=True)
class ManualMapping:
    mapping: dict[str, Any]  # shapes.mapping_json of the new mapping
    checked: str  # "found at the vendor", "not checked (--no-check)" or "could not check: <why>"
    warning: str | None = None  # set when the vendor could not be asked

    shown: str = ""  # the vendor's display name (its brand as written)

    def line(self) -> str:
        row = self.mapping
        named = f" ({row['external_name']})" if row["external_name"] else ""
        return f"Mapped {self.shown or row['vendor']} company {row['external_id']}{named} to {row['customer']!r}"


def add_manual_mapping(app: App, vendor: str, external_id: str, customer: str, *, check: bool = True,
                       vendor_app: Callable[[], App] | None = None) -> ManualMapping:
    """Map ``vendor``'s company ``external_id`` to the customer named ``customer``, in one transaction.

    ``app`` holds the database; ``vendor_app`` gives the App that may talk to the vendor (its secrets
    read), when that is another one: ``mappings add --no-check`` works with the password unset."""
    from core import shapes
    from core.db import store
    from core.host.plugins import display_name

    shown = display_name(app.pm, vendor)
    external_id = external_id.strip()
    if not external_id:
        raise UsageError("--external-id must not be empty")
    refuse_too_long(external_id, "--external-id", LIMITS["external_id"])  # before the vendor is asked
    with app.sessions() as session:
        store.find_customer(session, customer)  # a typo is refused before the vendor is asked
    external_name, checked, warning = None, "not checked (--no-check)", None
    if check:
        asking = (vendor_app or (lambda: app))()  # a missing vendor password is the caller's error, not a warning
        try:
            external_name = vendor_company_name(asking, vendor, external_id)
            checked = "found at the vendor"
        except UsageError:
            raise
        except IntegratorError as exc:
            warning = f"could not check {external_id} with {shown}: {exc}; mapped without checking"
            checked = f"could not check: {exc}"
    with app.sessions.begin() as session:
        mapping = store.add_mapping(session, vendor, external_id, customer, external_name=external_name)
        row = shapes.mapping_json(mapping)
    return ManualMapping(mapping=row, checked=checked, warning=warning, shown=shown)


def vendor_company_name(app: App, vendor: str, external_id: str) -> str:
    """The company's name at the vendor; UsageError when the vendor has no such company, another
    IntegratorError when it could not be asked."""
    from core.config.yamlload import did_you_mean
    from core.host.plugins import VendorFacade, display_name
    from core.sync.upstream import Upstream

    upstream = Upstream(VendorFacade(app.pm, vendor), app.config.integration(vendor))
    try:
        companies = upstream.companies().items
    finally:
        upstream.close()
    by_id = {c.external_id: c.name for c in companies}
    if external_id not in by_id:
        raise UsageError(f"{display_name(app.pm, vendor)} has no company with id {external_id!r}"
                         f"{did_you_mean(external_id, by_id)} among its {len(by_id)} companies; "
                         "see 'integrator mappings suggest' (or --no-check to map it anyway)")
    return by_id[external_id]
