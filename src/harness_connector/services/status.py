"""A project's health over a recent time window, with the numbers and the rule behind the verdict.

The official `harness_status` counts failures over the project's whole history, so a project that ever failed
reads "degraded" forever, and it calls only `Running` running. Here every count is for executions started inside
a window (default the last 24 h), compared with the window before it; running means any unfinished status
(queued, waiting for approval, paused, ...); and the verdict says which rule produced it.

Requests are bounded (`MAX_REQUESTS`): one for what runs now, then pages of the current window, then pages of
the previous one. A window with more executions than the pages fetched is marked incomplete and its rate is
over the most recent executions seen.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
from pydantic import BaseModel, ConfigDict, Field

from harness_connector.domain.status import ExecutionStatus
from harness_connector.errors import HarnessError, UsageError
from harness_connector.harness.pagination import Page
from harness_connector.harness.registry import get_resource_type
from harness_connector.services.arguments import resolve_target
from harness_connector.services.connection import Connection
from harness_connector.services.flaky_diagnosis import FlakySummary
from harness_connector.services.shaping import iso_time, ui_link

__all__ = [
    "MAX_REQUESTS",
    "ExecutionRow",
    "PipelineFailures",
    "StatusReport",
    "Verdict",
    "WindowStats",
    "project_status",
    "verdict_for",
]

MAX_REQUESTS = 6
PAGE_SIZE = 100
MAX_LIMIT = 20
MAX_WINDOW_HOURS = 24 * 31
FAILING_BELOW = 0.5  # success rate under which a project is failing
DEGRADED_BELOW = 0.8  # success rate under which a project with a failure is degraded
DROP_POINTS = 10.0  # a fall of this many percentage points from the previous window is degraded

_EXECUTION = get_resource_type("execution")
_SUCCESSES = frozenset({ExecutionStatus.SUCCESS, ExecutionStatus.IGNORE_FAILED})
_UNFINISHED = [s.value for s in ExecutionStatus if not s.is_terminal]
_HOUR_MS = 3_600_000

Health = Literal["healthy", "degraded", "failing", "idle"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExecutionRow(_Model):
    """One execution, compact."""

    execution_id: str
    pipeline_id: str | None = None
    pipeline_name: str | None = None
    status: str
    run_sequence: int | None = None
    started_at: str | None = None
    ended_at: str | None = None
    failure: str | None = None
    link: str | None = None


class WindowStats(_Model):
    """Executions started in one window and how they ended."""

    start: str
    end: str
    executions: int = Field(description="Executions started in the window, as Harness counts them.")
    examined: int = Field(description="Executions read; fewer than `executions` when the window was too big.")
    complete: bool
    succeeded: int = Field(description="Success or IgnoreFailed.")
    failed: int = Field(description="Failed, Errored, Expired or ApprovalRejected.")
    other: int = Field(description="Aborted, skipped or suspended: not counted in the rate.")
    running: int = Field(description="Not finished yet: not counted in the rate.")
    success_rate: float | None = Field(
        default=None, description="succeeded / (succeeded + failed); None when neither happened."
    )


class PipelineFailures(_Model):
    """A pipeline that failed in the window."""

    pipeline_id: str
    pipeline_name: str | None = None
    failures: int
    runs: int
    failure_rate: float
    last_failure_at: str | None = None
    last_status: str = Field(description="Status of its latest run in the window: Success means it recovered.")
    link: str | None = Field(default=None, description="The latest failed execution, to diagnose.")


class Verdict(_Model):
    """The health label, the rule that gave it, and one line a person can read."""

    health: Health
    rule: str
    text: str


class StatusReport(_Model):
    """A project's health in a window, against the window before."""

    org_id: str
    project_id: str
    now: str
    window_hours: float
    window: WindowStats
    previous_window: WindowStats
    rate_change_points: float | None = Field(
        default=None, description="Success-rate change from the previous window, in points."
    )
    verdict: Verdict
    running_count: int = Field(description="Executions unfinished now, whenever they started.")
    running_executions: list[ExecutionRow]
    failed_executions: list[ExecutionRow] = Field(description="The window's latest failures.")
    top_failing_pipelines: list[PipelineFailures]
    # Extension point: the history-store feature adds findings here (recurring failures, flaky tests, MTTR).
    insights: list[str] = Field(default_factory=list)
    flaky_tests: FlakySummary | None = Field(
        default=None,
        description="Flaky tests in the history store and quarantines awaiting approval, when a store is open.",
    )
    requests_made: int
    link: str | None = None


