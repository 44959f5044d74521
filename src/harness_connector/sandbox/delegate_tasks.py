"""Delegate tasks: the steps a running delegate agent executes for real, from queued to a reported result.

The execution engine queues a task when a `Run` or `ShellScript` step starts on a live delegate (one that
registered through the delegate protocol), and reads the results back as the step's end. A task is QUEUED until a
delegate whose selectors cover the step's acquires it (ACQUIRED), then DONE once its result arrives. A step that
stops waiting (it timed out, the run was aborted) CANCELS its task; a delegate still running a cancelled task is
told to abort it at its next heartbeat. A delegate that registers again without a task it had acquired lost it
(it restarted): the task is queued again, so no step waits for a result that will never come.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from harness_connector.sandbox.state import SandboxState

__all__ = [
    "TaskEnd",
    "aborted_among",
    "acquire",
    "cancel",
    "ends_of",
    "executions_with_tasks",
    "queue",
    "queued_for",
    "record_result",
    "requeue_lost",
    "task_id_for",
]

QUEUED, ACQUIRED, DONE, CANCELLED = "QUEUED", "ACQUIRED", "DONE", "CANCELLED"


@dataclass(frozen=True, slots=True)
class TaskEnd:
    """A task's reported result, with the sandbox time it arrived at (the step's end)."""

    status: str  # SUCCESS | FAILURE | ERROR | TIMEOUT | ABORTED | INTERRUPTED
    exit_code: int | None
    error_message: str | None
    output_variables: dict[str, str]
    delegate_name: str
    recorded_ms: int


def task_id_for(execution_id: str, stage_id: str, step_id: str, attempt: int) -> str:
    """The task of one attempt of a step: stable, so queuing it twice is harmless."""
    return f"{execution_id}-{stage_id}-{step_id}-{attempt}"


def queue(
    state: SandboxState,
    *,
    task_id: str,
    execution_id: str,
    scope: tuple[str, str],
    selectors: Collection[str],
    available_at: int,
    payload: Mapping[str, Any],
    now_ms: int,
) -> None:
    """Queue a task (a no-op when it is already known)."""
    state.query(
        "INSERT OR IGNORE INTO delegate_tasks (task_id, execution_id, org, project, selectors, status, available_at, "
        "payload, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (task_id, execution_id, scope[0], scope[1], json.dumps(sorted({s.lower() for s in selectors})), QUEUED,
         available_at, json.dumps(payload), now_ms, now_ms),
    )  # fmt: skip


def cancel(state: SandboxState, task_ids: Collection[str], now_ms: int) -> None:
    """Stop waiting for tasks that have not reported: their steps ended without them."""
    for task_id in task_ids:
        state.query(
            "UPDATE delegate_tasks SET status = ?, updated_at = ? WHERE task_id = ? AND status IN (?, ?)",
            (CANCELLED, now_ms, task_id, QUEUED, ACQUIRED),
        )


def _serves(delegate_scope: tuple[str, str], task_scope: tuple[str, str]) -> bool:
    """An account-level delegate serves every project; an org-level one its org's; a project-level one its own."""
    org, project = delegate_scope
    return (not org or org == task_scope[0]) and (not project or project == task_scope[1])


def queued_for(
    state: SandboxState, *, selectors: Collection[str], scope: tuple[str, str], now_ms: int, limit: int
) -> list[dict[str, str]]:
    """The queued tasks, oldest first, that a delegate with `selectors` in `scope` may take now."""
    have = {s.lower() for s in selectors}
    rows = state.query(
        "SELECT task_id, org, project, selectors, payload FROM delegate_tasks WHERE status = ? AND available_at <= ? "
        "ORDER BY available_at, created_at",
        (QUEUED, now_ms),
    )
    found: list[dict[str, str]] = []
    for task_id, org, project, wanted, payload in rows:
        if set(json.loads(wanted)) <= have and _serves(scope, (org, project)):
            found.append({"delegateTaskId": task_id, "taskType": json.loads(payload)["taskType"]})
        if len(found) >= limit:
            break
    return found


