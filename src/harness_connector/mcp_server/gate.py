"""Confirmation for writes, as MCP resolvers: the tool body runs only once the gate is passed.

A resolver runs before the tool. It clears the call (reads, low-risk writes, the operator's auto-approve level),
refuses it (read-only mode, a client that cannot ask and no `confirm`), or asks the person through MCP
elicitation, which works on both the request-per-question protocol and the older back-channel one.
"""

from __future__ import annotations

import json
from typing import Any

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit
from pydantic import BaseModel, Field

from harness_connector.errors import HarnessConnectorError
from harness_connector.harness.registry import Risk, get_resource_type
from harness_connector.harness.urls import parse_harness_url
from harness_connector.mcp_server.context import app_context
from harness_connector.mcp_server.errors import to_tool_error
from harness_connector.services.safety import Gate, after_answer, decide, question

__all__ = ["Cleared", "Confirm", "create_gate", "delete_gate", "ensure_allowed", "execute_gate", "update_gate"]

_OWNER = {("pipeline", "run"), ("pipeline", "retry"), ("pipeline", "rerun"), ("pipeline", "interrupt")}


class Confirm(BaseModel):
    """The person's answer."""

    confirm: bool = Field(default=True, description="Allow this operation?")


class Cleared(BaseModel):
    """The gate decided without asking."""

    allowed: bool
    reason: str


def _type_name(resource_type: str | None, url: str | None) -> str:
    if resource_type:
        return resource_type
    if url:
        found = parse_harness_url(url).resource_type
        if found:
            return found
    raise ToolError("say which resource_type, or pass a Harness UI url")


def _preview(body: Any) -> str | None:
    if body is None or body == "":
        return None
    text = body if isinstance(body, str) else json.dumps(body, indent=1, default=str)
    return text if len(text) <= 1500 else text[:1500] + "\n... (truncated)"


def _gate(
    ctx: Context[Any, Any],
    *,
    resource_type: str | None,
    url: str | None,
    operation: str,
    target: str | None,
    confirm: bool | None,
    body: Any = None,
) -> Cleared | Elicit[Confirm]:
    app = app_context(ctx)
    try:
        resource = get_resource_type(_type_name(resource_type, url))
        owner = get_resource_type("execution") if (resource.name, operation) in _OWNER else resource
        risk = owner.operation(operation).policy.risk
    except HarnessConnectorError as exc:
        raise to_tool_error(exc) from exc
    if operation == "delete":
        risk = Risk.DESTRUCTIVE
    caps = ctx.client_capabilities
    can_ask = bool(caps and caps.elicitation)
    decision = decide(
        risk,
        operation=operation,
        read_only=app.conn.read_only,
        auto_approve=app.conn.auto_approve,
        can_ask=can_ask,
        caller_confirmed=bool(confirm),
    )
    if decision.gate is Gate.ASK:
        text = question(risk, resource_type=resource.name, operation=operation, target=target, preview=_preview(body))
        return Elicit(text, Confirm)
    return Cleared(allowed=decision.gate is Gate.PROCEED, reason=decision.reason)


def ensure_allowed(outcome: ElicitationResult[Any]) -> str:
    """The reason the call may go ahead; raises the refusal as a tool error otherwise."""
    data = outcome.data if isinstance(outcome, AcceptedElicitation) else None
    if isinstance(data, Cleared):
        if data.allowed:
            return data.reason
        raise ToolError(f"not done: {data.reason}")
    # Declined, cancelled, or an answer of the wrong shape all count as "no".
    decision = after_answer(True, data.confirm) if isinstance(data, Confirm) else after_answer(False, False)
    if decision.gate is not Gate.PROCEED:
        raise ToolError(f"not done: {decision.reason}")
    return decision.reason


def create_gate(
    resource_type: str | None, url: str | None, body: Any, confirm: bool | None, ctx: Context[Any, Any]
) -> Cleared | Elicit[Confirm]:
    """Gate for harness_create."""
    return _gate(ctx, resource_type=resource_type, url=url, operation="create", target=None, confirm=confirm, body=body)


def update_gate(
    resource_type: str | None,
    url: str | None,
    resource_id: str | None,
    body: Any,
    confirm: bool | None,
    ctx: Context[Any, Any],
) -> Cleared | Elicit[Confirm]:
    """Gate for harness_update."""
    return _gate(
        ctx, resource_type=resource_type, url=url, operation="update", target=resource_id, confirm=confirm, body=body
    )


def delete_gate(
    resource_type: str | None, url: str | None, resource_id: str | None, confirm: bool | None, ctx: Context[Any, Any]
) -> Cleared | Elicit[Confirm]:
    """Gate for harness_delete: always a person's decision unless the operator approves everything."""
    return _gate(ctx, resource_type=resource_type, url=url, operation="delete", target=resource_id, confirm=confirm)


def execute_gate(
    resource_type: str | None,
    url: str | None,
    action: str,
    resource_id: str | None,
    inputs: Any,
    confirm: bool | None,
    ctx: Context[Any, Any],
) -> Cleared | Elicit[Confirm]:
    """Gate for harness_execute, by the action's own risk."""
    return _gate(
        ctx, resource_type=resource_type, url=url, operation=action, target=resource_id, confirm=confirm, body=inputs
    )
