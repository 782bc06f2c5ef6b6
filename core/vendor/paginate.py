"""How a :class:`~core.vendor.rest.RESTClient` walks a listing's pages: the paginator hook.

A paginator is asked for the first page's query parameters (:meth:`Paginator.first`), takes the items
out of each answer (:meth:`Paginator.items`), and says which page comes next, or None when the listing
is complete (:meth:`Paginator.next`). It keeps no state between listings: many threads share one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import VendorProtocolError


def dig(data: Any, path: str | None) -> Any:
    """``data["a"]["b"]`` for the path ``"a.b"``; None when any step is missing (or ``path`` is None)."""
    if path is None:
        return None
    for key in path.split("."):
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


class Paginator:
    """The base: one page, its items the answer itself (a list) or under ``items_key``."""

    def __init__(self, items_key: str | None = None) -> None:
        self.items_key = items_key

    def first(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return dict(params)

    def items(self, data: Any, what: str) -> list[Any]:
        items = dig(data, self.items_key) if self.items_key else data
        if items is None and self.items_key and isinstance(data, Mapping):
            items = []  # an answer naming no items (Spring leaves "content" out of an empty page): none
        if not isinstance(items, list):
            where = f" under {self.items_key!r}" if self.items_key else ""
            raise VendorProtocolError(f"{what} answered {type(items).__name__}{where}, not a list")
        return items

    def next(self, data: Any, params: dict[str, Any], items: list[Any], seen: int) -> dict[str, Any] | None:
        """The next page's parameters after a page that gave ``items`` (``seen`` in all so far); None: done."""
        return None


class NoPaging(Paginator):
    """The whole listing comes in one answer."""


class PageNumberPaginator(Paginator):
    """``?page=N&size=S``: pages counted from ``first_page`` (0 or 1). The listing is complete at an empty
    page, at a short page (fewer than ``size`` items) with ``stop_on_short_page``, or when the answer's
    totals say so: the page index
    reached ``total_pages`` or ``seen`` reached ``total_items`` (dotted paths into the answer; Spring's
    ``page.totalPages`` / ``page.totalElements`` by default)."""

    def __init__(self, *, page_param: str = "page", size_param: str | None = "size", size: int = 200,
                 first_page: int = 0, items_key: str | None = "content", total_pages: str | None = "page.totalPages",
                 total_items: str | None = "page.totalElements", stop_on_short_page: bool = False) -> None:
        super().__init__(items_key)
        if first_page not in (0, 1):
            raise ValueError("first_page is 0 or 1")
        self.page_param, self.size_param, self.size, self.first_page = page_param, size_param, size, first_page
        self.total_pages, self.total_items, self.stop_on_short_page = total_pages, total_items, stop_on_short_page

    def first(self, params: Mapping[str, Any]) -> dict[str, Any]:
        page = {**params, self.page_param: self.first_page}
        if self.size_param:
            page[self.size_param] = self.size
        return page

    def next(self, data: Any, params: dict[str, Any], items: list[Any], seen: int) -> dict[str, Any] | None:
        if not items:
            return None
        number = int(params[self.page_param])
        pages = dig(data, self.total_pages)
        if isinstance(pages, int) and number - self.first_page + 1 >= pages:
            return None
        total = dig(data, self.total_items)
        if isinstance(total, int) and seen >= total:
            return None
        if self.stop_on_short_page and len(items) < self.size:
            return None
        return {**params, self.page_param: number + 1}
