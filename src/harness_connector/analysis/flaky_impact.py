"""What flaky tests cost, and which executions to leave out because everything failed at once.

Both read `ExecutionTestsRow`s, one per execution in the window: the store can produce them with one aggregate
over its `test_runs` view joined to `executions` (group by execution; count attempt-1 results that ran and those
that failed or errored; list the tests whose last attempt failed or errored). Without them, the outage guard falls
back to the per-commit rows (`mass_failure_commits`), and the execution-based impact numbers are None.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from harness_connector.analysis.flaky_models import ExecutionTestsRow, OutageGuard, Trend
from harness_connector.analysis.flaky_stats import trend_direction

# Annotations only: importing the store package at run time would load its database engine.
if TYPE_CHECKING:
    from harness_connector.store.rows import TestCommitRow

__all__ = ["ExecutionImpact", "TestCost", "execution_impact", "failure_trend", "mass_failure_commits", "outage_guard"]


def outage_guard(executions: Iterable[ExecutionTestsRow], *, share: float = 0.5, min_tests: int = 20) -> OutageGuard:
    """The executions (and their commits) in which at least `share` of the tests that ran failed on their first
    attempt, among executions that ran at least `min_tests` tests."""
    ids: set[str] = set()
    commits: set[str] = set()
    for row in executions:
        if row.tests >= min_tests and row.tests_failed >= share * row.tests:
            ids.add(row.execution_id)
            if row.commit_sha is not None:
                commits.add(row.commit_sha)
    return OutageGuard(executions=frozenset(ids), commits=frozenset(commits))


def mass_failure_commits(
    commits: Iterable[TestCommitRow], *, tests: int, share: float = 0.5, min_tests: int = 20
) -> frozenset[str]:
    """Commits on which at least `share` of all `tests` (and at least `min_tests`) failed a first attempt.

    The coarse guard for when no `ExecutionTestsRow`s are at hand: it compares with the whole catalogue, so it
    misses an outage that hit only a pipeline running a small part of the tests.
    """
    failing = Counter(row.commit_sha for row in commits if row.failed)
    threshold = max(min_tests, share * tests)
    return frozenset(commit for commit, count in failing.items() if count >= threshold)


@dataclass(slots=True)
class TestCost:
    """One test's share of the executions flaky tests failed."""

    __test__ = False

    failed_executions: int = 0
    reruns: int = 0
    execution_minutes: float = 0.0
    pipelines: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class ExecutionImpact:
    """Executions that failed only because of flaky tests, their reruns and their minutes, overall and per test."""

    failed_executions: int
    reruns: int
    minutes: float
    pipelines: tuple[str, ...]
    per_test: dict[str, TestCost]


def execution_impact(
    executions: Sequence[ExecutionTestsRow],
    flaky: Collection[str],
    *,
    tests: Collection[str],
    ignore_executions: Collection[str] = (),
) -> ExecutionImpact:
    """Attribute failed executions to flaky tests.

    An execution failed only because of flaky tests when it failed, some tests failed in it, and every one of them
    is in `flaky`; its minutes are shared among them, and each rerun of it counts for each. Per test (for `tests`),
    also the pipelines of every failed execution it was among the failures of.
    """
    per_test: dict[str, TestCost] = {}
    culprits: dict[str, tuple[str, ...]] = {}
    pipelines: set[str] = set()
    minutes = 0.0
    for row in executions:
        if not row.failed or not row.failed_tests or row.execution_id in ignore_executions:
            continue
        for test_id in row.failed_tests:
            if test_id in tests and row.pipeline_id is not None:
                per_test.setdefault(test_id, TestCost()).pipelines.add(row.pipeline_id)
        if not all(test_id in flaky for test_id in row.failed_tests):
            continue
        culprits[row.execution_id] = row.failed_tests
        spent = (row.duration_ms or 0) / 60_000
        minutes += spent
        if row.pipeline_id is not None:
            pipelines.add(row.pipeline_id)
        for test_id in row.failed_tests:
            cost = per_test.setdefault(test_id, TestCost())
            cost.failed_executions += 1
            cost.execution_minutes += spent / len(row.failed_tests)
    reruns = 0
    for row in executions:
        if row.retry_of is not None and row.retry_of in culprits:
            reruns += 1
            for test_id in culprits[row.retry_of]:
                per_test[test_id].reruns += 1
    return ExecutionImpact(len(culprits), reruns, minutes, tuple(sorted(pipelines)), per_test)


def failure_trend(
    rows: Iterable[TestCommitRow],
    *,
    start_ms: int,
    bucket_ms: int,
    buckets: int,
    ignore_commits: Collection[str] = (),
) -> Trend:
    """First-attempt failures (runner-reported flakes included) per bucket, placed by each commit's first run."""
    counts = [0] * buckets
    last = buckets - 1
    for row in rows:
        failures = row.failed + row.flaky
        if failures and row.commit_sha not in ignore_commits:
            index = (row.first_ms - start_ms) // bucket_ms
            counts[0 if index < 0 else last if index > last else index] += failures
    return trend_of(counts, start_ms=start_ms, bucket_ms=bucket_ms)


def trend_of(counts: Sequence[int], *, start_ms: int, bucket_ms: int) -> Trend:
    """A `Trend` of given bucket counts."""
    series = tuple(counts)
    return Trend(start_ms=start_ms, bucket_ms=bucket_ms, counts=series, direction=trend_direction(series))
