"""MCP resources: recent executions, a pipeline's YAML by id, and the bundled schemas by name."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError

from harness_connector.errors import HarnessConnectorError
from harness_connector.mcp_server.context import AppContext, app_context
from harness_connector.services.arguments import resolve_target
from harness_connector.services.resources import get_item, list_items
from harness_connector.services.schemas import schema_text

__all__ = ["register"]


def register(server: MCPServer[Any], current: Callable[[], AppContext]) -> None:
    """Add the resources to the server; `current` gives the live app context (static resources get no Context)."""

    @server.resource(
        "executions:///recent",
        name="execution-summary",
        description="The 10 most recent executions of the default project, compact.",
        mime_type="application/json",
    )
    async def execution_summary() -> str:
        conn = current().conn
        if not (conn.org and conn.project):
            return json.dumps({"items": [], "skipped": "set HARNESS_ORG and HARNESS_PROJECT to pick a project"})
        try:
            page = await list_items(conn, resolve_target(conn, resource_type="execution"), size=10)
        except HarnessConnectorError as exc:
            raise ResourceError(str(exc)) from exc
        return page.model_dump_json(exclude_none=True)

    @server.resource(
        "pipeline:///{pipeline_id}",
        name="pipeline-yaml",
        description="A pipeline's YAML in the default project.",
        mime_type="application/x-yaml",
    )
    async def pipeline_yaml(pipeline_id: str, ctx: Context[Any, Any]) -> str:
        return await _pipeline_yaml(ctx, pipeline_id, org_id=None, project_id=None)

    @server.resource(
        "pipeline:///{org_id}/{project_id}/{pipeline_id}",
        name="pipeline-yaml-scoped",
        description="A pipeline's YAML in the given org and project.",
        mime_type="application/x-yaml",
    )
    async def pipeline_yaml_scoped(org_id: str, project_id: str, pipeline_id: str, ctx: Context[Any, Any]) -> str:
        return await _pipeline_yaml(ctx, pipeline_id, org_id=org_id, project_id=project_id)

    _register_schemas(server)


def _register_schemas(server: MCPServer[Any]) -> None:
    @server.resource(
        "schema:///{schema_name}",
        name="harness-schema",
        description="A bundled Harness YAML JSON schema by name (pipeline, template, trigger, pipeline_v1, ...).",
        mime_type="application/schema+json",
    )
    def harness_schema_resource(schema_name: str) -> str:
        try:
            return schema_text(schema_name)
        except HarnessConnectorError as exc:
            raise ResourceError(str(exc)) from exc


async def _pipeline_yaml(
    ctx: Context[Any, Any], pipeline_id: str, *, org_id: str | None, project_id: str | None
) -> str:
    conn = app_context(ctx).conn
    explicit = {k: v for k, v in {"org_id": org_id, "project_id": project_id}.items() if v}
    try:
        detail = await get_item(conn, resolve_target(conn, resource_type="pipeline", resource_id=pipeline_id,
                                                     explicit=explicit))  # fmt: skip
    except HarnessConnectorError as exc:
        raise ResourceError(str(exc)) from exc
    text = detail.item.get("yamlPipeline")
    if not isinstance(text, str):
        raise ResourceError(f"pipeline {pipeline_id} has no YAML in Harness's answer")
    return text
