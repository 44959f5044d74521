"""Incremental, resumable sync of a project's finished executions from Harness into the history store.

For each finished execution the store does not have yet: the detail graph (stages, steps, deployments), the
test results (ti-service, by run sequence), and the logs of failed steps summarised into signatures. One
execution's records are written in one transaction, the execution itself included, so the store either knows an
execution completely or not at all: an interrupted sync loses nothing and a re-run adds no duplicates. The
project's cursor moves only after a whole window is done, and never past an execution that is still running.
When new test results arrive, approved quarantines whose tests have since passed enough first attempts in a row are
lifted, so a fixed test returns to gating builds without anyone having to remember it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio

from harness_connector.analysis.log_signatures import signatures
from harness_connector.domain import ExecutionStatus, LogSignature, StepLog, SyncCursor
from harness_connector.errors import HarnessError
from harness_connector.harness.logs import LogService
from harness_connector.harness.registry import get_resource_type
from harness_connector.harness.tests import TestReports
from harness_connector.services.connection import Connection
from harness_connector.services.history_records import deployments_of, execution_fact, node_facts, test_results
from harness_connector.services.quarantine import auto_lift
from harness_connector.services.shaping import dig
from harness_connector.store import Store

__all__ = ["SyncProgress", "SyncReport", "sync_project"]

_PAGE = 100
_OVERLAP_MS = 60 * 60 * 1000  # re-read an hour before the cursor: executions can end out of start order
_FAILED_STEPS = frozenset({"Failed", "Errored", "Expired"})


@dataclass
class SyncProgress:
    """Counts so far, for a progress bar."""

    total: int = 0
    done: int = 0
    new_executions: int = 0
    test_results: int = 0


@dataclass
class SyncReport:
    """What one sync did."""

    org: str
    project: str
    listed: int = 0
    already_known: int = 0
    still_running: int = 0
    new_executions: int = 0
    test_results: int = 0
    log_signatures: int = 0
    deployments: int = 0
    requests_made: int = 0
    quarantines_lifted: int = 0
    errors: list[str] = field(default_factory=list)
    synced_until_ms: int | None = None
    seconds: float = 0.0


async def _list_window(conn: Connection, org: str, project: str, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
    execution = get_resource_type("execution")
    args = {
        "org_id": org,
        "project_id": project,
        "body": {"timeRange": {"startTime": start_ms, "endTime": end_ms}},
    }
    rows: list[dict[str, Any]] = []
    page = 0
    while True:
        found = await conn.client.call(execution, "list", args, page=page, size=_PAGE)
        rows.extend(item for item in found.items if isinstance(item, dict))
        if not found.has_more or not found.items:
            return rows
        page += 1


def _status(row: Mapping[str, Any]) -> ExecutionStatus | None:
    try:
        return ExecutionStatus.parse(str(row.get("status") or ""))
    except ValueError:
        return None


async def _failed_step_logs(
    conn: Connection, execution_id: str, detail: Mapping[str, Any], *, keep_logs: bool
) -> tuple[list[LogSignature], list[StepLog]]:
    """The signatures of every failed step's log and, with `keep_logs`, the log itself, compressed."""
    logs = LogService(conn.client)
    out: list[LogSignature] = []
    kept: list[StepLog] = []
    for node in (dig(detail, "executionGraph.nodeMap") or {}).values():
        fqn = str(node.get("baseFqn") or "")
        key = node.get("logBaseKey")
        if ".steps." not in fqn or str(node.get("status")) not in _FAILED_STEPS or not key:
            continue
        lines = [line async for line in logs.stream_step_log(str(key))]
        parts = fqn.split(".")
        stage_id = parts[2] if len(parts) > 2 else None
        step_id = str(node.get("identifier") or "")
        if keep_logs:
            kept.append(StepLog.of_lines(execution_id, stage_id, step_id, (line.text for line in lines)))
        out.extend(
            LogSignature(
                execution_id=execution_id,
                stage_id=stage_id,
                step_id=step_id,
                template_id=signature.template_id,
                template=signature.template,
                count=signature.count,
                first_line=signature.first_line,
                sample=signature.sample,
                level=signature.level,
            )
            for signature in signatures(lines)
        )
    return out, kept


