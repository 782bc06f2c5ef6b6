"""The vendor as one sync sees it: one login and one company listing, shared by the entities synced together."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.config.settings import VendorSettings
from core.errors import AuthenticationError
from core.host.plugins import VendorFacade
from core.planning.customers import screen_companies
from core.sync.app import App
from core.types import Connection, Listing, VendorCustomer
from core.workers import call_abandonable


def integration(app: App, vendor: str) -> tuple[VendorSettings, VendorFacade]:
    return app.config.integration(vendor), VendorFacade(app.pm, vendor)



class Upstream:
    """The vendor as one sync sees it: one login and one company listing, shared by the entities
    synced together (``integrator run``) and made only when first needed. Failures are not kept,
    except a refused login: trying the same credentials again in one run can lock the account out."""

    def __init__(self, facade: VendorFacade, settings: VendorSettings, cancel: threading.Event | None = None) -> None:
        self.facade, self.settings, self.cancel = facade, settings, cancel
        self._connection: Connection | None = None
        self._companies: Listing[VendorCustomer] | None = None
        self._refused: AuthenticationError | None = None

    def connection(self) -> Connection:
        if self._refused is not None:
            raise type(self._refused)(str(self._refused))
        if self._connection is None:
            try:
                self._connection = call_abandonable(self.facade.connect, self.settings, cancel=self.cancel,
                                                    what="the login")
            except AuthenticationError as exc:
                self._refused = exc
                raise
        return self._connection

    def companies(self) -> Listing[VendorCustomer]:
        if self._companies is None:
            listing = call_abandonable(self.facade.list_customers, self.connection(), cancel=self.cancel,
                                       what="the company listing")
            items, problems = screen_companies(listing.items)
            self._companies = Listing(items, [*listing.problems, *problems])
        return self._companies

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@contextmanager
def upstream_for(facade: VendorFacade, settings: VendorSettings, shared: Upstream | None,
                 cancel: threading.Event | None = None) -> Iterator[Upstream]:
    """The shared upstream if the caller has one (and closes it); else one of this sync's own."""
    if shared is not None:
        yield shared
        return
    own = Upstream(facade, settings, cancel)
    try:
        yield own
    finally:
        own.close()


def problems_of(listing: Listing[Any], prefix: str = "") -> list[str]:
    return [prefix + problem.describe() for problem in listing.problems]
