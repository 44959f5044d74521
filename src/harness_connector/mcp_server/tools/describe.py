"""harness_describe: the connector's own metadata, with no API call."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from harness_connector.mcp_server.context import app_context
from harness_connector.mcp_server.errors import mapped_errors
from harness_connector.mcp_server.output import respond
from harness_connector.services.describe import Description, describe

__all__ = ["register"]


def register(server: MCPServer[Any]) -> None:
    """Add harness_describe to the server."""

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    @mapped_errors
    async def harness_describe(
        ctx: Context[Any, Any],
        resource_type: Annotated[
            str | None, Field(description="One type in full: operations, filters, fields.")
        ] = None,
        toolset: Annotated[str | None, Field(description="Only types of this toolset.")] = None,
        search_term: Annotated[str | None, Field(description="Only types matching this word.")] = None,
    ) -> Annotated[CallToolResult, Description]:
        """What resource types exist, their operations, risk levels, filters and fields (local, no API call)."""
        enabled = app_context(ctx).conn.enabled_types
        return respond(describe(resource_type=resource_type, toolset=toolset, search_term=search_term, enabled=enabled))