# ---- reading executions ---------------------------------------------------------------------------------------


def _status(item: Mapping[str, Any]) -> ExecutionStatus | None:
    try:
        return ExecutionStatus.parse(str(item.get("status") or ""))
    except ValueError:
        return None  # every Harness status missing from the enum is a queue state (QueuedLicenseLimitReached, ...)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _row(conn: Connection, scope: Mapping[str, Any], item: Mapping[str, Any]) -> ExecutionRow:
    start, end = _int(item.get("startTs")), _int(item.get("endTs"))
    failure = item.get("failureInfo", {}).get("message") if isinstance(item.get("failureInfo"), Mapping) else None
    return ExecutionRow(
        execution_id=str(item.get("planExecutionId") or ""),
        pipeline_id=item.get("pipelineIdentifier"),
        pipeline_name=item.get("name"),
        status=str(item.get("status") or ""),
        run_sequence=_int(item.get("runSequence")),
        started_at=iso_time(start) if start else None,
        ended_at=iso_time(end) if end else None,
        failure=" ".join(failure.split())[:200] if isinstance(failure, str) and failure.strip() else None,
        link=ui_link(conn.ui_base_url, conn.account_id, _EXECUTION, scope, item),
    )


def window_stats(
    start_ms: int, end_ms: int, items: Sequence[Mapping[str, Any]], total: int | None, *, more: bool = False
) -> WindowStats:
    """Counts and success rate of the executions read for one window; `more` says pages were left unread."""
    statuses = [_status(item) for item in items]
    succeeded = sum(s in _SUCCESSES for s in statuses)
    failed = sum(s is not None and s.is_failure for s in statuses)
    running = sum(s is None or not s.is_terminal for s in statuses)
    finished = succeeded + failed
    executions = max(total or 0, len(items))
    return WindowStats(
        start=iso_time(start_ms),
        end=iso_time(end_ms),
        executions=executions,
        examined=len(items),
        complete=not more and len(items) >= executions,
        succeeded=succeeded,
        failed=failed,
        other=len(items) - succeeded - failed - running,
        running=running,
        success_rate=round(succeeded / finished, 3) if finished else None,
    )


def verdict_for(window: WindowStats, previous: WindowStats, hours: float) -> Verdict:
    """The health label by the first rule that holds, in this order:

    idle: no execution in the window succeeded or failed.
    failing: the window's success rate is under 50%.
    degraded: an execution failed in the window and the rate is under 80% or at least 10 points below the
        previous window's.
    healthy: otherwise (no failure in the window, or a rate of 80%+ that fell less than 10 points).
    """
    span = f"the last {hours:g}h"
    rate, before = window.success_rate, previous.success_rate
    # Rounded so that 90% after 100% is the 10 points it reads as, not 9.999... in floating point.
    drop = round((before - rate) * 100, 1) if rate is not None and before is not None else None
    seen = "" if window.complete else f" (latest {window.examined} of {window.executions} executions)"
    facts = f"{window.failed} of {window.succeeded + window.failed} finished executions failed in {span}{seen}"
    if rate is not None:
        facts += f", {rate:.0%} success"
        facts += (
            f" vs {before:.0%} in the {hours:g}h before"
            if before is not None
            else ", nothing finished in the window before"
        )
    health: Health
    if rate is None:
        health, rule = "idle", f"idle = no execution succeeded or failed in {span}"
    elif rate < FAILING_BELOW:
        health, rule = "failing", f"failing = success rate under {FAILING_BELOW:.0%} in {span}"
    elif window.failed and rate < DEGRADED_BELOW:
        health, rule = "degraded", f"degraded = a failure in {span} and success rate under {DEGRADED_BELOW:.0%}"
    elif window.failed and drop is not None and drop >= DROP_POINTS:
        health = "degraded"
        rule = f"degraded = a failure in {span} and success rate {DROP_POINTS:g}+ points below the window before"
    elif not window.failed:
        health, rule = "healthy", f"healthy = no failure in {span}"
    else:
        health = "healthy"
        rule = f"healthy = success rate {DEGRADED_BELOW:.0%}+ and not {DROP_POINTS:g}+ points below the window before"
    if rate is None:
        facts = f"no execution finished in {span}"
    return Verdict(health=health, rule=rule, text=f"{health}: {facts} (rule: {rule})")