def acquire(state: SandboxState, task_id: str, *, delegate_id: str, delegate_name: str, now_ms: int) -> Any:
    """The task's payload, now owned by the delegate; None when it is not (or no longer) queued."""
    with state.transaction() as db:
        row = db.execute("SELECT status, payload FROM delegate_tasks WHERE task_id = ?", (task_id,)).fetchone()
        if row is None or row[0] != QUEUED:
            return None
        db.execute(
            "UPDATE delegate_tasks SET status = ?, delegate_id = ?, delegate_name = ?, updated_at = ? "
            "WHERE task_id = ?",
            (ACQUIRED, delegate_id, delegate_name, now_ms, task_id),
        )
        return json.loads(row[1])


def record_result(
    state: SandboxState, task_id: str, *, delegate_id: str, delegate_name: str, result: Mapping[str, Any], now_ms: int
) -> tuple[bool, str] | None:
    """Keep a task's result. Returns (accepted, reason), or None for an unknown task. A repeated delivery gets the
    first delivery's answer; a result for a cancelled task is kept but not accepted (its step has ended)."""
    with state.transaction() as db:
        row = db.execute("SELECT status FROM delegate_tasks WHERE task_id = ?", (task_id,)).fetchone()
        if row is None:
            return None
        status = row[0]
        if status == DONE:
            return True, "the result was already recorded"
        if status == CANCELLED:
            return False, "the step no longer waits for this task: it timed out or its execution was aborted"
        db.execute(
            "UPDATE delegate_tasks SET status = ?, delegate_id = ?, delegate_name = ?, result = ?, recorded_at = ?, "
            "updated_at = ? WHERE task_id = ?",
            (DONE, delegate_id, delegate_name, json.dumps(dict(result)), now_ms, now_ms, task_id),
        )
        return True, "recorded"


def requeue_lost(state: SandboxState, delegate_id: str, running: Collection[str], now_ms: int) -> list[str]:
    """Queue again the tasks a delegate had acquired but no longer runs (it restarted); returns their ids."""
    rows = state.query(
        "SELECT task_id FROM delegate_tasks WHERE delegate_id = ? AND status = ?", (delegate_id, ACQUIRED)
    )
    lost = [str(task_id) for (task_id,) in rows if task_id not in running]
    for task_id in lost:
        state.query(
            "UPDATE delegate_tasks SET status = ?, delegate_id = NULL, delegate_name = NULL, updated_at = ? "
            "WHERE task_id = ? AND status = ?",
            (QUEUED, now_ms, task_id, ACQUIRED),
        )
    return lost


def aborted_among(state: SandboxState, running: Collection[str]) -> list[str]:
    """Of the tasks a delegate says it runs, those the manager gave up on (or never knew): abort them."""
    aborted: list[str] = []
    for task_id in running:
        row = state.query("SELECT status FROM delegate_tasks WHERE task_id = ?", (task_id,))
        if not row or row[0][0] == CANCELLED:
            aborted.append(task_id)
    return aborted


def ends_of(state: SandboxState, execution_id: str) -> dict[str, TaskEnd]:
    """The reported results of an execution's tasks, by task id."""
    rows = state.query(
        "SELECT task_id, delegate_name, result, recorded_at FROM delegate_tasks WHERE execution_id = ? AND status = ?",
        (execution_id, DONE),
    )
    ends: dict[str, TaskEnd] = {}
    for task_id, delegate_name, result, recorded_at in rows:
        body = json.loads(result)
        exit_code = body.get("exitCode")
        ends[str(task_id)] = TaskEnd(
            status=str(body.get("status") or "ERROR"),
            exit_code=int(exit_code) if isinstance(exit_code, int) else None,
            error_message=str(body["errorMessage"]) if body.get("errorMessage") else None,
            output_variables={str(k): str(v) for k, v in (body.get("outputVariables") or {}).items()},
            delegate_name=str(delegate_name or ""),
            recorded_ms=int(recorded_at),
        )
    return ends


def executions_with_tasks(state: SandboxState) -> list[str]:
    """Unfinished executions that gave delegates tasks: the ones to move along while delegates poll, so timeouts
    fire and retries start without anyone reading the execution."""
    rows = state.query(
        "SELECT DISTINCT t.execution_id FROM delegate_tasks AS t JOIN executions AS e ON e.id = t.execution_id "
        "WHERE e.end_ts IS NULL"
    )
    return [str(execution_id) for (execution_id,) in rows]
