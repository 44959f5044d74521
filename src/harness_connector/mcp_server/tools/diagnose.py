"""harness_diagnose: why an execution failed, whether a connector works, how the delegates are doing, whether a test
is flaky."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from harness_connector.errors import UsageError
from harness_connector.mcp_server.context import app_context
from harness_connector.mcp_server.errors import mapped_errors
from harness_connector.mcp_server.output import respond
from harness_connector.mcp_server.tools.crud import IdArg, OrgArg, ProjectArg, UrlArg
from harness_connector.services.arguments import coerce_mapping, resolve_target
from harness_connector.services.diagnose import (
    ConnectorDiagnosis,
    DelegateDiagnosis,
    diagnose_connector,
    diagnose_delegates,
)
from harness_connector.services.flaky_diagnosis import TestDiagnosis, diagnose_test
from harness_connector.services.flaky_tests import DEFAULT_WINDOW_DAYS
from harness_connector.services.investigate import investigate_execution
from harness_connector.services.investigate_models import Investigation
from harness_connector.services.local_model import window_days_arg

__all__ = ["Diagnosis", "register"]

_EXECUTION_TYPES = ("execution", "pipeline")


class Diagnosis(BaseModel):
    """One of the four diagnoses, under the key of its target."""

    model_config = ConfigDict(extra="forbid")

    target: Literal["execution", "connector", "delegate", "test"]
    execution: Investigation | None = None
    connector: ConnectorDiagnosis | None = None
    delegates: DelegateDiagnosis | None = None
    test: TestDiagnosis | None = None


def register(server: MCPServer[Any]) -> None:
    """Add harness_diagnose to the server."""

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=True))
    @mapped_errors
    async def harness_diagnose(
        ctx: Context[Any, Any],
        resource_type: Annotated[
            str,
            Field(
                description="execution (or pipeline: its latest failure), connector, delegate, or test (a test id "
                "from the history store: flaky, broken or stable, and why)."
            ),
        ] = "execution",
        resource_id: IdArg = None,
        execution_id: Annotated[str | None, Field(description="The failed execution.")] = None,
        pipeline_id: Annotated[str | None, Field(description="A pipeline: diagnose its latest failed run.")] = None,
        url: UrlArg = None,
        org_id: OrgArg = None,
        project_id: ProjectArg = None,
        options: Annotated[
            dict[str, Any] | str | None,
            Field(description="token_budget (default 2000); window_days for a test (default 14)."),
        ] = None,
    ) -> Annotated[CallToolResult, Diagnosis]:
        """Investigate a failed execution — category, transient or not, re-run now / after the outage / fix, with
        log evidence and history — check a connector or the delegates, or tell whether a test is flaky."""
        app = app_context(ctx)
        conn = app.conn
        opts = coerce_mapping(options, "options")
        kind = resource_type.lower()
        if url and kind == "execution" and resource_id is None and execution_id is None:
            kind = "execution"
        if kind in _EXECUTION_TYPES:
            own = execution_id or (resource_id if kind == "execution" else None)
            pipeline = pipeline_id or (resource_id if kind == "pipeline" else None)
            found = await investigate_execution(
                conn,
                execution_id=own,
                pipeline_id=pipeline,
                url=url,
                org_id=org_id,
                project_id=project_id,
                token_budget=int(opts.get("token_budget", 2000)),
                now_ms=app.now_ms(),
            )
            return respond(Diagnosis(target="execution", execution=found))
        if kind == "connector":
            explicit = {k: v for k, v in {"org_id": org_id, "project_id": project_id}.items() if v}
            target = resolve_target(
                conn, resource_type="connector", url=url, resource_id=resource_id, explicit=explicit
            )
            return respond(Diagnosis(target="connector", connector=await diagnose_connector(conn, target)))
        if kind in ("delegate", "delegates"):
            found_delegates = await diagnose_delegates(
                conn, resource_id, now_ms=app.now_ms(), org_id=org_id, project_id=project_id
            )
            return respond(Diagnosis(target="delegate", delegates=found_delegates))
        if kind in ("test", "flaky_test", "test_result"):
            if not resource_id:
                raise UsageError(
                    "diagnosing a test needs resource_id: a test id from harness_list resource_type=flaky_test"
                )
            window_days = window_days_arg(opts, DEFAULT_WINDOW_DAYS)
            found_test = await diagnose_test(conn, resource_id, now_ms=app.now_ms(), window_days=window_days)
            return respond(Diagnosis(target="test", test=found_test))
        raise UsageError(
            f"harness_diagnose handles execution, pipeline, connector, delegate or test, not '{resource_type}'"
        )