@dataclass
class _Tally:
    name: str | None
    runs: int = 0
    failures: int = 0
    latest_ms: int = -1
    latest_status: str = ""
    failed_ms: int = -1
    last_failure: Mapping[str, Any] | None = None


def top_failing(
    conn: Connection, scope: Mapping[str, Any], items: Sequence[Mapping[str, Any]], limit: int
) -> list[PipelineFailures]:
    """Pipelines that failed in the window: most failures first, then highest failure rate, then latest failure."""
    tallies: dict[str, _Tally] = {}
    for item in items:
        pipeline = item.get("pipelineIdentifier")
        if not isinstance(pipeline, str):
            continue
        tally = tallies.setdefault(pipeline, _Tally(name=item.get("name")))
        tally.runs += 1
        start = _int(item.get("startTs")) or 0
        if start > tally.latest_ms:
            tally.latest_ms, tally.latest_status = start, str(item.get("status") or "")
        status = _status(item)
        if status is not None and status.is_failure:
            tally.failures += 1
            if start > tally.failed_ms:
                tally.failed_ms, tally.last_failure = start, item
    failing = [(p, t) for p, t in tallies.items() if t.last_failure is not None]
    failing.sort(key=lambda pt: (-pt[1].failures, -pt[1].failures / pt[1].runs, -pt[1].failed_ms, pt[0]))
    return [
        PipelineFailures(
            pipeline_id=pipeline,
            pipeline_name=tally.name,
            failures=tally.failures,
            runs=tally.runs,
            failure_rate=round(tally.failures / tally.runs, 3),
            last_failure_at=iso_time(tally.failed_ms) if tally.failed_ms > 0 else None,
            last_status=tally.latest_status,
            link=ui_link(conn.ui_base_url, conn.account_id, _EXECUTION, scope, tally.last_failure or {}),
        )
        for pipeline, tally in failing[:limit]
    ]


# ---- the use case --------------------------------------------------------------------------------------------


@dataclass
class _Window:
    start_ms: int
    end_ms: int
    items: list[Mapping[str, Any]] = field(default_factory=list)
    total: int | None = None
    next_page: int | None = 0


async def _fetch_window(conn: Connection, scope: Mapping[str, str], window: _Window) -> None:
    """The window's next page of executions (newest first, as Harness lists them)."""
    index = window.next_page or 0
    body = {"timeRange": {"startTime": window.start_ms, "endTime": window.end_ms}}
    page = await conn.client.list_page(_EXECUTION, {**scope, "body": body}, page=index, size=PAGE_SIZE)
    window.items.extend(i for i in page.items if isinstance(i, Mapping))
    window.total = page.total_items
    window.next_page = index + 1 if page.has_more and page.items else None


