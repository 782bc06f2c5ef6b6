"""A client of Pax8's partner API (v1), on the SDK's REST client.

OAuth2 client credentials (``POST {url}/v1/token``, a JSON body with the audience), the token
cached until shortly before ``expires_in`` and renewed once on a 401; lists paged with ``page``
(from 0) and ``size=200`` until ``page.number + 1 >= page.totalPages``; a token bucket under
Pax8's 1,000 requests a minute, AIMD pacing on 429, Retry-After honoured. Everything but the
product cache is the SDK's.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from core.errors import VendorFaultError, VendorProtocolError
from core.vendor import OAuth2ClientCredentials, PageNumberPaginator, RESTClient

AUDIENCE = "https://api.pax8.com"
PAGE_SIZE = 200  # Pax8's largest page
REQUESTS_PER_MINUTE = 900  # ~10% under Pax8's 1,000 a minute


class _Once:
    """One value computed once, however many threads ask at the same time."""

    __slots__ = ("done", "lock", "value")

    def __init__(self) -> None:
        self.lock, self.done, self.value = threading.Lock(), False, None

    def get(self, compute: Any) -> Any:
        with self.lock:
            if not self.done:
                self.value, self.done = compute(), True
            return self.value


class Pax8Client(RESTClient):
    """One Pax8 API credential. Thread-safe: the subscription listings of many companies share it."""

    vendor = "Pax8"
    url_hint = "the Pax8 API URL (e.g. https://api.pax8.com)"

    def __init__(self, url: str, client_id: str, client_secret: str, *, timeout: float = 30.0, retries: int = 5,
                 backoff: float = 0.5, concurrency: int = 8, requests_per_minute: int = REQUESTS_PER_MINUTE) -> None:
        base = url.rstrip("/") + "/v1"
        auth = OAuth2ClientCredentials(base + "/token", client_id, client_secret, audience=AUDIENCE)
        super().__init__(base, auth=auth, paginator=PageNumberPaginator(size=PAGE_SIZE), timeout=timeout,
                         retries=retries, backoff=backoff, pool_size=max(concurrency, 1) * 2,
                         concurrency=concurrency, requests_per_minute=requests_per_minute)
        self.client_id = client_id
        self._products: dict[str, _Once] = {}
        self._products_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Pax8Client(client_id={self.client_id!r})"

    def _list(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        items = self.get_all(path, params=params)
        if not isinstance(items, list):
            raise VendorProtocolError(f"Pax8 answered GET {path} with something that is not a page of records")
        return items

    def check(self) -> int:
        """Get a token and read one company: the credentials work. How many companies there are."""
        page = self.get_json("/companies", params={"page": 0, "size": 1})
        total = page.get("page", {}).get("totalElements") if isinstance(page, Mapping) else None
        return total if isinstance(total, int) else 0

    def companies(self) -> list[Any]:
        return self._list("/companies")

    def subscriptions(self, company_id: str) -> list[Any]:
        """Every subscription of one company, cancelled ones included (no status filter)."""
        return self._list("/subscriptions", {"companyId": company_id})

    def product(self, product_id: str) -> Mapping[str, Any] | None:
        """``GET /products/{id}``, once per product for the life of this client (one run); None when
        Pax8 has no such product."""
        with self._products_lock:
            once = self._products.setdefault(product_id, _Once())
        return once.get(lambda: self._product(product_id))

    def _product(self, product_id: str) -> Mapping[str, Any] | None:
        try:
            found = self.get_json(f"/products/{product_id}")
        except VendorFaultError:  # 404 and the like: unknown product; its subscriptions become record problems
            return None
        return found if isinstance(found, Mapping) else None

    @property
    def products_fetched(self) -> int:
        return len(self._products)

    def invoices(self, first: str, last: str) -> list[Any]:
        """The invoices dated from ``first`` to ``last`` (``yyyy-MM-dd``, inclusive)."""
        return self._list("/invoices", {"invoiceDateRangeStart": first, "invoiceDateRangeEnd": last})

    def invoice_items(self, invoice_id: str) -> list[Any]:
        return self._list(f"/invoices/{invoice_id}/items")