async def _ingest_one(
    conn: Connection, store: Store, org: str, project: str, row: Mapping[str, Any], *, keep_logs: bool
) -> tuple[int, int, int]:
    execution = get_resource_type("execution")
    execution_id = str(row["planExecutionId"])
    detail = await conn.client.call(
        execution,
        "get",
        {"org_id": org, "project_id": project, "execution_id": execution_id, "render_full_bottom_graph": True},
    )
    summary = dig(detail, "pipelineExecutionSummary") or row
    fact = execution_fact(conn.account_id, org, project, summary)
    nodes = node_facts(execution_id, detail)
    deployments = deployments_of(execution_id, summary, nodes)
    results = []
    if "ci" in (summary.get("modules") or []) and fact.run_sequence is not None:
        reports = TestReports(conn.client)
        cases = [
            case
            async for case in reports.iter_cases(org, project, fact.pipeline_id, str(fact.run_sequence), page_size=1000)
        ]
        results = test_results(cases, fact)
    signature_rows: list[LogSignature] = []
    step_logs: list[StepLog] = []
    if fact.status != "Success":
        signature_rows, step_logs = await _failed_step_logs(conn, execution_id, detail, keep_logs=keep_logs)

    def write() -> int:
        # The execution goes in last, inside the same transaction: "known" means "complete".
        with store.transaction():
            store.upsert_nodes(nodes)
            added = store.add_test_results(results)
            store.add_log_signatures(signature_rows)
            store.add_step_logs(step_logs)
            store.add_deployments(deployments)
            store.upsert_executions([fact])
        return added

    added = await anyio.to_thread.run_sync(write)
    return added, len(signature_rows), len(deployments)


async def sync_project(
    conn: Connection,
    store: Store,
    *,
    org: str,
    project: str,
    since_ms: int,
    now_ms: int,
    concurrency: int = 4,
    keep_logs: bool = False,
    on_progress: Callable[[SyncProgress], None] | None = None,
) -> SyncReport:
    """Bring the store up to date with the project's finished executions since `since_ms` (or the cursor).

    With `keep_logs`, the raw logs of failed steps are kept too (compressed), for later reading without Harness.

    Raises:
        HarnessError: listing the project's executions failed (a failure on one execution is recorded in the
            report's errors, and that execution is retried by the next sync).
    """
    started = time.monotonic()
    requests_before = conn.client.requests_made
    report = SyncReport(org=org, project=project)
    cursor = await anyio.to_thread.run_sync(lambda: store.get_cursor(conn.account_id, org, project))
    window_start = max(since_ms, cursor.synced_until_ms - _OVERLAP_MS) if cursor else since_ms
    rows = await _list_window(conn, org, project, window_start, now_ms)
    report.listed = len(rows)
    running_starts = [int(r.get("startTs") or now_ms) for r in rows if not ((s := _status(r)) and s.is_terminal)]
    report.still_running = len(running_starts)
    finished = [r for r in rows if (s := _status(r)) is not None and s.is_terminal and r.get("planExecutionId")]
    ids = [str(r["planExecutionId"]) for r in finished]
    known = await anyio.to_thread.run_sync(lambda: store.known_execution_ids(ids))
    todo = [r for r in finished if str(r["planExecutionId"]) not in known]
    report.already_known = len(finished) - len(todo)
    progress = SyncProgress(total=len(todo))
    if on_progress:
        on_progress(progress)
    limiter = anyio.Semaphore(max(1, concurrency))

    async def worker(row: Mapping[str, Any]) -> None:
        async with limiter:
            try:
                added, signature_count, deployment_count = await _ingest_one(
                    conn, store, org, project, row, keep_logs=keep_logs
                )
            except HarnessError as exc:
                report.errors.append(f"{row.get('planExecutionId')}: {exc}")
            else:
                report.new_executions += 1
                report.test_results += added
                report.log_signatures += signature_count
                report.deployments += deployment_count
                progress.new_executions += 1
                progress.test_results += added
            progress.done += 1
            if on_progress:
                on_progress(progress)

    async with anyio.create_task_group() as group:
        for row in todo:
            group.start_soon(worker, row)
    if not report.errors:
        # Never past a running execution: it must still be synced once it ends.
        until = min([now_ms, *running_starts])
        new_cursor = SyncCursor(
            account_id=conn.account_id, org=org, project=project, synced_until_ms=until, updated_ms=now_ms
        )
        await anyio.to_thread.run_sync(lambda: store.set_cursor(new_cursor))
        report.synced_until_ms = until
    if report.test_results:
        # Quarantined tests keep running; their new results are what earns them their way back.
        lifted = await anyio.to_thread.run_sync(lambda: auto_lift(store, now_ms=now_ms))
        report.quarantines_lifted = len(lifted)
    report.requests_made = conn.client.requests_made - requests_before
    report.seconds = round(time.monotonic() - started, 3)
    return report
