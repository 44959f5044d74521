"""Harness's paging dialects, read into one `Page` shape.

Each service pages its own way: PMS lists return a Spring `Page` (`page`/`size`, `totalElements`), NG lists a
`PageResponse` (`pageIndex`/`pageSize`, `totalItems`), the v1 API a bare array with totals in headers, the CF
admin API `pageNumber`/`pageSize` with a named item list, and ti-service paging metadata under `data` with rows
under `content`. Callers always speak 0-based `page` and `size`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harness_connector.harness.registry.model import PagingStyle

__all__ = ["Page", "iterate_items", "page_query", "parse_page"]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of items with what is known about the whole list."""

    items: list[Any]
    page: int
    size: int
    total_items: int | None
    total_pages: int | None

    @property
    def has_more(self) -> bool:
        """Whether another page may follow; without totals, a full page means there may be more."""
        if self.total_pages is not None:
            return self.page + 1 < self.total_pages
        if self.total_items is not None:
            return (self.page + 1) * self.size < self.total_items
        return len(self.items) >= self.size > 0


def page_query(style: PagingStyle, page: int, size: int) -> list[tuple[str, str]]:
    """The query parameters that ask for a 0-based `page` of `size` items in the given dialect."""
    if style is PagingStyle.SPRING_PAGE:
        return [("page", str(page)), ("size", str(size))]
    if style in (PagingStyle.NG_PAGE, PagingStyle.TI_PAGE):
        return [("pageIndex", str(page)), ("pageSize", str(size))]
    if style is PagingStyle.V1_ARRAY:
        # The v1 API numbers pages from 1 for some endpoints and 0 for others; it documents `page` as 0-based.
        return [("page", str(page)), ("limit", str(size))]
    if style is PagingStyle.CF_PAGE:
        return [("pageNumber", str(page)), ("pageSize", str(size))]
    if style is PagingStyle.CODE_PAGE:
        # Harness Code counts pages from 1; page 0 would silently answer page 1 again.
        return [("page", str(page + 1)), ("limit", str(size))]
    return []


def parse_page(
    style: PagingStyle,
    payload: Any,
    *,
    page: int,
    size: int,
    headers: Mapping[str, str] | None = None,
    items_key: str | None = None,
) -> Page:
    """Read one page of a list answer (the envelope already removed) in the given dialect."""
    if style is PagingStyle.SPRING_PAGE:
        data = _mapping(payload)
        # Several page/size endpoints (services, environments, triggers) answer an NG PageResponse instead.
        return Page(
            items=_list(data.get("content")),
            page=_int(data.get("number", data.get("pageIndex")), page),
            size=_int(data.get("size", data.get("pageSize")), size),
            total_items=_opt_int(data.get("totalElements", data.get("totalItems"))),
            total_pages=_opt_int(data.get("totalPages")),
        )
    if style is PagingStyle.NG_PAGE:
        data = _mapping(payload)
        return Page(
            items=_list(data.get("content")),
            page=_int(data.get("pageIndex"), page),
            size=_int(data.get("pageSize"), size),
            total_items=_opt_int(data.get("totalItems")),
            total_pages=_opt_int(data.get("totalPages")),
        )
    if style is PagingStyle.TI_PAGE:
        outer = _mapping(payload)
        meta = _mapping(outer.get("data"))
        return Page(
            items=_list(outer.get("content")),
            page=page,
            size=_int(meta.get("pageSize"), size),
            total_items=_opt_int(meta.get("totalItems")),
            total_pages=_opt_int(meta.get("totalPages")),
        )
    if style is PagingStyle.CF_PAGE:
        data = _mapping(payload)
        return Page(
            items=_list(data.get(items_key or "items")),
            page=_int(data.get("pageIndex"), page),
            size=_int(data.get("pageSize"), size),
            total_items=_opt_int(data.get("itemCount")),
            total_pages=_opt_int(data.get("pageCount")),
        )
    if style in (PagingStyle.V1_ARRAY, PagingStyle.CODE_PAGE):
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        return Page(
            items=_list(payload),
            page=page,
            size=size,
            total_items=_opt_int(lowered.get("x-total-elements", lowered.get("x-total"))),
            total_pages=_opt_int(lowered.get("x-page-count", lowered.get("x-total-pages"))),
        )
    items = _list(payload if not isinstance(payload, Mapping) else payload.get(items_key or "content"))
    return Page(items=items, page=0, size=len(items), total_items=len(items), total_pages=1)


async def iterate_items(
    fetch: Callable[[int], Awaitable[Page]],
    *,
    max_items: int | None = None,
    max_pages: int = 1000,
) -> AsyncIterator[Any]:
    """Yield items across pages, fetching the next page only when the previous one is used up."""
    yielded = 0
    for page_number in range(max_pages):
        page = await fetch(page_number)
        for item in page.items:
            if max_items is not None and yielded >= max_items:
                return
            yield item
            yielded += 1
        if not page.items or not page.has_more:
            return


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _opt_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any, default: int) -> int:
    found = _opt_int(value)
    return default if found is None else found
