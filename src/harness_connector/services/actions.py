"""Actions: run, retry, rerun and interrupt executions, flip flags, decide approvals, test connectors.

A run can wait until the execution ends, reporting progress as it polls, within a time cap. Retrying without
naming stages resumes from the first failed stage, which is what a person means by "retry it".
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import yaml

from harness_connector.domain import ExecutionStatus
from harness_connector.errors import UsageError
from harness_connector.harness.registry import get_resource_type
from harness_connector.services.arguments import Target
from harness_connector.services.connection import Connection
from harness_connector.services.resources import normalize_body
from harness_connector.services.results import ExecuteResult
from harness_connector.services.shaping import dig, prune, ui_link

__all__ = ["ACTION_ALIASES", "Progress", "action_target", "execute_action"]

Progress = Callable[[float, float | None, str], Awaitable[None]]

# The official server puts run and retry on `pipeline`; the registry keeps them on `execution`.
ACTION_ALIASES: dict[tuple[str, str], str] = {
    ("pipeline", "run"): "execution",
    ("pipeline", "retry"): "execution",
    ("pipeline", "rerun"): "execution",
    ("pipeline", "run_with_input_sets"): "execution",
    ("pipeline", "interrupt"): "execution",
}
_STARTS_EXECUTION = frozenset({"run", "run_with_input_sets", "rerun", "retry"})
_INTERRUPT_NAMES = {"abort": "AbortAll", "pause": "Pause", "resume": "Resume", "stop": "AbortAll"}


def action_target(target: Target, action: str) -> Target:
    """The target whose type holds the action, following the official server's aliases."""
    owner = ACTION_ALIASES.get((target.resource.name, action))
    if owner is None:
        target.resource.operation(action)  # raises a UsageError listing the type's operations
        return target
    args = dict(target.args)
    if target.resource.name == "pipeline" and "pipeline_id" not in args and target.own_id:
        args["pipeline_id"] = target.own_id
    return Target(get_resource_type(owner), args)


