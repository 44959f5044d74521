"""How each test is judged from its aggregates and, when given, its history: the same-commit evidence collected
from the per-commit rows (the one pass over hundreds of thousands of rows), the counts with outages taken out, and
the broken, same-commit and default-branch detectors. Used by `flaky.detect_flaky`; not a public interface.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import attrgetter
from typing import TYPE_CHECKING

from harness_connector.analysis.flaky_history import (
    BranchFlips,
    branch_flips,
    broken_streak,
    consecutive_passes,
    environment_reason,
)
from harness_connector.analysis.flaky_models import Classification, FlakyPolicy

# Annotations only: importing the store package at run time would load its database engine.
if TYPE_CHECKING:
    from harness_connector.store.rows import TestCommitRow, TestRunRow, TestTotalsRow

__all__ = ["NO_DROPS", "Context", "Evidence", "Judged", "collect", "judge"]

# Runs, passed, failures, retries, retries passed and retries failed on commits set aside.
NO_DROPS = (0, 0, 0, 0, 0, 0)
_TEST_ID = attrgetter("test_id")


class Evidence:
    """One test's per-commit rows, its same-commit evidence, and the counts on commits set aside."""

    __slots__ = (
        "dropped",
        "first_commit",
        "first_ms",
        "last_ms",
        "pass_on_retry",
        "rows",
        "runner_flaky",
        "same_commit",
    )

    def __init__(self) -> None:
        self.rows: list[TestCommitRow] = []
        self.same_commit = self.pass_on_retry = self.runner_flaky = 0
        self.first_ms: int | None = None
        self.first_commit: str | None = None
        self.last_ms: int | None = None
        self.dropped = NO_DROPS

    def drop(self, row: TestCommitRow) -> None:
        runs, passed, failures, retries, retries_passed, retries_failed = self.dropped
        self.dropped = (
            runs + row.runs,
            passed + row.passed,
            failures + row.failed + row.flaky,
            retries + row.retries,
            retries_passed + row.retries_passed,
            retries_failed + row.retries_failed,
        )

    def add(self, row: TestCommitRow) -> None:
        self.same_commit += 1
        self.runner_flaky += row.flaky
        if row.failed and row.retries_passed:
            self.pass_on_retry += 1
        if self.first_ms is None or row.first_ms < self.first_ms:
            self.first_ms, self.first_commit = row.first_ms, row.commit_sha
        if self.last_ms is None or row.last_ms > self.last_ms:
            self.last_ms = row.last_ms


def collect(commits: Iterable[TestCommitRow], ignore_commits: Collection[str]) -> dict[str, Evidence]:
    """Each test's rows and evidence. The hot loop over hundreds of thousands of rows, so it groups the store's
    test-ordered rows in runs (any order is still correct) and does a few attribute tests per row."""
    found: dict[str, Evidence] = {}
    for test_id, group in groupby(commits, _TEST_ID):
        evidence = found.get(test_id)
        if evidence is None:
            evidence = found[test_id] = Evidence()
        rows = evidence.rows
        for row in group:
            if ignore_commits and row.commit_sha in ignore_commits:
                evidence.drop(row)
                continue
            rows.append(row)
            if row.flaky or ((row.failed or row.retries_failed) and (row.passed or row.retries_passed)):
                evidence.add(row)
    return found


@dataclass(frozen=True, slots=True)
class Context:
    """What every test is judged against."""

    policy: FlakyPolicy
    since_ms: int
    until_ms: int
    ignore_executions: frozenset[str]
    default_branch: str | None
    known_flaky: Collection[str]


@dataclass(slots=True)
class Judged:
    """A test's classification before impact and recommendation are known."""

    totals: TestTotalsRow
    evidence: Evidence | None
    history: Sequence[TestRunRow] | None
    runs: int = 0
    failures: int = 0
    retries: int = 0
    retries_passed: int = 0
    classification: Classification = Classification.STABLE
    detectors: list[str] = field(default_factory=list)
    broken: tuple[int, int | None, str | None] = (0, None, None)
    passes: int | None = None
    recovered: bool = False
    flips: BranchFlips | None = None
    environment: str | None = None
    first_flaky: tuple[int | None, str | None] = (None, None)


