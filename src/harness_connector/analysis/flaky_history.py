"""What one test's ordered history says: passes in a row, a broken streak, flips on the default branch with
hysteresis, and whether its failures look environment-dependent.

A history is what `Store.test_history` returns: `TestRunRow`s newest first. Only first attempts count as runs
(a retry happens only after a failure, and its pass would hide the failure); skipped results and the results of
executions the outage guard set aside are left out.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness_connector.analysis.flaky_models import FlakyPolicy
from harness_connector.domain.history import TestOutcome

# Annotations only: importing the store package at run time would load its database engine.
if TYPE_CHECKING:
    from harness_connector.store.rows import TestRunRow

__all__ = [
    "BranchFlips",
    "BrokenStreak",
    "branch_flips",
    "broken_streak",
    "consecutive_passes",
    "environment_reason",
    "should_lift",
]

_FAILING = frozenset((TestOutcome.FAILED, TestOutcome.ERROR, TestOutcome.FLAKY))
_ENVIRONMENT = re.compile(
    r"time[d ]?out|timed out|deadline exceeded|connection (?:refused|reset|closed)|econn|enotfound|eai_again|"
    r"could not resolve|name resolution|\bdns\b|socket|network|unreachable|\b50[234]\b|service unavailable|"
    r"too many requests|rate limit|no space left|out of memory|oomkilled|port .*in use|address already in use",
    re.IGNORECASE,
)


def _leading_passes(history: Sequence[TestRunRow], ignore: Collection[str]) -> int:
    count = 0
    for row in history:
        if row.outcome is TestOutcome.SKIPPED or row.execution_id in ignore:
            continue
        if row.outcome in _FAILING:
            break
        if not row.is_retry:
            count += 1
    return count


def consecutive_passes(history: Sequence[TestRunRow], *, ignore_executions: Collection[str] = ()) -> int:
    """How many first attempts in a row passed, counting back from the newest; any failure, error or runner-
    reported flake (at any attempt) ends the count."""
    return _leading_passes(history, ignore_executions)


def should_lift(
    history: Sequence[TestRunRow], *, consecutive_passes: int = 20, ignore_executions: Collection[str] = ()
) -> bool:
    """Whether a quarantined test has earned its way back: its latest `consecutive_passes` first attempts passed.

    Quarantined tests keep running, so their results keep arriving. The default is stricter than the 5 passes that
    clear a FLAKY badge: a test failing 10 % of the time passes 5 in a row 59 % of the time, but 20 in a row only
    12 % of the time.
    """
    return _leading_passes(history, ignore_executions) >= consecutive_passes


@dataclass(frozen=True, slots=True)
class BrokenStreak:
    """The newest first attempts, all failed with no pass among them, and where the streak began."""

    runs: int
    since_ms: int | None
    since_commit: str | None


def _passed_on(history: Sequence[TestRunRow], commits: set[str], ignore_executions: Collection[str]) -> set[str]:
    """Which of `commits` the test passed on at some attempt, on any branch, or the runner reported it flaky."""
    return {
        row.commit_sha
        for row in history
        if row.commit_sha in commits
        and (row.outcome is TestOutcome.PASSED or row.outcome is TestOutcome.FLAKY)
        and row.execution_id not in ignore_executions
    }


def broken_streak(
    history: Sequence[TestRunRow],
    *,
    branch: str | None = None,
    ignore_executions: Collection[str] = (),
    passed_commits: Collection[str] = (),
) -> BrokenStreak:
    """The failing first attempts since the last pass (of any attempt) or runner-reported flake, on `branch` when
    given (a test failing on someone's work-in-progress branch is not broken).

    A broken test fails consistently since a commit, so the streak also ends at a failure on a commit that passed
    at any attempt, on any branch, whether the pass is in the history or among `passed_commits` (what the
    per-commit counts know beyond it). The history is ordered by time, and a commit's pass may come before its
    failures (a rerun of the same head commit, a pull-request build of it): that commit's code can pass, so
    failing on it is flakiness, not breakage.
    """
    streak: list[TestRunRow] = []
    for row in history:
        if row.outcome is TestOutcome.SKIPPED or row.execution_id in ignore_executions:
            continue
        if branch is not None and row.branch != branch:
            continue
        if row.outcome is TestOutcome.PASSED or row.outcome is TestOutcome.FLAKY:
            break
        if not row.is_retry:
            streak.append(row)
    if not streak:
        return BrokenStreak(0, None, None)
    # Looked for only once there is a streak: most tests judged have none, and a history is read in one pass.
    commits = {row.commit_sha for row in streak if row.commit_sha is not None}
    passed = _passed_on(history, commits, ignore_executions)
    passed.update(commit for commit in commits if commit in passed_commits)
    runs = next((index for index, row in enumerate(streak) if row.commit_sha in passed), len(streak))
    if runs == 0:
        return BrokenStreak(0, None, None)
    first = streak[runs - 1]
    return BrokenStreak(runs, first.run_ms, first.commit_sha)


@dataclass(frozen=True, slots=True)
class BranchFlips:
    """The default-branch detector's findings over a history.

    `flips` are changes of outcome no code change explains, `unexplained` the failures among them; `flaky` is the
    detector's state after the newest run, and `started_ms`/`started_commit` the first flagged run of the window in
    which it last became flaky.
    """

    runs: int
    flips: int
    flip_rate: float
    unexplained: int
    flaky: bool
    started_ms: int | None
    started_commit: str | None


@dataclass(frozen=True, slots=True)
class _Run:
    failed: bool
    commit: str | None
    ms: int | None


def _branch_runs(history: Sequence[TestRunRow], branch: str, ignore: Collection[str]) -> list[_Run]:
    runs = [
        _Run(row.outcome in _FAILING, row.commit_sha, row.run_ms)
        for row in history
        if row.branch == branch
        and not row.is_retry
        and row.outcome is not TestOutcome.SKIPPED
        and row.execution_id not in ignore
    ]
    runs.reverse()
    return runs


def _same_commit(first: _Run, second: _Run) -> bool:
    return first.commit is not None and first.commit == second.commit


def _mark(runs: list[_Run], settle: int) -> tuple[list[bool], list[bool]]:
    """For each run: whether the change into it is a flip, and whether it is an unexplained failure.

    A failure streak is explained by code when it began on a new commit and either lasted `settle` runs before a
    pass on a new commit ended it (a regression, then a fix) or has not ended yet. Otherwise the changes into and
    out of it are flips: the same commit passed and failed, or the failure went away with no time for a fix.
    """
    flip = [False] * len(runs)
    unexplained = [False] * len(runs)
    start = 0
    while start < len(runs):
        if not runs[start].failed:
            start += 1
            continue
        end = start
        while end < len(runs) and runs[end].failed:
            end += 1
        has_prev, has_next = start > 0, end < len(runs)
        short = has_next and end - start < settle
        enter_same = has_prev and _same_commit(runs[start - 1], runs[start])
        exit_same = has_next and _same_commit(runs[end - 1], runs[end])
        if short or enter_same or exit_same:
            flip[start] = has_prev
            if has_next:
                flip[end] = True
            unexplained[start:end] = [True] * (end - start)
        start = end
    return flip, unexplained


def branch_flips(
    history: Sequence[TestRunRow],
    branch: str,
    *,
    policy: FlakyPolicy,
    was_flaky: bool = False,
    ignore_executions: Collection[str] = (),
) -> BranchFlips:
    """Run the default-branch detector with hysteresis over a test's history.

    Walking the first attempts on `branch` oldest first, over the latest `history_window` of them, the test becomes
    flaky when the flip rate or the unexplained failure rate reaches the enter threshold (with at least two flips),
    and is stable again only once both are at or below the lower exit thresholds. Nothing changes before
    `history_min_runs` runs; `was_flaky` is the state to start from (a test flagged before stays flagged until it
    is clearly stable).
    """
    runs = _branch_runs(history, branch, ignore_executions)
    flip, unexplained = _mark(runs, policy.settle_runs)
    state = was_flaky
    started: int | None = None
    window = policy.history_window
    flips_in = failures_in = 0
    for index in range(len(runs)):
        flips_in += flip[index]
        failures_in += unexplained[index]
        if index >= window:
            flips_in -= flip[index - window]
            failures_in -= unexplained[index - window]
        size = min(index + 1, window)
        if size < policy.history_min_runs:
            continue
        flip_rate = flips_in / (size - 1)
        failure_rate = failures_in / size
        if (
            not state
            and flips_in >= 2
            and (flip_rate >= policy.enter_flip_rate or failure_rate >= policy.enter_failure_rate)
        ):
            state = True
            first = index + 1 - size
            started = next(i for i in range(first, index + 1) if flip[i] or unexplained[i])
        elif state and flip_rate <= policy.exit_flip_rate and failure_rate <= policy.exit_failure_rate:
            state = False
            started = None
    flips = sum(flip)
    return BranchFlips(
        runs=len(runs),
        flips=flips,
        flip_rate=flips / (len(runs) - 1) if len(runs) > 1 else 0.0,
        unexplained=sum(unexplained),
        flaky=state,
        started_ms=runs[started].ms if started is not None else None,
        started_commit=runs[started].commit if started is not None else None,
    )


def environment_reason(
    history: Sequence[TestRunRow], *, share: float, ignore_executions: Collection[str] = ()
) -> str | None:
    """Why a test's failures look environment-dependent, or None: most of them mention timeouts, the network or
    resources, or all of them happened in one pipeline while it passed in others."""
    # A retry marked flaky is the pass that ended the failed attempts before it (as Surefire's final attempt is
    # stored), not one more failure; a first attempt marked flaky did fail before it passed.
    failures = [
        row
        for row in history
        if row.outcome in _FAILING
        and not (row.is_retry and row.outcome is TestOutcome.FLAKY)
        and row.execution_id not in ignore_executions
    ]
    if len(failures) < 2:
        return None
    environmental = sum(1 for row in failures if _ENVIRONMENT.search(f"{row.failure_type or ''} {row.message or ''}"))
    if environmental >= share * len(failures):
        return f"{environmental} of {len(failures)} failures mention timeouts, the network or resources"
    failing_pipelines = {row.pipeline_id for row in failures}
    if None in failing_pipelines:
        return None
    passing_elsewhere = {
        row.pipeline_id
        for row in history
        if row.outcome is TestOutcome.PASSED
        and row.pipeline_id is not None
        and row.pipeline_id not in failing_pipelines
    }
    if len(failures) >= 3 and len(failing_pipelines) == 1 and len(passing_elsewhere) >= 2:
        (pipeline,) = failing_pipelines
        return (
            f"all {len(failures)} failures ran in pipeline {pipeline}, "
            f"while it passed in {len(passing_elsewhere)} other pipelines"
        )
    return None
