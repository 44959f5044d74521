"""The typed rows the store's named queries return. Aggregates are computed by the store's SQL engine; a row holds
the numbers an analysis needs, never raw result sets. Times are epoch milliseconds (UTC); windows are half-open
`[since_ms, until_ms)`.

A *first attempt* is attempt 1 of a test in an execution that is not a rerun; everything else (later attempts,
and the results of a rerun execution) is a *retry*. Retries only happen after a failure, so counting them with first
attempts would bias failure rates; analyses get both, apart.

Query rows take positional arguments, in the order of the columns the store's SQL selects: the store builds them
by the hundred thousand, and keyword construction costs twice as much. The two the flaky report reads by the
hundred thousand, `TestCommitRow` and `TestTotalsRow`, are named tuples: a frozen dataclass sets each field through
`object.__setattr__`, which makes building them four times slower.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

from harness_connector.domain.history import TestOutcome

__all__ = [
    "ExecutionTestsRow",
    "Page",
    "PipelineFailureRow",
    "ProjectSummary",
    "SignatureOccurrenceRow",
    "StepDurationRow",
    "StepRunRow",
    "TestCommitRow",
    "TestFailureRow",
    "TestRunRow",
    "TestTotalsRow",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Generic[T]):
    """One 0-based page of a filtered list, with the size of the whole list."""

    items: tuple[T, ...]
    page: int
    size: int
    total: int

    @property
    def has_more(self) -> bool:
        """True when a later page holds more items."""
        return (self.page + 1) * self.size < self.total


class TestCommitRow(NamedTuple):
    """How one test went on one commit: the unit of flaky-test evidence.

    `runs == passed + failed + flaky` (first attempts that ran); `retries` counts every retry that ran, of which
    `retries_passed` passed and `retries_failed` failed or errored. `flaky` counts first attempts the test runner
    itself reported as failed-then-passed. Skips, at any attempt, are only in `skipped`.
    """

    test_id: str
    commit_sha: str
    runs: int
    passed: int
    failed: int
    flaky: int
    retries: int
    retries_passed: int
    retries_failed: int
    skipped: int
    executions: int
    first_ms: int
    last_ms: int


TestCommitRow.__test__ = False  # type: ignore[attr-defined]  # a row, not a pytest test class


class TestTotalsRow(NamedTuple):
    """One test's totals over a window, counted as in `TestCommitRow`: the denominators of flakiness scores."""

    test_id: str
    suite: str
    class_name: str
    name: str
    runs: int
    passed: int
    failed: int
    flaky: int
    retries: int
    retries_passed: int
    retries_failed: int
    skipped: int
    mean_duration_ms: float
    first_ms: int
    last_ms: int


TestTotalsRow.__test__ = False  # type: ignore[attr-defined]  # a row, not a pytest test class


@dataclass(frozen=True, slots=True)
class TestRunRow:
    """One stored test result, with what its execution adds: whether it is a retry, and its start as `run_ms`
    when the result has no time of its own."""

    __test__ = False

    test_id: str
    suite: str
    class_name: str
    name: str
    outcome: TestOutcome
    attempt: int
    is_retry: bool
    duration_ms: int
    message: str | None
    failure_type: str | None
    execution_id: str
    pipeline_id: str | None
    stage_id: str | None
    step_id: str | None
    commit_sha: str | None
    branch: str | None
    pr_number: int | None
    run_ms: int | None


@dataclass(frozen=True, slots=True)
class SignatureOccurrenceRow:
    """Where a log signature was seen: one row per pipeline and branch, with the first and last execution."""

    pipeline_id: str | None
    branch: str | None
    executions: int
    occurrences: int
    first_ms: int
    last_ms: int
    first_execution_id: str
    first_commit_sha: str | None
    last_execution_id: str


@dataclass(frozen=True, slots=True)
class StepDurationRow:
    """Duration statistics of one stage or step over its successful runs, and how many runs failed.

    Percentiles are continuous (interpolated); they are None when no successful run had both ends recorded.
    """

    pipeline_id: str
    stage_id: str
    step_id: str | None
    runs: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None
    max_ms: int | None


@dataclass(frozen=True, slots=True)
class StepRunRow:
    """One past run of a stage or step: how it ended, where it ran, and for which change."""

    execution_id: str
    status: str
    is_failure: bool
    failure_types: tuple[str, ...]
    failure_message: str | None
    delegate: str | None
    started_ms: int | None
    duration_ms: int | None
    commit_sha: str | None
    branch: str | None


@dataclass(frozen=True, slots=True)
class PipelineFailureRow:
    """A pipeline's runs and failed runs in a window."""

    pipeline_id: str
    pipeline_name: str | None
    runs: int
    failures: int
    last_failure_ms: int | None


@dataclass(frozen=True, slots=True)
class TestFailureRow:
    """A test's first-attempt runs and failures in a window."""

    __test__ = False

    test_id: str
    suite: str
    class_name: str
    name: str
    runs: int
    failures: int
    last_failure_ms: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectSummary:
    """The state of a project (or of the whole store) over a window, for status insights."""

    since_ms: int
    until_ms: int
    executions: int
    succeeded: int
    failed: int
    top_failing_pipelines: tuple[PipelineFailureRow, ...]
    most_failing_tests: tuple[TestFailureRow, ...]

    @property
    def failure_rate(self) -> float | None:
        """Failed executions over all executions, or None for an empty window."""
        return self.failed / self.executions if self.executions else None


@dataclass(frozen=True, slots=True)
class ExecutionTestsRow:
    """One execution in the window and how its tests went (the input of the outage guard and of impact).

    `tests` and `tests_failed` count attempt-1 results of the execution (skips excluded; failed includes errors);
    `failed_tests` are the tests whose last attempt in the execution failed or errored, i.e. the tests that made it
    fail. `failed` is whether the execution ended failed; `retry_of` the execution it re-ran, if it is a rerun.
    Positional, in this order, like the store's rows.
    """

    execution_id: str
    pipeline_id: str | None
    commit_sha: str | None
    started_ms: int
    duration_ms: int | None
    failed: bool
    retry_of: str | None
    tests: int
    tests_failed: int
    failed_tests: tuple[str, ...]
