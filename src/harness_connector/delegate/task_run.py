"""One task from payload to outbox record: run the script, read its reports, close its log, build the result.

The steps happen in the task's own thread; whatever the script did, the task ends with a record in the outbox,
so the step hears back. Reports are read whatever the status, as Harness does: a failed test run is exactly
when the test cases matter.
"""

from __future__ import annotations

import logging
import shutil
from typing import Any

from harness_connector.delegate.outbox import PendingDelivery
from harness_connector.delegate.protocol import TaskPayload, TaskResult
from harness_connector.delegate.task_logs import LogLevel, LogStream
from harness_connector.delegate.task_reports import CollectedReports, collect_reports, report_query
from harness_connector.delegate.tasks import TaskOutcome, TaskProcess

__all__ = ["REPORT_BATCH_ROWS", "final_line", "run_task", "task_record"]

_log = logging.getLogger("harness_connector.delegate")

# Test cases go to ti-service in calls of at most this many rows, each one a step of the outbox record.
REPORT_BATCH_ROWS = 1000


def final_line(task_id: str, outcome: TaskOutcome) -> str:
    """The last line of the task's log: how it ended, with the exit code when there is one."""
    if outcome.exit_code is not None:
        return f"Task {task_id} finished with exit code {outcome.exit_code}"
    if outcome.status == "TIMEOUT":
        return f"Task {task_id} timed out: {outcome.error_message}"
    if outcome.status == "ABORTED":
        return f"Task {task_id} was aborted: {outcome.error_message}"
    if outcome.status == "INTERRUPTED":
        return f"Task {task_id} was interrupted: {outcome.error_message}"
    return f"Task {task_id} could not run: {outcome.error_message}"


def task_record(
    payload: TaskPayload,
    outcome: TaskOutcome,
    reports: CollectedReports,
    log_batches: list[list[dict[str, Any]]],
) -> PendingDelivery:
    """What the task owes the manager, ready for the outbox."""
    result = TaskResult(
        status=outcome.status,
        exitCode=outcome.exit_code,
        errorMessage=outcome.error_message,
        outputVariables=outcome.output_variables,
        startedAt=outcome.started_at,
        finishedAt=outcome.finished_at,
        reportsUploaded=reports.files,
    )
    rows = reports.rows
    return PendingDelivery(
        task_id=payload.delegate_task_id,
        log_key=payload.log_key,
        result=result.model_dump(by_alias=True, mode="json", exclude_none=True),
        log_batches=log_batches,
        report_query=report_query(payload) if rows else {},
        report_batches=[rows[i : i + REPORT_BATCH_ROWS] for i in range(0, len(rows), REPORT_BATCH_ROWS)],
    )


def run_task(
    payload: TaskPayload, process: TaskProcess, logs: LogStream, *, delegate_name: str, keep_workspace: bool
) -> PendingDelivery:
    """Run the task to its end and return its outbox record; never raises for anything the step did."""
    task_id = payload.delegate_task_id
    logs.write("INFO", f"Task {task_id} started on delegate {delegate_name}")
    outcome = process.run()
    reports = CollectedReports()
    if process.workspace.is_dir():
        try:
            reports = collect_reports(payload, process.workspace, lambda text: logs.write("WARN", text))
        except Exception as exc:  # a report must never cost the step its result
            _log.exception("reading the reports of task %s failed", task_id)
            logs.write("WARN", f"test reports could not be read: {exc}")
    level: LogLevel = "ERROR" if outcome.status in ("ERROR", "TIMEOUT", "INTERRUPTED") else "INFO"
    logs.write(level, final_line(task_id, outcome))
    record = task_record(payload, outcome, reports, logs.close())
    if not keep_workspace:
        shutil.rmtree(process.workspace, ignore_errors=True)
    return record
