"""Confirmation for writes, as MCP resolvers: the tool body runs only once the gate is passed.

A resolver runs before the tool. It clears the call (reads, low-risk writes, the operator's auto-approve level),
refuses it (read-only mode, a client that cannot ask and no `confirm`), or asks the person through MCP
elicitation, which works on both the request-per-question protocol and the older back-channel one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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
from harness_connector.services.local_types import LOCAL_TYPES, action_preview, local_action
from harness_connector.services.safety import Gate, after_answer, decide, question

__all__ = [
    "Cleared",
    "Confirm",
    "client_actor",
    "create_gate",
    "delete_gate",
    "ensure_allowed",
    "execute_gate",
    "update_gate",
]

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


def _ruling(
    ctx: Context[Any, Any],
    risk: Risk,
    *,
    resource_name: str,
    operation: str,
    target: str | None,
    confirm: bool | None,
    preview: Callable[[], str | None],
    person_required: bool = False,
) -> Cleared | Elicit[Confirm]:
    app = app_context(ctx)
    caps = ctx.client_capabilities
    can_ask = bool(caps and caps.elicitation)
    decision = decide(
        risk,
        operation=operation,
        read_only=app.conn.read_only,
        auto_approve=app.conn.auto_approve,
        can_ask=can_ask,
        caller_confirmed=bool(confirm),
        person_required=person_required,
    )
    if decision.gate is Gate.ASK:
        try:
            shown = preview()
        except HarnessConnectorError as exc:
            raise to_tool_error(exc) from exc
        text = question(risk, resource_type=resource_name, operation=operation, target=target, preview=shown)
        return Elicit(text, Confirm)
    return Cleared(allowed=decision.gate is Gate.PROCEED, reason=decision.reason)


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
    try:
        resource = get_resource_type(_type_name(resource_type, url))
        owner = get_resource_type("execution") if (resource.name, operation) in _OWNER else resource
        risk = owner.operation(operation).policy.risk
    except HarnessConnectorError as exc:
        raise to_tool_error(exc) from exc
    if operation == "delete":
        risk = Risk.DESTRUCTIVE
    return _ruling(
        ctx,
        risk,
        resource_name=resource.name,
        operation=operation,
        target=target,
        confirm=confirm,
        preview=lambda: _preview(body),
    )


def _local_gate(
    ctx: Context[Any, Any], *, resource_type: str, action: str, target: str | None, confirm: bool | None
) -> Cleared | Elicit[Confirm]:
    """The gate of an action on a type served from the history store, by the action's own policy."""
    try:
        policy = local_action(resource_type, action)
    except HarnessConnectorError as exc:
        raise to_tool_error(exc) from exc
    conn = app_context(ctx).conn
    return _ruling(
        ctx,
        policy.risk,
        resource_name=resource_type,
        operation=action.lower(),
        target=target,
        confirm=confirm,
        preview=lambda: action_preview(conn, resource_type, action, target),
        person_required=policy.person_required,
    )


def client_actor(ctx: Context[Any, Any]) -> str:
    """Who an audit trail names for a decision made through this MCP session: `mcp:<client name>`.

    The name is the one the client declared in its clientInfo. MCP carries no identity of the person, so it says
    which application they used; the audit also records how they confirmed.
    """
    params = ctx.session.client_params
    name = params.client_info.name if params is not None and params.client_info is not None else None
    return f"mcp:{name}" if name else "mcp:unnamed client"


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
    """Gate for harness_execute, by the action's own risk (a history-store type's action, by its own policy)."""
    if resource_type in LOCAL_TYPES:
        return _local_gate(ctx, resource_type=resource_type, action=action, target=resource_id, confirm=confirm)
    return _gate(
        ctx, resource_type=resource_type, url=url, operation=action, target=resource_id, confirm=confirm, body=inputs
    )