async def _fetch(conn: Connection, scope: Mapping[str, str], windows: Sequence[_Window], limit: int) -> Page:
    """Fill the windows within the request budget; return the page of executions unfinished now."""
    running: list[Page] = []
    errors: list[HarnessError] = []

    async def unfinished() -> None:
        running.append(await conn.client.list_page(_EXECUTION, {**scope, "status": _UNFINISHED}, size=limit))

    async def guarded(call: Awaitable[None]) -> None:
        try:
            await call
        except HarnessError as exc:  # caught here: a task group would wrap it in an ExceptionGroup
            errors.append(exc)

    # The first requests are independent; the rest of the budget goes to the current window first.
    async with anyio.create_task_group() as group:
        for call in (unfinished(), *(_fetch_window(conn, scope, w) for w in windows)):
            group.start_soon(guarded, call)
    if errors:
        raise errors[0]
    budget = MAX_REQUESTS - 1 - len(windows)
    for window in windows:
        while budget and window.next_page is not None:
            await _fetch_window(conn, scope, window)
            budget -= 1
    return running[0]


def _scope(conn: Connection, org_id: str | None, project_id: str | None, url: str | None) -> dict[str, str]:
    explicit = {"org_id": org_id, "project_id": project_id}
    args = resolve_target(conn, resource_type="execution", url=url, explicit=explicit).args
    # Only the scope is taken from a URL: a pipeline page's URL still asks about the whole project.
    if not args.get("org_id") or not args.get("project_id"):
        raise UsageError("project status needs org_id and project_id (or a project url, or HARNESS_ORG/PROJECT)")
    return {"org_id": str(args["org_id"]), "project_id": str(args["project_id"])}


async def project_status(
    conn: Connection,
    *,
    org_id: str | None = None,
    project_id: str | None = None,
    url: str | None = None,
    window_hours: float = 24,
    now_ms: int | None = None,
    limit: int = 5,
) -> StatusReport:
    """How a project is doing over the last `window_hours`, against the window before, in at most 6 requests.

    `now_ms` is the caller's clock; without it the wall clock is read here, at the service edge.

    Raises:
        UsageError: no org or project can be told, or limit/window_hours is out of range.
        HarnessError: Harness refused or failed.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"limit must be between 1 and {MAX_LIMIT}")
    if not 0 < window_hours <= MAX_WINDOW_HOURS:
        raise UsageError(f"window_hours must be above 0 and at most {MAX_WINDOW_HOURS} (31 days)")
    scope = _scope(conn, org_id, project_id, url)
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    span = int(window_hours * _HOUR_MS)
    current = _Window(now - span, now)
    previous = _Window(now - 2 * span, now - span - 1)  # timeRange bounds are inclusive
    before = conn.client.requests_made
    running = await _fetch(conn, scope, (current, previous), limit)
    stats, prior = (
        window_stats(w.start_ms, w.end_ms, w.items, w.total, more=w.next_page is not None) for w in (current, previous)
    )
    change = None
    if stats.success_rate is not None and prior.success_rate is not None:
        change = round((stats.success_rate - prior.success_rate) * 100, 1)
    failed = [i for i in current.items if (s := _status(i)) is not None and s.is_failure]
    failed.sort(key=lambda i: -(_int(i.get("startTs")) or 0))  # newest first, whatever order Harness used
    project_path = f"/ng/account/{conn.account_id}/all/orgs/{scope['org_id']}/projects/{scope['project_id']}"
    return StatusReport(
        org_id=scope["org_id"],
        project_id=scope["project_id"],
        now=iso_time(now),
        window_hours=window_hours,
        window=stats,
        previous_window=prior,
        rate_change_points=change,
        verdict=verdict_for(stats, prior, window_hours),
        running_count=max(running.total_items or 0, len(running.items)),
        running_executions=[_row(conn, scope, i) for i in running.items if isinstance(i, Mapping)],
        failed_executions=[_row(conn, scope, i) for i in failed[:limit]],
        top_failing_pipelines=top_failing(conn, scope, current.items, limit),
        requests_made=conn.client.requests_made - before,
        link=f"{conn.ui_base_url.rstrip('/')}{project_path}/executions",
    )