def _counts(judged: Judged) -> int:
    """Fill in the counts with the commits set aside taken out; return the retries that failed."""
    totals, evidence = judged.totals, judged.evidence
    dropped = evidence.dropped if evidence is not None else NO_DROPS
    judged.runs = totals.runs - dropped[0]
    judged.failures = totals.failed + totals.flaky - dropped[2]
    judged.retries = totals.retries - dropped[3]
    judged.retries_passed = totals.retries_passed - dropped[4]
    return totals.retries_failed - dropped[5]


def _passed_commits(evidence: Evidence | None) -> frozenset[str]:
    """The failing commits on which the test also passed, at any attempt. The per-commit counts cover the whole
    window, where a history holds only the newest results."""
    if evidence is None:
        return frozenset()
    return frozenset(row.commit_sha for row in evidence.rows if row.passed or row.retries_passed or row.flaky)


def _broken(judged: Judged, ctx: Context) -> None:
    policy = ctx.policy
    if judged.history is not None:
        streak = broken_streak(
            judged.history,
            branch=ctx.default_branch,
            ignore_executions=ctx.ignore_executions,
            passed_commits=_passed_commits(judged.evidence),
        )
        if streak.runs >= policy.broken_min_runs:
            judged.broken = (streak.runs, streak.since_ms, streak.since_commit)
        return
    totals, evidence = judged.totals, judged.evidence
    dropped_passes = evidence.dropped[1] + evidence.dropped[4] if evidence is not None else 0
    never_passed = totals.passed + totals.retries_passed - dropped_passes <= 0 and totals.flaky == 0
    if never_passed and judged.failures >= policy.broken_min_runs and evidence is not None and evidence.rows:
        first = min((row for row in evidence.rows if row.failed), key=lambda row: row.first_ms, default=None)
        if first is not None:
            judged.broken = (judged.failures, first.first_ms, first.commit_sha)


def _flaky(judged: Judged, ctx: Context) -> None:
    policy, evidence, history = ctx.policy, judged.evidence, judged.history
    same_commit = evidence is not None and evidence.same_commit >= policy.min_same_commit
    if history is not None:
        judged.passes = consecutive_passes(history, ignore_executions=ctx.ignore_executions)
        judged.recovered = same_commit and judged.passes >= policy.recovery_passes
        judged.environment = environment_reason(
            history, share=policy.environment_share, ignore_executions=ctx.ignore_executions
        )
        if ctx.default_branch is not None:
            judged.flips = branch_flips(
                history,
                ctx.default_branch,
                policy=policy,
                was_flaky=judged.totals.test_id in ctx.known_flaky,
                ignore_executions=ctx.ignore_executions,
            )
    starts: list[tuple[int, str | None]] = []
    if same_commit and not judged.recovered and evidence is not None and evidence.first_ms is not None:
        judged.detectors.append("same_commit")
        starts.append((evidence.first_ms, evidence.first_commit))
    if judged.flips is not None and judged.flips.flaky:
        judged.detectors.append("default_branch")
        if judged.flips.started_ms is not None:
            starts.append((judged.flips.started_ms, judged.flips.started_commit))
    if starts:
        judged.first_flaky = min(starts, key=lambda start: start[0])


def judge(
    totals: TestTotalsRow, evidence: Evidence | None, ctx: Context, history: Sequence[TestRunRow] | None
) -> Judged | None:
    """Classify one test, or None when it did not fail in the window (outages set aside)."""
    if evidence is None and not (totals.failed or totals.flaky or totals.retries_failed):
        return None
    judged = Judged(totals, evidence, history)
    retries_failed = _counts(judged)
    if judged.failures <= 0 and retries_failed <= 0:
        return None
    _broken(judged, ctx)
    _flaky(judged, ctx)
    if judged.broken[0]:
        judged.classification = Classification.BROKEN
        judged.detectors = ["broken"]
    elif judged.detectors:
        slow = totals.mean_duration_ms >= ctx.policy.slow_ms
        judged.classification = Classification.SLOW_AND_FLAKY if slow else Classification.FLAKY
    return judged
