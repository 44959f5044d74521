"""A step's JUnit reports turned into the test-case rows ti-service's `/reports/write` takes.

The files are read with the project's JUnit reader, which refuses hostile XML (entities, huge trees) and knows
the dialects (Surefire reruns, pytest, jest, ...). ti-service keeps one row per test case, so a test that ran
more than once is reported by the attempt that decided it: the final pass of a flaky test (as `passed`; ti-service
has no flaky status), otherwise its first attempt. Report globs are matched inside the task's workspace only: a
pattern that reaches out of it (`../..`, an absolute path, a symbolic link) names nothing the step produced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from harness_connector.delegate.protocol import TaskPayload
from harness_connector.domain.history import TestOutcome, TestResult
from harness_connector.junit import CaseDetail, JUnitContext, JUnitError, find_report_files, parse_file

__all__ = ["CollectedReports", "collect_reports", "report_query", "test_case_rows"]

_TI_STATUS = {
    TestOutcome.PASSED: "passed",
    TestOutcome.FLAKY: "passed",
    TestOutcome.FAILED: "failed",
    TestOutcome.ERROR: "error",
    TestOutcome.SKIPPED: "skipped",
}


@dataclass(slots=True, kw_only=True)
class CollectedReports:
    """The rows of every readable report file, and how many files gave them."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    files: int = 0


def report_query(payload: TaskPayload) -> dict[str, str]:
    """The ids that name the step's build in ti-service (the account id is added by the API)."""
    return {
        "orgId": payload.org_identifier,
        "projectId": payload.project_identifier,
        "pipelineId": payload.pipeline_identifier,
        "buildId": str(payload.run_sequence),
        "stageId": payload.stage_identifier,
        "stepId": payload.step_identifier,
    }


def _deciding(results: tuple[TestResult, ...]) -> list[TestResult]:
    """One record per test: its FLAKY pass if there is one, else its first attempt (file order kept)."""
    chosen: dict[str, TestResult] = {}
    for record in results:
        current = chosen.get(record.test_id)
        if (
            current is None
            or record.outcome is TestOutcome.FLAKY
            or (current.outcome is not TestOutcome.FLAKY and record.attempt < current.attempt)
        ):
            chosen[record.test_id] = record
    return list(chosen.values())


def test_case_rows(
    results: tuple[TestResult, ...], details: dict[tuple[str, int], CaseDetail], file_name: str
) -> list[dict[str, Any]]:
    """ti-service TestCase rows for one file's records."""
    rows: list[dict[str, Any]] = []
    for record in _deciding(results):
        detail = details.get((record.test_id, record.attempt))
        status = _TI_STATUS[record.outcome]
        failed = status in ("failed", "error")
        rows.append(
            {
                "name": record.name,
                "class_name": record.class_name,
                "suite_name": record.suite,
                "file_name": record.file or file_name,
                "result": {
                    "status": status,
                    "message": (record.message or "") if status != "passed" else "",
                    "type": (record.failure_type or "") if failed else "",
                    "desc": (detail.text or "") if detail and failed else "",
                },
                "duration_ms": record.duration_ms,
                "stdout": (detail.stdout or "") if detail else "",
                "stderr": (detail.stderr or "") if detail else "",
            }
        )
    return rows


def _keep_detail(details: dict[tuple[str, int], CaseDetail], detail: CaseDetail) -> None:
    details[(detail.test_id, detail.attempt)] = detail


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def collect_reports(payload: TaskPayload, workspace: Path, warn: Callable[[str], None]) -> CollectedReports:
    """Read the step's `report_paths` under `workspace`; each problem becomes a `warn` line, never an exception."""
    collected = CollectedReports()
    if not payload.report_paths:
        return collected
    found = find_report_files(payload.report_paths, base=workspace)
    for pattern in found.unmatched:
        warn(f"test reports: no file matches {pattern!r}")
    context = JUnitContext(
        execution_id=payload.plan_execution_id,
        pipeline_id=payload.pipeline_identifier,
        stage_id=payload.stage_identifier,
        step_id=payload.step_identifier,
    )
    for path in found.files:
        shown = str(path.relative_to(workspace.resolve())) if _inside(path, workspace) else str(path)
        if not _inside(path, workspace):
            warn(f"test reports: {shown} is outside the step's workspace; it is not read")
            continue
        details: dict[tuple[str, int], CaseDetail] = {}
        try:
            parsed = parse_file(path, context, on_detail=partial(_keep_detail, details))
        except JUnitError as exc:
            warn(f"test reports: {shown} cannot be read: {exc.problem}" + (f" ({exc.hint})" if exc.hint else ""))
            continue
        except OSError as exc:
            warn(f"test reports: {shown} cannot be read: {exc.strerror or exc}")
            continue
        collected.rows.extend(test_case_rows(parsed.results, details, shown))
        collected.files += 1
    return collected
