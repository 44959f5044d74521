"""The manager side of the delegate protocol: delegate agents register, heartbeat, take tasks and report results.

The wire contract is written out in the delegate package's `protocol` module; the sandbox implements it on its
own, so the agent is tested against an independent server. Every call authenticates with
`Authorization: Delegate <jwt>` (see `delegate_auth`). A registered agent is stored as a `delegate` resource with
`agent: true`, so the delegate list, connectivity and selectors work for it as for any delegate, and the execution
engine gives it the steps it can run.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from harness_connector.sandbox import delegate_tasks, runs
from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.delegate_auth import SCHEME, delegate_token_of
from harness_connector.sandbox.envelopes import ApiError, rest_response
from harness_connector.sandbox.requests import json_body
from harness_connector.sandbox.resources import create_resource, find_resource, save_doc
from harness_connector.sandbox.routes._common import list_everywhere, require_mapping, route
from harness_connector.sandbox.routes.delegates import delegate_id, delegate_selectors
from harness_connector.sandbox.routes.executions import delegates_of
from harness_connector.sandbox.state import Entity

__all__ = ["routes"]

HEARTBEAT_INTERVAL_MS = 50_000  # what Harness's delegate image is configured with
_MAX_WAIT_S = 30.0
_POLL_STEP_S = 0.25
A = "/api/agent"


def _token(ctx: SandboxContext, request: Request) -> Entity:
    header = request.headers.get("authorization") or ""
    if not header.startswith(SCHEME):
        raise ApiError("INVALID_TOKEN", "Delegate calls need an `Authorization: Delegate <jwt>` header")
    return delegate_token_of(ctx.state, ctx.account_id, header, ctx.clock())


def _delegate(ctx: SandboxContext, identifier: str) -> Entity:
    for entity in list_everywhere(ctx, "delegate"):
        if entity.doc.get("agent") and delegate_id(entity) == identifier:
            return entity
    raise ApiError("DELEGATE_NOT_FOUND", f"Delegate {identifier} is not registered: register again", status=404)


def _strings(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError("INVALID_REQUEST", f"{what}: must be a list of strings")
    return list(value)


def move_runs_along(ctx: SandboxContext) -> None:
    """Refresh the unfinished runs that gave delegates tasks, so a timeout or a retry interval takes effect while
    nobody reads them."""
    connected = delegates_of(ctx)
    for execution_id in delegate_tasks.executions_with_tasks(ctx.state):
        record = ctx.state.get_execution(execution_id)
        if record is not None:
            runs.refresh(ctx.state, ctx.account_id, record, ctx.clock(), connected)


async def register(ctx: SandboxContext, request: Request) -> Response:
    token = _token(ctx, request)
    body = require_mapping(await json_body(request))
    name = str(body.get("delegateName") or "").strip()
    if not name:
        raise ApiError("INVALID_REQUEST", "delegateName: is required")
    org = str(body.get("orgIdentifier") or token.org or "")
    project = str(body.get("projectIdentifier") or token.project or "")
    if (token.org and org != token.org) or (token.project and project != token.project):
        raise ApiError("INVALID_REQUEST", f"The delegate token {token.identifier} cannot register outside its scope")
    doc = {
        "name": name,
        "type": str(body.get("delegateType") or "DOCKER"),
        "description": str(body.get("description") or ""),
        "tags": _strings(body.get("tags"), "tags"),
        "hostName": str(body.get("hostName") or name),
        "version": str(body.get("version") or ""),
        "tokenName": token.identifier,
        "connected": True,
        "lastHeartBeat": ctx.clock(),
        "agent": True,
    }
    existing = find_resource(ctx, "delegate", name, org=org, project=project)
    if existing is None:
        entity = create_resource(ctx, "delegate", org=org, project=project, body=doc)
    else:
        entity = save_doc(ctx, existing, {**existing.doc, **doc}, touch=False)
    identifier = delegate_id(entity)
    running = _strings(body.get("runningTaskIds"), "runningTaskIds")
    delegate_tasks.requeue_lost(ctx.state, identifier, set(running), ctx.clock())
    return rest_response(
        {
            "delegateId": identifier,
            "delegateName": name,
            "status": "ENABLED",
            "heartbeatIntervalMs": HEARTBEAT_INTERVAL_MS,
        }
    )


async def heartbeat(ctx: SandboxContext, request: Request) -> Response:
    _token(ctx, request)
    body = require_mapping(await json_body(request))
    entity = _delegate(ctx, str(body.get("delegateId") or ""))
    save_doc(ctx, entity, {**entity.doc, "connected": True, "lastHeartBeat": ctx.clock()}, touch=False)
    move_runs_along(ctx)
    running = _strings(body.get("runningTaskIds"), "runningTaskIds")
    aborted = delegate_tasks.aborted_among(ctx.state, running)
    return rest_response({"delegateId": delegate_id(entity), "status": "ENABLED", "abortTaskIds": aborted})


def _number_param(request: Request, name: str, default: float) -> float:
    raw = request.query_params.get(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ApiError("INVALID_REQUEST", f"{name}: must be a number") from None


async def task_events(ctx: SandboxContext, request: Request) -> Response:
    _token(ctx, request)
    entity = _delegate(ctx, request.path_params["delegateId"])
    wait = min(max(_number_param(request, "wait", 0), 0.0), _MAX_WAIT_S)
    limit = max(1, int(_number_param(request, "max", 10)))
    selectors, scope = delegate_selectors(entity), (entity.org, entity.project)
    deadline = time.monotonic() + wait
    while True:
        move_runs_along(ctx)
        found = delegate_tasks.queued_for(ctx.state, selectors=selectors, scope=scope, now_ms=ctx.clock(), limit=limit)
        if found or time.monotonic() >= deadline:
            return rest_response(found)
        await anyio.sleep(_POLL_STEP_S)


async def acquire(ctx: SandboxContext, request: Request) -> Response:
    _token(ctx, request)
    entity = _delegate(ctx, request.path_params["delegateId"])
    task_id = request.path_params["taskId"]
    payload = delegate_tasks.acquire(ctx.state, task_id, delegate_id=delegate_id(entity),
                                     delegate_name=entity.identifier, now_ms=ctx.clock())  # fmt: skip
    if payload is None:
        raise ApiError("TASK_ALREADY_TAKEN", f"Task {task_id} is not queued: another delegate took it, or its "
                       "step no longer waits for it", status=409)  # fmt: skip
    return rest_response(payload)


_RESULT_STATUSES = {"SUCCESS", "FAILURE", "ERROR", "TIMEOUT", "ABORTED", "INTERRUPTED"}


async def result(ctx: SandboxContext, request: Request) -> Response:
    _token(ctx, request)
    entity = _delegate(ctx, request.path_params["delegateId"])
    task_id = request.path_params["taskId"]
    body = require_mapping(await json_body(request))
    if body.get("status") not in _RESULT_STATUSES:
        raise ApiError("INVALID_REQUEST", f"status: must be one of {', '.join(sorted(_RESULT_STATUSES))}")
    answer = delegate_tasks.record_result(ctx.state, task_id, delegate_id=delegate_id(entity),
                                          delegate_name=entity.identifier, result=body, now_ms=ctx.clock())  # fmt: skip
    if answer is None:
        raise ApiError("RESOURCE_NOT_FOUND", f"Task {task_id} does not exist", status=404)
    accepted, reason = answer
    record = ctx.state.get_execution(_execution_of(ctx, task_id))
    if record is not None:  # the next step starts (and its task is queued) now, not at the next read
        runs.refresh(ctx.state, ctx.account_id, record, ctx.clock(), delegates_of(ctx))
    return rest_response({"accepted": accepted, "reason": reason})


def _execution_of(ctx: SandboxContext, task_id: str) -> str:
    rows = ctx.state.query("SELECT execution_id FROM delegate_tasks WHERE task_id = ?", (task_id,))
    return str(rows[0][0]) if rows else ""


async def unregister(ctx: SandboxContext, request: Request) -> Response:
    _token(ctx, request)
    entity = _delegate(ctx, request.path_params["delegateId"])
    save_doc(ctx, entity, {**entity.doc, "connected": False}, touch=False)
    return rest_response({"delegateId": delegate_id(entity), "status": "DISCONNECTED"})


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The delegate protocol's endpoints."""
    return [
        route(ctx, f"{A}/delegates/register", "POST", register),
        route(ctx, f"{A}/delegates/heartbeat-with-polling", "POST", heartbeat),
        route(ctx, f"{A}/delegates/{{delegateId}}/task-events", "GET", task_events),
        route(ctx, f"{A}/delegates/{{delegateId}}/tasks/{{taskId}}/acquire", "PUT", acquire),
        route(ctx, f"{A}/v2/tasks/{{taskId}}/delegates/{{delegateId}}", "POST", result),
        route(ctx, f"{A}/delegates/{{delegateId}}/unregister", "POST", unregister),
    ]
