"""Test results as Harness's Test Intelligence service reports them for one build."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TestStatus(StrEnum):
    """Outcome of one test case, in ti-service's spelling."""

    __test__ = False  # not a pytest test class, despite the name

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    SKIPPED_BY_TI = "skipped_by_ti"


@dataclass(frozen=True, slots=True, kw_only=True)
class TestReportSummary:
    """Counts for one build (a pipeline run sequence), optionally narrowed to a stage and step."""

    __test__ = False

    total: int
    passed: int
    failed: int
    skipped: int
    skipped_by_ti: int = 0
    duration_ms: int = 0
    flaky: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class TestSuiteResult:
    """One suite's counts within a build."""

    __test__ = False

    name: str
    total: int
    passed: int
    failed: int
    skipped: int
    duration_ms: int
    fail_pct: float


@dataclass(frozen=True, slots=True, kw_only=True)
class TestCaseResult:
    """One test case's outcome within a build."""

    __test__ = False

    name: str
    suite: str
    class_name: str
    status: TestStatus
    duration_ms: int = 0
    file_name: str | None = None
    message: str | None = None
    failure_type: str | None = None
    stdout: str | None = None
    stderr: str | None = None
    flaky: bool = False
