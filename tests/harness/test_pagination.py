from __future__ import annotations

from typing import Any

import pytest

from harness_connector.harness.pagination import Page, iterate_items, page_query, parse_page
from harness_connector.harness.registry.model import PagingStyle

pytestmark = pytest.mark.anyio


def test_a_spring_page_is_read_from_content_total_elements_and_number() -> None:
    payload = {"content": [1, 2], "totalElements": 12, "totalPages": 6, "number": 2, "size": 2, "first": False}
    page = parse_page(PagingStyle.SPRING_PAGE, payload, page=2, size=2)
    assert page == Page(items=[1, 2], page=2, size=2, total_items=12, total_pages=6)
    assert page.has_more


def test_a_page_size_list_answering_an_ng_page_response_is_still_read() -> None:
    payload = {"content": [1], "totalItems": 5, "totalPages": 5, "pageIndex": 1, "pageSize": 1}
    page = parse_page(PagingStyle.SPRING_PAGE, payload, page=1, size=1)
    assert page == Page(items=[1], page=1, size=1, total_items=5, total_pages=5)


def test_harness_code_totals_come_from_x_total_headers() -> None:
    page = parse_page(
        PagingStyle.CODE_PAGE, [{"id": 1}], page=0, size=1, headers={"x-total": "3", "x-total-pages": "3"}
    )
    assert page == Page(items=[{"id": 1}], page=0, size=1, total_items=3, total_pages=3)
    assert page.has_more


def test_an_ng_page_response_is_read_from_content_total_items_and_page_index() -> None:
    payload = {"content": [{"a": 1}], "totalItems": 3, "totalPages": 3, "pageIndex": 2, "pageSize": 1, "empty": False}
    page = parse_page(PagingStyle.NG_PAGE, payload, page=2, size=1)
    assert page == Page(items=[{"a": 1}], page=2, size=1, total_items=3, total_pages=3)
    assert not page.has_more


def test_a_v1_bare_array_takes_its_totals_from_headers() -> None:
    page = parse_page(
        PagingStyle.V1_ARRAY,
        [{"identifier": "p"}],
        page=0,
        size=1,
        headers={"X-Total-Elements": "4", "X-Page-Count": "4"},
    )
    assert page == Page(items=[{"identifier": "p"}], page=0, size=1, total_items=4, total_pages=4)
    assert page.has_more


def test_a_v1_bare_array_without_totals_has_more_only_when_full() -> None:
    assert parse_page(PagingStyle.V1_ARRAY, [1, 2], page=0, size=2).has_more
    assert not parse_page(PagingStyle.V1_ARRAY, [1], page=0, size=2).has_more


def test_cf_and_ti_pages_are_read_from_their_own_keys() -> None:
    cf = parse_page(
        PagingStyle.CF_PAGE,
        {"features": [{"identifier": "f"}], "itemCount": 1, "pageCount": 1, "pageIndex": 0, "pageSize": 50},
        page=0,
        size=50,
        items_key="features",
    )
    assert cf.items == [{"identifier": "f"}]
    assert cf.total_items == 1
    ti = parse_page(
        PagingStyle.TI_PAGE,
        {"data": {"totalPages": 2, "totalItems": 11, "pageItemCount": 10, "pageSize": 10}, "content": [{"name": "s"}]},
        page=0,
        size=10,
    )
    assert ti == Page(items=[{"name": "s"}], page=0, size=10, total_items=11, total_pages=2)


def test_garbage_payloads_give_an_empty_page_not_an_exception() -> None:
    page = parse_page(PagingStyle.NG_PAGE, "unexpected", page=0, size=10)
    assert page.items == []
    assert not page.has_more


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        (PagingStyle.SPRING_PAGE, [("page", "3"), ("size", "25")]),
        (PagingStyle.NG_PAGE, [("pageIndex", "3"), ("pageSize", "25")]),
        (PagingStyle.V1_ARRAY, [("page", "3"), ("limit", "25")]),
        (PagingStyle.CF_PAGE, [("pageNumber", "3"), ("pageSize", "25")]),
        (PagingStyle.CODE_PAGE, [("page", "4"), ("limit", "25")]),
        (PagingStyle.NONE, []),
    ],
    ids=["spring", "ng", "v1", "cf", "code-one-based", "none"],
)
def test_each_style_asks_for_a_page_with_its_own_parameter_names(
    style: PagingStyle, expected: list[tuple[str, str]]
) -> None:
    assert page_query(style, 3, 25) == expected


async def test_iterating_items_fetches_pages_until_the_last_and_stops_at_max_items() -> None:
    fetched: list[int] = []

    async def fetch(number: int) -> Page:
        fetched.append(number)
        items: list[Any] = list(range(number * 3, min(number * 3 + 3, 7)))
        return Page(items=items, page=number, size=3, total_items=7, total_pages=3)

    everything = [item async for item in iterate_items(fetch)]
    assert everything == list(range(7))
    assert fetched == [0, 1, 2]
    fetched.clear()
    first_four = [item async for item in iterate_items(fetch, max_items=4)]
    assert first_four == [0, 1, 2, 3]
    assert fetched == [0, 1]
