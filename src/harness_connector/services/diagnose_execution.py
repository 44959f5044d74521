"""Diagnose a finished execution: fetch its full graph, rank what failed, follow chained runs, mine the logs.

The steps, each replaceable on its own:

1. `_locate`: the execution from an id, a URL, or a pipeline's latest failed run; running ones are refused.
2. `_analyse`: `rank_failures` on the detail (pure), then each failed node's chained child run, recursively up to
   `MAX_CHILD_DEPTH` levels, never visiting a run twice.
3. `_excerpts`: the failing steps' logs streamed through `ExcerptSelector`s, root cause first, and the token
   budget split over them with `allocate_budget`.

The result is plain data, so a later classifier (history, flakiness) can take an `ExecutionDiagnosis` and the
`Ranked` nodes behind it without fetching anything again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio

from harness_connector.domain.status import ExecutionStatus
from harness_connector.errors import HarnessError, HarnessNotFoundError, UsageError
from harness_connector.harness.logs import LogService
from harness_connector.harness.registry import get_resource_type
from harness_connector.services.arguments import resolve_target
from harness_connector.services.connection import Connection
from harness_connector.services.diagnose_graph import (
    Ranked,
    execution_info,
    pipeline_ref,
    rank_failures,
    stage_summaries,
)
from harness_connector.services.diagnose_logs import ExcerptSelector, allocate_budget
from harness_connector.services.diagnose_models import (
    ChildExecution,
    ExcerptLine,
    ExecutionDiagnosis,
    LogExcerpt,
)
from harness_connector.services.shaping import dig, ui_link

__all__ = ["MAX_CHILD_DEPTH", "AnalysedExecution", "LogTarget", "analyse_execution", "diagnose_execution", "next_steps"]

MAX_CHILD_DEPTH = 3
MAX_FAILED_STEPS = 25
_LOG_CONCURRENCY = 3
_FAILED = [s.value for s in ExecutionStatus if s.is_failure]


@dataclass(slots=True)
class _Run:
    """One analysed execution and the chained runs its failed nodes started."""

    detail: Mapping[str, Any]
    org: str | None
    project: str | None
    ranked: list[Ranked]
    children: dict[str, _Child] = field(default_factory=dict)

    @property
    def summary(self) -> Mapping[str, Any]:
        found = self.detail.get("pipelineExecutionSummary")
        return found if isinstance(found, Mapping) else {}


@dataclass(slots=True)
class _Child:
    depth: int
    parent: _Run
    parent_stage: str | None
    execution_id: str
    org: str | None
    project: str | None
    run: _Run | None = None
    error: str | None = None


@dataclass(slots=True)
class LogTarget:
    ranked: Ranked
    execution_id: str | None  # set for steps of a chained child run
    selector: ExcerptSelector | None = None
    log_key: str = ""
    error: str | None = None


@dataclass(slots=True)
class AnalysedExecution:
    """A finished execution's failures ranked and its chained runs followed, before any log is read.

    `diagnosis` has everything but log excerpts; `log_targets` are the failed steps whose logs to read, root
    cause first, each with the node (log keys, failure types, message) and the chained run it belongs to.
    """

    diagnosis: ExecutionDiagnosis
    log_targets: list[LogTarget]
    summary: Mapping[str, Any]
    org: str | None
    project: str | None


async def analyse_execution(
    conn: Connection,
    *,
    execution_id: str | None = None,
    pipeline_id: str | None = None,
    url: str | None = None,
    org_id: str | None = None,
    project_id: str | None = None,
    max_failed_steps: int = 5,
) -> AnalysedExecution:
    """Locate, fetch and rank a finished execution (see `diagnose_execution` for the arguments and errors)."""
    if not 1 <= max_failed_steps <= MAX_FAILED_STEPS:
        raise UsageError(f"max_failed_steps must be between 1 and {MAX_FAILED_STEPS}")
    args = await _locate(conn, execution_id, pipeline_id, url, org_id, project_id)
    detail = await _fetch(conn, args)
    summary = detail.get("pipelineExecutionSummary") or {}
    status = _status_of(summary)
    if status is not None and not status.is_terminal:
        raise UsageError(
            f"execution {args['execution_id']} is {status.value}: it has not finished, so there is no failure to "
            "diagnose yet; wait for it to end, or follow it with harness_get resource_type=execution"
        )
    root = _Run(detail, args.get("org_id"), args.get("project_id"), rank_failures(detail))
    await _follow_children(conn, root, {str(args["execution_id"])}, depth=1)
    failures = [item.failure for item in root.ranked]
    diagnosis = ExecutionDiagnosis(
        pipeline=pipeline_ref(summary),
        execution=execution_info(summary),
        stages=stage_summaries(summary),
        failures=failures[:max_failed_steps],
        failures_total=len(failures),
        child_executions=_children_out(conn, root, max_failed_steps),
        link=_link(conn, root.org, root.project, summary),
    )
    return AnalysedExecution(
        diagnosis=diagnosis,
        log_targets=_log_targets(root)[:max_failed_steps],
        summary=summary,
        org=root.org,
        project=root.project,
    )


async def diagnose_execution(
    conn: Connection,
    *,
    execution_id: str | None = None,
    pipeline_id: str | None = None,
    url: str | None = None,
    org_id: str | None = None,
    project_id: str | None = None,
    token_budget: int = 2000,
    max_failed_steps: int = 5,
    logs: LogService | None = None,
) -> ExecutionDiagnosis:
    """Why a finished execution failed: ranked failures, chained runs followed, and log lines within a budget.

    Give an execution id, a Harness UI URL of an execution, or a pipeline (its latest failed run is taken).

    Raises:
        UsageError: nothing names an execution, the pipeline has no failed run, the run has not finished, or a
            limit is out of range.
        HarnessError: Harness refused or failed to return the execution.
    """
    if token_budget < 0:
        raise UsageError("token_budget must be >= 0")
    analysed = await analyse_execution(
        conn,
        execution_id=execution_id,
        pipeline_id=pipeline_id,
        url=url,
        org_id=org_id,
        project_id=project_id,
        max_failed_steps=max_failed_steps,
    )
    diagnosis = analysed.diagnosis
    excerpts, chars = await _excerpts(logs or LogService(conn.client), analysed.log_targets, token_budget * 4)
    diagnosis.log_excerpts = excerpts
    diagnosis.tokens_used = math.ceil(chars / 4)
    diagnosis.next_steps = next_steps(diagnosis, analysed.summary)
    return diagnosis


async def _locate(
    conn: Connection,
    execution_id: str | None,
    pipeline_id: str | None,
    url: str | None,
    org_id: str | None,
    project_id: str | None,
) -> dict[str, Any]:
    explicit = {"execution_id": execution_id, "pipeline_id": pipeline_id, "org_id": org_id, "project_id": project_id}
    target = resolve_target(conn, resource_type="execution", url=url, explicit=explicit)
    args = dict(target.args)
    if args.get("execution_id"):
        return args
    if not args.get("pipeline_id"):
        raise UsageError("say which execution: execution_id, a Harness execution URL, or pipeline_id for its latest")
    page = await conn.client.list_page(target.resource, {**args, "status": _FAILED}, page=0, size=1)
    found = [dig(item, "planExecutionId") for item in page.items]
    if not found or not found[0]:
        raise UsageError(f"pipeline {args['pipeline_id']} has no failed execution to diagnose; pass execution_id")
    return {**args, "execution_id": str(found[0])}


async def _fetch(conn: Connection, args: Mapping[str, Any]) -> Mapping[str, Any]:
    execution = get_resource_type("execution")
    detail = await conn.client.call(execution, "get", {**args, "render_full_bottom_graph": True})
    if not isinstance(detail, Mapping) or not isinstance(detail.get("pipelineExecutionSummary"), Mapping):
        raise HarnessError("the execution answer has no pipelineExecutionSummary", method="GET")
    return detail


def _status_of(summary: Mapping[str, Any]) -> ExecutionStatus | None:
    try:
        return ExecutionStatus.parse(str(summary.get("status") or ""))
    except ValueError:
        return None


async def _follow_children(conn: Connection, run: _Run, visited: set[str], *, depth: int) -> None:
    """Diagnose the chained runs that failed nodes of `run` started, depth first, each run at most once."""
    if depth > MAX_CHILD_DEPTH:
        return
    for item in run.ranked:
        ref = item.node.child
        if ref is None or ref.execution_id in visited:
            continue
        visited.add(ref.execution_id)
        org, project = ref.org or run.org, ref.project or run.project
        child = _Child(depth, run, item.node.stage, ref.execution_id, org, project)
        run.children[ref.execution_id] = child
        try:
            detail = await _fetch(conn, {"org_id": org, "project_id": project, "execution_id": ref.execution_id})
        except HarnessError as exc:
            child.error = f"could not read the chained run: {exc.message}"
            continue
        child.run = _Run(detail, org, project, rank_failures(detail))
        item.failure.reason = _chained_reason(child.run, ref.execution_id, item.failure.reason)
        await _follow_children(conn, child.run, visited, depth=depth + 1)


def _chained_reason(child: _Run, execution_id: str, reason: str) -> str:
    pipeline = child.summary.get("pipelineIdentifier") or "?"
    first = next((r.node for r in child.ranked if r.failure.role == "root_cause"), None)
    cause = f"; its first failure is {first.where()}" if first is not None else ""
    return f"{reason}; chained pipeline '{pipeline}' run {execution_id} failed{cause} (see child_executions)"


def _children_out(conn: Connection, run: _Run, cap: int) -> list[ChildExecution]:
    out: list[ChildExecution] = []
    for child in run.children.values():
        entry = ChildExecution(
            depth=child.depth,
            parent_execution_id=str(run.summary.get("planExecutionId") or ""),
            parent_stage=child.parent_stage,
            org=child.org,
            project=child.project,
            error=child.error,
        )
        if child.run is not None:
            summary = child.run.summary
            entry.pipeline = pipeline_ref(summary)
            entry.execution = execution_info(summary)
            entry.failures = [r.failure for r in child.run.ranked][:cap]
            entry.link = _link(conn, child.org, child.project, summary)
        out.append(entry)
        if child.run is not None:
            out += _children_out(conn, child.run, cap)
    return out


def _log_targets(run: _Run, execution_id: str | None = None) -> list[LogTarget]:
    """Steps whose logs to read, in priority order: a chained node's child steps take the node's place."""
    out: list[LogTarget] = []
    for item in run.ranked:
        child = run.children.get(item.failure.child_execution_id or "")
        if child is not None and child.run is not None:
            out += _log_targets(child.run, child.execution_id)
            continue
        node = item.node
        ran = node.status is not None and node.status is not ExecutionStatus.SKIPPED and node.start is not None
        if node.is_step and ran and node.log_keys:
            out.append(LogTarget(item, execution_id))
    return out


async def _excerpts(logs: LogService, targets: list[LogTarget], budget: int) -> tuple[list[LogExcerpt], int]:
    """One excerpt per target, the logs read a few at a time; and the characters the excerpts cost."""
    limiter = anyio.CapacityLimiter(_LOG_CONCURRENCY)

    async def read(target: LogTarget) -> None:
        async with limiter:
            await _read_log(logs, target)

    async with anyio.create_task_group() as group:
        for target in targets:
            group.start_soon(read, target)
    needs = [t.selector.needed_chars() if t.selector else 0 for t in targets]
    out, chars = [], 0
    for target, allowed in zip(targets, allocate_budget(needs, budget), strict=True):
        failure = target.ranked.failure
        entry = LogExcerpt(
            stage=failure.stage,
            step=failure.step,
            execution_id=target.execution_id,
            log_key=target.log_key or target.ranked.node.log_keys[0],
            error=target.error,
        )
        if target.selector is not None:
            excerpt = target.selector.excerpt(allowed)
            chars += excerpt.chars
            entry.total_lines, entry.error_lines, entry.truncated = (
                excerpt.total_lines,
                excerpt.error_lines,
                excerpt.truncated,
            )
            entry.lines = [
                ExcerptLine(n=p.n, level=p.level, text=p.text, repeats=p.repeats or None) for p in excerpt.lines
            ]
        out.append(entry)
    return out, chars


async def _read_log(logs: LogService, target: LogTarget) -> None:
    """Stream the first of the node's log keys that exists through a fresh selector; never the whole log."""
    for key in target.ranked.node.log_keys:
        selector = ExcerptSelector()
        try:
            # Read to the end (the tail matters), one line at a time: memory stays the selector's.
            async for line in logs.stream_step_log(key):
                selector.feed(line)
        except HarnessNotFoundError:
            target.error = "no log is stored under this key (it may have expired)"
            target.log_key = target.log_key or key
            continue
        except HarnessError as exc:
            target.error, target.log_key = f"could not read the log: {exc.message}", key
            return
        target.selector, target.log_key, target.error = selector, key, None
        return


