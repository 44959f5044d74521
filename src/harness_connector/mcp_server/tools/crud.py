"""harness_list, harness_get, harness_create, harness_update, harness_delete: registry-driven, for every type."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server import MCPServer
from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Resolve
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from harness_connector.errors import UsageError
from harness_connector.mcp_server.context import app_context
from harness_connector.mcp_server.errors import mapped_errors
from harness_connector.mcp_server.gate import Confirm, create_gate, delete_gate, ensure_allowed, update_gate
from harness_connector.mcp_server.output import respond
from harness_connector.services.arguments import Target, coerce_mapping, resolve_target
from harness_connector.services.connection import Connection
from harness_connector.services.local_types import LOCAL_TYPES, get_local, list_local
from harness_connector.services.resources import create_item, delete_item, get_item, list_items, update_item
from harness_connector.services.results import ItemDetail, ItemList, WriteResult

__all__ = ["register"]

TypeArg = Annotated[str | None, Field(description="e.g. pipeline, execution, connector; harness_describe lists all.")]
UrlArg = Annotated[str | None, Field(description="Harness UI URL; fills type, scope and ids.")]
IdArg = Annotated[str | None, Field(description="The item's identifier.")]
OrgArg = Annotated[str | None, Field(description="Default: HARNESS_ORG.")]
ProjectArg = Annotated[str | None, Field(description="Default: HARNESS_PROJECT.")]
ScopeArg = Annotated[str | None, Field(description="account, org or project.")]
ParamsArg = Annotated[dict[str, Any] | str | None, Field(description="More arguments by name.")]
BodyArg = Annotated[dict[str, Any] | str | None, Field(description="Object or YAML string.")]
ConfirmArg = Annotated[bool | None, Field(description="Only after the person agreed, if the client cannot ask.")]


def _explicit(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def target_of(
    conn: Connection,
    *,
    resource_type: str | None,
    url: str | None,
    resource_id: str | None = None,
    org_id: str | None,
    project_id: str | None,
    resource_scope: str | None,
    params: dict[str, Any] | str | None,
    **more: Any,
) -> Target:
    """The target of a tool call from its common arguments (explicit ones win over `params` and the URL)."""
    explicit = _explicit(org_id=org_id, project_id=project_id, resource_scope=resource_scope, **more)
    return resolve_target(
        conn,
        resource_type=resource_type,
        url=url,
        resource_id=resource_id,
        explicit=explicit,
        extra=coerce_mapping(params, "params"),
    )


def register(server: MCPServer[Any]) -> None:
    """Add the five CRUD tools to the server."""

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=True))
    @mapped_errors
    async def harness_list(
        ctx: Context[Any, Any],
        resource_type: TypeArg = None,
        url: UrlArg = None,
        org_id: OrgArg = None,
        project_id: ProjectArg = None,
        resource_scope: ScopeArg = None,
        search_term: Annotated[str | None, Field(description="Filter by name or identifier.")] = None,
        filters: ParamsArg = None,
        params: ParamsArg = None,
        page: Annotated[int, Field(ge=0, description="0-based page.")] = 0,
        size: Annotated[int, Field(ge=1, le=100)] = 20,
        compact: Annotated[bool, Field(description="Whitelisted fields only.")] = True,
    ) -> Annotated[CallToolResult, ItemList]:
        """List Harness resources of one type (pipelines, executions, connectors, ...), one compact page at a time."""
        app = app_context(ctx)
        conn = app.conn
        extra = {**coerce_mapping(params, "params"), **coerce_mapping(filters, "filters")}
        if resource_type in LOCAL_TYPES:
            local_args = {**extra, **_explicit(search_term=search_term)}
            found = await list_local(conn, resource_type, local_args, page=page, size=size, now_ms=app.now_ms())
            return respond(found, tabulate="items")
        explicit = _explicit(
            org_id=org_id, project_id=project_id, resource_scope=resource_scope, search_term=search_term
        )
        target = resolve_target(conn, resource_type=resource_type, url=url, explicit=explicit, extra=extra)
        return respond(await list_items(conn, target, page=page, size=size, compact=compact), tabulate="items")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=True))
    @mapped_errors
    async def harness_get(
        ctx: Context[Any, Any],
        resource_type: TypeArg = None,
        resource_id: IdArg = None,
        url: UrlArg = None,
        org_id: OrgArg = None,
        project_id: ProjectArg = None,
        resource_scope: ScopeArg = None,
        params: ParamsArg = None,
    ) -> Annotated[CallToolResult, ItemDetail]:
        """Get one Harness resource by id or UI URL, with a link to its page."""
        app = app_context(ctx)
        conn = app.conn
        if resource_type in LOCAL_TYPES:
            if not resource_id:
                id_field = LOCAL_TYPES[resource_type].id_field
                raise UsageError(f"getting a {resource_type} needs resource_id (its {id_field}, from harness_list)")
            local_args = coerce_mapping(params, "params")
            return respond(await get_local(conn, resource_type, resource_id, local_args, now_ms=app.now_ms()))
        target = target_of(
            conn,
            resource_type=resource_type,
            url=url,
            resource_id=resource_id,
            org_id=org_id,
            project_id=project_id,
            resource_scope=resource_scope,
            params=params,
        )
        return respond(await get_item(conn, target))

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False))
    @mapped_errors
    async def harness_create(
        ctx: Context[Any, Any],
        decision: Annotated[ElicitationResult[Confirm], Resolve(create_gate)],
        resource_type: TypeArg = None,
        body: BodyArg = None,
        url: UrlArg = None,
        org_id: OrgArg = None,
        project_id: ProjectArg = None,
        resource_scope: ScopeArg = None,
        params: ParamsArg = None,
        confirm: ConfirmArg = None,
    ) -> Annotated[CallToolResult, WriteResult]:
        """Create a Harness resource; pipelines, input sets, triggers and templates take YAML."""
        ensure_allowed(decision)
        conn = app_context(ctx).conn
        target = target_of(
            conn,
            resource_type=resource_type,
            url=url,
            org_id=org_id,
            project_id=project_id,
            resource_scope=resource_scope,
            params=params,
        )
        return respond(await create_item(conn, target, body))

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True))
    @mapped_errors
    async def harness_update(
        ctx: Context[Any, Any],
        decision: Annotated[ElicitationResult[Confirm], Resolve(update_gate)],
        resource_type: TypeArg = None,
        resource_id: IdArg = None,
        body: BodyArg = None,
        url: UrlArg = None,
        org_id: OrgArg = None,
        project_id: ProjectArg = None,
        resource_scope: ScopeArg = None,
        params: ParamsArg = None,
        confirm: ConfirmArg = None,
    ) -> Annotated[CallToolResult, WriteResult]:
        """Replace a Harness resource's definition with the body."""
        ensure_allowed(decision)
        conn = app_context(ctx).conn
        target = target_of(
            conn,
            resource_type=resource_type,
            url=url,
            resource_id=resource_id,
            org_id=org_id,
            project_id=project_id,
            resource_scope=resource_scope,
            params=params,
        )
        return respond(await update_item(conn, target, body))

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True))
    @mapped_errors
    async def harness_delete(
        ctx: Context[Any, Any],
        decision: Annotated[ElicitationResult[Confirm], Resolve(delete_gate)],
        resource_type: TypeArg = None,
        resource_id: IdArg = None,
        url: UrlArg = None,
        org_id: OrgArg = None,
        project_id: ProjectArg = None,
        resource_scope: ScopeArg = None,
        params: ParamsArg = None,
        confirm: ConfirmArg = None,
    ) -> Annotated[CallToolResult, WriteResult]:
        """Delete a Harness resource. A person always confirms."""
        ensure_allowed(decision)
        conn = app_context(ctx).conn
        target = target_of(
            conn,
            resource_type=resource_type,
            url=url,
            resource_id=resource_id,
            org_id=org_id,
            project_id=project_id,
            resource_scope=resource_scope,
            params=params,
        )
        return respond(await delete_item(conn, target))
