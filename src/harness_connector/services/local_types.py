"""The resource types served from the history store, and the calls the tools make on them.

harness_list, harness_get, harness_execute and harness_describe check `LOCAL_TYPES` before the Harness registry:
these types have no Harness endpoint, only the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness_connector.errors import UsageError
from harness_connector.services.connection import Connection
from harness_connector.services.flaky_tests import FLAKY_TESTS
from harness_connector.services.history import TEST_RESULTS
from harness_connector.services.local_model import LocalAction, LocalActionCall, LocalType
from harness_connector.services.quarantine_proposals import QUARANTINES
from harness_connector.services.results import ExecuteResult, ItemDetail, ItemList

__all__ = [
    "LOCAL_TYPES",
    "LocalAction",
    "LocalActionCall",
    "LocalType",
    "action_preview",
    "get_local",
    "list_local",
    "local_action",
    "perform_local",
]

LOCAL_TYPES: dict[str, LocalType] = {t.name: t for t in (TEST_RESULTS, FLAKY_TESTS, QUARANTINES)}


def _local_type(name: str) -> LocalType:
    found = LOCAL_TYPES.get(name)
    if found is None:
        raise UsageError(f"'{name}' is not served from the history store; those types are {', '.join(LOCAL_TYPES)}")
    return found


async def list_local(
    conn: Connection, name: str, args: Mapping[str, Any], *, page: int, size: int, now_ms: int
) -> ItemList:
    """A page of a store-backed type.

    Raises:
        UsageError: no store is open, or a filter value is wrong.
    """
    return await _local_type(name).list_items(conn, args, page, size, now_ms)


async def get_local(
    conn: Connection, name: str, item_id: str, args: Mapping[str, Any] | None = None, *, now_ms: int
) -> ItemDetail:
    """One item of a store-backed type.

    Raises:
        UsageError: no store is open, or no such item.
    """
    return await _local_type(name).get_item(conn, item_id, args or {}, now_ms)


def local_action(name: str, action: str) -> LocalAction:
    """The action of a store-backed type, with its risk.

    Raises:
        UsageError: the type has no such action (the message lists the ones it has).
    """
    local = _local_type(name)
    found = local.actions.get(action.lower())
    if found is None:
        if not local.actions:
            raise UsageError(f"{name} has no actions: it is read with harness_list and harness_get")
        raise UsageError(f"unknown action {action!r} for {name}; its actions are {', '.join(local.actions)}")
    return found


def action_preview(conn: Connection, name: str, action: str, resource_id: str | None) -> str | None:
    """What a person confirming the action should see, or None when the action has nothing to show.

    Raises:
        UsageError: the action is unknown, or its target does not exist.
    """
    preview = local_action(name, action).preview
    return preview(conn, resource_id) if preview is not None else None


async def perform_local(conn: Connection, name: str, call: LocalActionCall) -> ExecuteResult:
    """Do an action of a store-backed type, once its gate allowed it.

    Raises:
        UsageError: the action is unknown, no store is open, or the action cannot apply to its target.
    """
    return await local_action(name, call.action).perform(conn, call)
