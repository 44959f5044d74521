"""What a resource type served from the history store is made of, and the helpers its handlers share.

Local types have no Harness endpoint: a list handler, a get handler and, for some, actions answer them from the
store. `services.local_types` keeps the registry the tools dispatch on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness_connector.errors import UsageError
from harness_connector.harness.registry import Risk
from harness_connector.services.connection import Connection
from harness_connector.services.results import ExecuteResult, ItemDetail, ItemList
from harness_connector.store import Store

__all__ = [
    "LocalAction",
    "LocalActionCall",
    "LocalType",
    "choice_arg",
    "page_of",
    "require_store",
    "window_days_arg",
]

ListHandler = Callable[[Connection, Mapping[str, Any], int, int, int], Awaitable[ItemList]]
"""(conn, filters, page, size, now_ms) -> one page."""
GetHandler = Callable[[Connection, str, Mapping[str, Any], int], Awaitable[ItemDetail]]
"""(conn, item id, params, now_ms) -> the item."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalActionCall:
    """One harness_execute call on a local type, once its gate let it through.

    `actor` is who the audit trail names; `confirmation` says how the call was allowed (a person through
    elicitation, the caller's confirm=true, or no confirmation needed).
    """

    action: str
    resource_id: str | None
    args: Mapping[str, Any]
    actor: str
    confirmation: str
    now_ms: int


ActionHandler = Callable[[Connection, LocalActionCall], Awaitable[ExecuteResult]]
PreviewHandler = Callable[[Connection, str | None], str]
"""(conn, resource id) -> what a person is asked to allow; raises UsageError for an unknown id."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalAction:
    """An action of a local type through harness_execute.

    `person_required` keeps the operator's auto-approve level out of it: the point of the action is that a person
    decides, so only elicitation or the caller's confirm=true (after asking the person) allow it.
    """

    risk: Risk
    description: str
    perform: ActionHandler
    person_required: bool = False
    preview: PreviewHandler | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalType:
    """A resource type answered from the store: what it is, its filters, its handlers and its actions."""

    name: str
    description: str
    id_field: str
    filters: Mapping[str, str]
    list_items: ListHandler
    list_description: str
    get_item: GetHandler
    get_description: str
    actions: Mapping[str, LocalAction] = field(default_factory=dict)
    example: Mapping[str, Any] = field(default_factory=dict)


def require_store(conn: Connection) -> Store:
    """The open history store.

    Raises:
        UsageError: no store is open.
    """
    if conn.store is None:
        raise UsageError("no history store is open: run `harness-connector sync` (or set HARNESS_DB) first")
    return conn.store


def window_days_arg(args: Mapping[str, Any], default: int) -> int:
    """The `window_days` argument as whole days (1-365), or `default` when absent.

    Raises:
        UsageError: not a whole number in range.
    """
    value = args.get("window_days")
    if value is None or value == "":
        return default
    try:
        days = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"window_days must be a whole number of days from 1 to 365, not {value!r}") from None
    if not days.is_integer() or not 1 <= days <= 365:
        raise UsageError(f"window_days must be a whole number of days from 1 to 365, not {value!r}")
    return int(days)


def choice_arg(args: Mapping[str, Any], name: str, choices: Collection[str]) -> list[str]:
    """The values given for filter `name` (one value or a list), lower-cased; empty when absent.

    Raises:
        UsageError: a value is not one of `choices`.
    """
    value = args.get(name)
    if value is None or value == "":
        return []
    given = [str(v).lower() for v in (value if isinstance(value, list | tuple) else [value])]
    wrong = [v for v in given if v not in choices]
    if wrong:
        raise UsageError(f"{name} must be one of {', '.join(choices)}; got {', '.join(wrong)}")
    return given


def page_of(name: str, items: Sequence[dict[str, Any]], *, page: int, size: int) -> ItemList:
    """One page of items already filtered and sorted in memory."""
    if page < 0 or size < 1:
        raise UsageError("page starts at 0 and size at 1")
    start = page * size
    return ItemList(
        resource_type=name,
        items=list(items[start : start + size]),
        page=page,
        size=size,
        total=len(items),
        has_more=start + size < len(items),
    )
