"""Registry-driven list, get, create, update and delete, with compact results and deep links."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from harness_connector.errors import UsageError
from harness_connector.harness.registry import BodyKind, ResourceType
from harness_connector.services.arguments import Target
from harness_connector.services.connection import Connection
from harness_connector.services.diagnose_graph import deepest_message, execution_info, stage_summaries
from harness_connector.services.results import ItemDetail, ItemList, WriteResult
from harness_connector.services.shaping import compact_item, detail_item, dig, prune, ui_link

__all__ = ["create_item", "delete_item", "get_item", "list_items", "normalize_body", "update_item"]

MAX_PAGE_SIZE = 100


async def list_items(
    conn: Connection, target: Target, *, page: int = 0, size: int = 20, compact: bool = True
) -> ItemList:
    """One page of a resource type's list.

    Raises:
        UsageError: bad paging, or the type cannot be listed.
        HarnessError: Harness refused or failed.
    """
    if page < 0 or not 1 <= size <= MAX_PAGE_SIZE:
        raise UsageError(f"page must be >= 0 and size between 1 and {MAX_PAGE_SIZE}")
    resource = target.resource
    result = await conn.client.list_page(resource, target.args, page=page, size=size)
    items = [_row(conn, resource, target.args, item, compact=compact) for item in result.items]
    base = _shared_prefix([str(item["link"]) for item in items if "link" in item])
    if base:
        # Every row's link shares the project's UI prefix; saying it once keeps a page of rows far smaller.
        for item in items:
            if isinstance(item.get("link"), str):
                item["link"] = item["link"][len(base) :]
    return ItemList(
        resource_type=resource.name,
        items=items,
        page=result.page,
        size=size,
        total=result.total_items,
        has_more=result.has_more,
        link=ui_link(conn.ui_base_url, conn.account_id, resource, target.args),
        link_base=base,
    )


def _shared_prefix(links: list[str]) -> str | None:
    """The longest common prefix of the links that ends at a '/', when there are at least two links."""
    if len(links) < 2:
        return None
    prefix = links[0]
    for link in links[1:]:
        while not link.startswith(prefix):
            prefix = prefix[: prefix.rstrip("/").rfind("/") + 1]
            if not prefix:
                return None
    cut = prefix[: prefix.rfind("/") + 1]
    return cut or None


def _row(
    conn: Connection, resource: ResourceType, args: Mapping[str, Any], item: Any, *, compact: bool
) -> dict[str, Any]:
    row = compact_item(resource, item) if compact else prune(item)
    if not isinstance(row, dict):
        row = {"value": row}
    link = ui_link(conn.ui_base_url, conn.account_id, resource, args, item if isinstance(item, Mapping) else None)
    if link:
        row["link"] = link
    return row


async def get_item(conn: Connection, target: Target) -> ItemDetail:
    """One item of a resource type.

    Raises:
        UsageError: the identifier is missing or the type cannot be fetched singly.
        HarnessError: Harness refused or failed (a missing item is `HarnessNotFoundError`).
    """
    resource = target.resource
    payload = await conn.client.call(resource, "get", target.args)
    item = payload if isinstance(payload, Mapping) else {"value": payload}
    shaper = _DETAIL_SHAPERS.get(resource.name)
    return ItemDetail(
        resource_type=resource.name,
        id=target.own_id or _own_id(resource, item),
        item=shaper(item) if shaper else detail_item(resource, item),
        link=ui_link(conn.ui_base_url, conn.account_id, resource, target.args, item),
    )


def _execution_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    # An execution answer is a summary plus graphs of every node; a reader wants the run and its stages.
    summary = detail.get("pipelineExecutionSummary")
    if not isinstance(summary, Mapping):
        return _as_dict(prune(detail))
    shaped = {
        "pipeline": summary.get("pipelineIdentifier"),
        **execution_info(summary).model_dump(exclude_none=True),
        "failure": deepest_message(summary.get("failureInfo")),
        "stages": [stage.model_dump(exclude_none=True) for stage in stage_summaries(summary)],
    }
    return _as_dict(prune(shaped))


def _as_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {"value": value}


_DETAIL_SHAPERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {"execution": _execution_detail}


def _own_id(resource: ResourceType, item: Mapping[str, Any]) -> str | None:
    value = dig(item, resource.id_field)
    return None if value in (None, "") else str(value)


def normalize_body(resource: ResourceType, operation: str, body: Any) -> Any:
    """The body as the operation's encoding wants it: YAML text for YAML operations, an object for JSON ones.

    Models send bodies as objects, JSON strings or YAML strings; all three are accepted.

    Raises:
        UsageError: the body cannot be read, or the operation takes none.
    """
    kind = resource.operation(operation).body
    if body is None or body == "":
        return body
    if kind is BodyKind.NONE:
        raise UsageError(f"{resource.name}.{operation} takes no body")
    if kind is BodyKind.YAML:
        if isinstance(body, str):
            _check_yaml(body)
            return body
        if isinstance(body, Mapping) and isinstance(body.get("yamlPipeline"), str):
            return body["yamlPipeline"]
        return yaml.safe_dump(body, sort_keys=False)
    if isinstance(body, str):
        return _parse_structured(body)
    return body


def _check_yaml(text: str) -> None:
    try:
        yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"the body is not valid YAML: {exc}".replace("\n", " ")) from None


def _parse_structured(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"the body is neither JSON nor YAML: {exc}".replace("\n", " ")) from None


async def _write(conn: Connection, target: Target, operation: str, body: Any) -> WriteResult:
    resource = target.resource
    args = dict(target.args)
    if body is not None:
        args["body"] = normalize_body(resource, operation, body)
    payload = await conn.client.call(resource, operation, args)
    result = prune(payload) if isinstance(payload, Mapping) else ({"value": payload} if payload is not None else None)
    own = target.own_id or (_own_id(resource, payload) if isinstance(payload, Mapping) else None)
    if own is None and isinstance(payload, Mapping):
        own = _created_id(payload)
    link_args = {**target.args, resource.identifier_fields[-1]: own} if own and resource.identifier_fields else {}
    link = None if operation == "delete" else ui_link(conn.ui_base_url, conn.account_id, resource, link_args)
    return WriteResult(resource_type=resource.name, operation=operation, id=own, result=result or None, link=link)


def _created_id(payload: Mapping[str, Any]) -> str | None:
    for key in ("identifier", "id", "uuid"):
        value = payload.get(key)
        if isinstance(value, str | int) and value != "":
            return str(value)
    return None


async def create_item(conn: Connection, target: Target, body: Any) -> WriteResult:
    """Create an item from a body (object, JSON string or YAML string)."""
    if body is None or body == "":
        raise UsageError(f"creating a {target.resource.name} needs a body; harness_describe shows an example")
    return await _write(conn, target, "create", body)


async def update_item(conn: Connection, target: Target, body: Any) -> WriteResult:
    """Update an item; the body is the whole new definition, as Harness expects."""
    if body is None or body == "":
        raise UsageError(f"updating a {target.resource.name} needs a body with the new definition")
    return await _write(conn, target, "update", body)


async def delete_item(conn: Connection, target: Target) -> WriteResult:
    """Delete an item."""
    if target.own_id is None:
        raise UsageError(f"deleting a {target.resource.name} needs resource_id")
    return await _write(conn, target, "delete", None)
