"""harness_execute: run, retry, interrupt, toggle, approve, test; optionally wait for the execution to end. On the
history store's `quarantine` type: propose quarantines of flaky tests, and a person's approve, reject or lift."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from mcp.server import MCPServer
from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Resolve
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from harness_connector.mcp_server.context import app_context
from harness_connector.mcp_server.errors import mapped_errors
from harness_connector.mcp_server.gate import Confirm, client_actor, ensure_allowed, execute_gate
from harness_connector.mcp_server.output import respond
from harness_connector.mcp_server.tools.crud import (
    BodyArg,
    ConfirmArg,
    IdArg,
    OrgArg,
    ParamsArg,
    ProjectArg,
    ScopeArg,
    TypeArg,
    UrlArg,
    target_of,
)
from harness_connector.services.actions import execute_action
from harness_connector.services.arguments import coerce_mapping
from harness_connector.services.local_types import LOCAL_TYPES, LocalActionCall, perform_local
from harness_connector.services.results import ExecuteResult
from harness_connector.services.safety import person_only_refusal

__all__ = ["register"]


def _can_ask(ctx: Context[Any, Any]) -> bool:
    """Whether the client declared MCP elicitation, the only way a person answers through it."""
    caps = ctx.client_capabilities
    return bool(caps and caps.elicitation)


def register(server: MCPServer[Any]) -> None:
    """Add harness_execute to the server."""

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False))
    @mapped_errors
    async def harness_execute(
        ctx: Context[Any, Any],
        decision: Annotated[ElicitationResult[Confirm], Resolve(execute_gate)],
        action: Annotated[
            str,
            Field(
                description="run, retry, rerun, interrupt (pipeline/execution); toggle, kill, restore (feature_flag); "
                "approve, reject (approval_instance); test_connection (connector); propose, approve, reject, lift "
                "(quarantine of flaky tests: approve/reject/lift are a person's decision, asked every time; approve "
                "needs a client that can ask, otherwise the person runs `harness-connector approve ID`)."
            ),
        ],
        resource_type: TypeArg = None,
        resource_id: IdArg = None,
        url: UrlArg = None,
        org_id: OrgArg = None,
        project_id: ProjectArg = None,
        resource_scope: ScopeArg = None,
        inputs: Annotated[
            dict[str, Any] | str | None, Field(description="Runtime-input YAML (or object) for run/rerun/retry.")
        ] = None,
        input_set_ids: Annotated[list[str] | None, Field(description="Saved input sets to run with.")] = None,
        body: BodyArg = None,
        params: ParamsArg = None,
        confirm: ConfirmArg = None,
        wait: Annotated[bool, Field(description="Wait until the started execution ends.")] = False,
        wait_timeout_seconds: Annotated[int, Field(ge=10, le=7200)] = 600,
        wait_poll_interval_seconds: Annotated[int, Field(ge=1, le=60)] = 3,
    ) -> Annotated[CallToolResult, ExecuteResult]:
        """Act on Harness: run or retry a pipeline, abort/pause/resume, flip a flag, approve, test a connector;
        propose, approve, reject or lift a flaky test's quarantine."""
        refusal = person_only_refusal(resource_type, action, can_ask=_can_ask(ctx), target=resource_id)
        if refusal is not None:
            raise ToolError(f"not done: {refusal.reason}")
        allowed_because = ensure_allowed(decision)
        app = app_context(ctx)
        conn = app.conn
        if resource_type in LOCAL_TYPES:
            args = {**coerce_mapping(params, "params"), **({"body": body} if body is not None else {})}
            call = LocalActionCall(
                action=action.lower(),
                resource_id=resource_id,
                args=args,
                actor=client_actor(ctx),
                confirmation=allowed_because,
                now_ms=app.now_ms(),
            )
            return respond(await perform_local(conn, resource_type, call))
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

        async def progress(done: float, total: float | None, message: str) -> None:
            await ctx.report_progress(done, total, message)

        result = await execute_action(
            conn,
            target,
            action,
            inputs=inputs,
            input_set_ids=input_set_ids,
            body=body,
            wait=wait,
            timeout_s=float(wait_timeout_seconds),
            poll_interval_s=float(wait_poll_interval_seconds),
            progress=progress,
            sleep=anyio.sleep,
        )
        return respond(result)