async def execute_action(
    conn: Connection,
    target: Target,
    action: str,
    *,
    inputs: Any = None,
    input_set_ids: list[str] | None = None,
    body: Any = None,
    wait: bool = False,
    timeout_s: float = 600.0,
    poll_interval_s: float = 3.0,
    progress: Progress | None = None,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ExecuteResult:
    """Perform an action and, with `wait`, follow the execution it started until it ends or the cap passes.

    Raises:
        UsageError: the action is unknown for the type, or an argument it needs is missing.
        HarnessError: Harness refused or failed.
    """
    target = action_target(target, action)
    resource = target.resource
    args = dict(target.args)
    if action == "interrupt":
        kind = str(args.get("interrupt_type") or "")
        args["interrupt_type"] = _INTERRUPT_NAMES.get(kind.lower(), kind) or _missing("interrupt_type")
    if action == "retry" and not args.get("retry_stages") and not args.get("run_all_stages"):
        args["retry_stages"] = await _failed_stages(conn, args)
    if input_set_ids:
        args["input_set_ids"] = list(input_set_ids)
    payload_body = inputs if inputs is not None else body
    if resource.operation(action).body.value != "none":
        if action in _STARTS_EXECUTION and isinstance(payload_body, Mapping) and action != "run_with_input_sets":
            payload_body = yaml.safe_dump(dict(payload_body), sort_keys=False)
        args["body"] = normalize_body(resource, action, payload_body) if payload_body is not None else None
    answer = await conn.client.call(resource, action, args)
    result = prune(answer) if isinstance(answer, Mapping) else ({"value": answer} if answer is not None else None)
    execution_id = _execution_id(answer) if action in _STARTS_EXECUTION else args.get("execution_id")
    outcome = ExecuteResult(
        resource_type=resource.name,
        action=action,
        id=target.own_id,
        execution_id=str(execution_id) if execution_id else None,
        result=_trim_run_answer(result) if action in _STARTS_EXECUTION else result,
        link=_execution_link(conn, args, execution_id),
    )
    if wait and action in _STARTS_EXECUTION and execution_id:
        return await _wait(conn, args, outcome, timeout_s, poll_interval_s, progress, sleep, clock)
    return outcome


def _missing(name: str) -> str:
    raise UsageError(f"this action needs {name}")


async def _failed_stages(conn: Connection, args: Mapping[str, Any]) -> list[str]:
    execution = get_resource_type("execution")
    if not args.get("execution_id"):
        raise UsageError("retry needs execution_id: the failed execution to resume")
    detail = await conn.client.call(execution, "get", {**args, "render_full_bottom_graph": False})
    summary = dig(detail, "pipelineExecutionSummary") or {}
    nodes = dig(summary, "layoutNodeMap") or {}
    failed = [
        str(node.get("nodeIdentifier"))
        for node in sorted(nodes.values(), key=lambda n: n.get("startTs") or 0)
        if node.get("nodeGroup") == "STAGE" and str(node.get("status", "")) in ("Failed", "Errored", "Expired")
    ]
    if not failed:
        raise UsageError("that execution has no failed stage to retry from; pass retry_stages or run_all_stages")
    return failed[:1]


def _execution_id(answer: Any) -> str | None:
    for path in ("planExecution.uuid", "planExecution.metadata.executionUuid", "planExecutionId", "executionId"):
        found = dig(answer, path)
        if isinstance(found, str) and found:
            return found
    return None


def _trim_run_answer(result: dict[str, Any] | None) -> dict[str, Any] | None:
    # The run answer repeats setup data a model never needs; keep the run's identity and state.
    if not result:
        return result
    plan = result.get("planExecution")
    if not isinstance(plan, dict):
        return result
    meta = plan.get("metadata") or {}
    return {
        "status": plan.get("status"),
        "run_sequence": meta.get("runSequence"),
        "pipeline_id": meta.get("pipelineIdentifier"),
        "trigger": (meta.get("triggerInfo") or {}).get("triggerType"),
    }


def _execution_link(conn: Connection, args: Mapping[str, Any], execution_id: Any) -> str | None:
    if not execution_id or not args.get("pipeline_id"):
        return None
    link_args = {**args, "execution_id": execution_id}
    return ui_link(conn.ui_base_url, conn.account_id, get_resource_type("execution"), link_args)


async def _wait(
    conn: Connection,
    args: Mapping[str, Any],
    outcome: ExecuteResult,
    timeout_s: float,
    poll_interval_s: float,
    progress: Progress | None,
    sleep: Callable[[float], Awaitable[None]],
    clock: Callable[[], float],
) -> ExecuteResult:
    execution = get_resource_type("execution")
    started = clock()
    polls = 0
    status = ExecutionStatus.RUNNING
    while True:
        polls += 1
        detail = await conn.client.call(execution, "get", {**args, "execution_id": outcome.execution_id})
        summary = dig(detail, "pipelineExecutionSummary") or {}
        status = ExecutionStatus.parse(str(summary.get("status") or "Running"))
        elapsed = clock() - started
        done = int(summary.get("successfulStagesCount") or 0) + int(summary.get("failedStagesCount") or 0)
        total = summary.get("totalStagesCount")
        if progress is not None:
            await progress(float(done), float(total) if total else None, f"{status.value} after {elapsed:.0f}s")
        if status.is_terminal or elapsed >= timeout_s:
            break
        await sleep(min(poll_interval_s, max(0.0, timeout_s - elapsed)))
    timed_out = not status.is_terminal
    hint = None
    if timed_out:
        hint = "still running at the time cap; check again with harness_get resource_type=execution"
    elif status.is_failure:
        hint = "it failed: harness_diagnose with this execution_id explains why and whether to re-run"
    return outcome.model_copy(
        update={
            "status": status.value,
            "terminal": status.is_terminal,
            "timed_out": timed_out,
            "elapsed_s": round(clock() - started, 3),
            "polls": polls,
            "hint": hint,
        }
    )
