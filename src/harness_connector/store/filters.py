"""What the store's list queries can be narrowed by. Every field left at its default matches everything; windows
are half-open `[since_ms, until_ms)` in epoch milliseconds."""

from __future__ import annotations

from dataclasses import dataclass

from harness_connector.domain.history import TestOutcome

__all__ = ["ExecutionFilter", "TestResultFilter"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TestResultFilter:
    """Which stored test results to list. `search` matches a case-insensitive substring of the test's name, class
    or suite; `outcomes` is the status filter."""

    __test__ = False

    test_id: str | None = None
    search: str | None = None
    suite: str | None = None
    pipeline_id: str | None = None
    outcomes: tuple[TestOutcome, ...] = ()
    branch: str | None = None
    commit_sha: str | None = None
    execution_id: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionFilter:
    """Which stored executions to list. `statuses` match any Harness spelling (`Failed`, `FAILED`);
    `failed_only` keeps the executions whose status counts as a failure."""

    org: str | None = None
    project: str | None = None
    pipeline_id: str | None = None
    statuses: tuple[str, ...] = ()
    failed_only: bool = False
    branch: str | None = None
    commit_sha: str | None = None
    pr_number: int | None = None
    since_ms: int | None = None
    until_ms: int | None = None