def _link(conn: Connection, org: str | None, project: str | None, summary: Mapping[str, Any]) -> str | None:
    args = {"org_id": org, "project_id": project, "pipeline_id": summary.get("pipelineIdentifier"),
            "execution_id": summary.get("planExecutionId")}  # fmt: skip
    return ui_link(conn.ui_base_url, conn.account_id, get_resource_type("execution"), args)


_TYPE_HINTS = (
    ({"DELEGATE_PROVISIONING", "DELEGATE_RESTART"}, "no delegate could take the task: harness_diagnose "
     "resource_type=delegate checks delegate health and selectors that match nothing"),
    ({"CONNECTIVITY", "AUTHENTICATION", "AUTHORIZATION_ERROR"}, "a connector or credential was refused: "
     "harness_diagnose resource_type=connector resource_id=<connector> tests it"),
    ({"TIMEOUT_ERROR", "EXPIRED"}, "the step ran out of time: raise its timeout or find what hangs in the log lines"),
)  # fmt: skip


def next_steps(diagnosis: ExecutionDiagnosis, summary: Mapping[str, Any]) -> list[str]:
    hints: list[str] = []
    roots = [f for f in diagnosis.failures if f.role == "root_cause"]
    roots += [f for child in diagnosis.child_executions for f in child.failures if f.role == "root_cause"]
    kinds = {kind for failure in roots for kind in failure.failure_types}
    hints += [hint for wanted, hint in _TYPE_HINTS if kinds & wanted]
    retried = max((f.retries for f in roots), default=0)
    if retried:
        hints.append(f"it failed again after {retried} automatic retries, so it is unlikely to be transient")
    if diagnosis.child_executions:
        hints.append("the failure is inside a chained pipeline run: see child_executions and their links")
    if any(e.truncated for e in diagnosis.log_excerpts):
        hints.append("whole step logs: harness_get resource_type=execution_log resource_id=<log_key>")
    if summary.get("canRetry") and roots:
        hints.append(f"after a fix, harness_execute action=retry execution_id={diagnosis.execution.id} resumes it")
    if not diagnosis.failures:
        hints.append(f"the run ended {diagnosis.execution.status} with nothing failed, aborted or skipped to show")
    return hints[:5]
