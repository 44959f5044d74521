"""harness_search and harness_status: find things across types, and a project's health in a time window."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from harness_connector.mcp_server.context import app_context
from harness_connector.mcp_server.errors import mapped_errors
from harness_connector.mcp_server.output import respond
from harness_connector.mcp_server.tools.crud import OrgArg, ProjectArg, UrlArg
from harness_connector.services.flaky_diagnosis import flaky_summary
from harness_connector.services.history import history_insights
from harness_connector.services.search import SearchResult, search
from harness_connector.services.status import StatusReport, project_status

__all__ = ["register"]


def register(server: MCPServer[Any]) -> None:
    """Add harness_search and harness_status to the server."""

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=True))
    @mapped_errors
    async def harness_search(
        ctx: Context[Any, Any],
        query: Annotated[str, Field(description="Words to find, e.g. 'payments deploy pipeline'.")],
        resource_types: Annotated[list[str] | None, Field(description="Only these types (default: inferred).")] = None,
        url: UrlArg = None,
        org_id: OrgArg = None,
        project_id: ProjectArg = None,
        max_per_type: Annotated[int, Field(ge=1, le=20)] = 5,
    ) -> Annotated[CallToolResult, SearchResult]:
        """Ranked search by name, identifier, description and tags across resource types (≤ 5 API calls)."""
        conn = app_context(ctx).conn
        result = await search(
            conn,
            query,
            resource_types=resource_types,
            org_id=org_id,
            project_id=project_id,
            url=url,
            max_per_type=max_per_type,
        )
        return respond(result)

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=True))
    @mapped_errors
    async def harness_status(
        ctx: Context[Any, Any],
        url: UrlArg = None,
        org_id: OrgArg = None,
        project_id: ProjectArg = None,
        window_hours: Annotated[float, Field(gt=0, le=720, description="Length of the window (default 24 h).")] = 24,
        limit: Annotated[int, Field(ge=1, le=20, description="Rows per section.")] = 5,
    ) -> Annotated[CallToolResult, StatusReport]:
        """A project's health in the last window: failures, running, success rate vs before, top failing pipelines;
        with a history store, flaky tests and quarantines awaiting approval."""
        app = app_context(ctx)
        report = await project_status(
            app.conn,
            org_id=org_id,
            project_id=project_id,
            url=url,
            window_hours=window_hours,
            now_ms=app.now_ms(),
            limit=limit,
        )
        insights = await history_insights(
            app.conn,
            org=report.org_id,
            project=report.project_id,
            since_ms=app.now_ms() - int(window_hours * 3_600_000),
            until_ms=app.now_ms(),
        )
        flaky = await flaky_summary(app.conn, now_ms=app.now_ms())
        return respond(report.model_copy(update={"insights": [*report.insights, *insights], "flaky_tests": flaky}))
