"""Is a failing test flaky or broken? One test's recent results, judged around one failed execution. Pure.

- **flaky**: it passed on the same commit (a retry, a re-run, another pipeline), the runner itself reported it as
  flaky, or it fails on and off: failures apart from this one with passes in between.
- **broken**: it failed on every run of the pipeline (first attempts, this branch) from some commit on, at
  least twice in a row across commits, with no pass since: the commit that started the streak broke it.
- **new**: its only failure in the window is this run's commit (it passed before and after, never failed
  elsewhere): the commit under test most likely broke it, as a pull request's commit that the next one fixes.

First attempts decide streaks; retries only count as same-commit passes, so a retry that hides a flake still
reveals it.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness_connector.analysis.failures.classifier import TestSignal
from harness_connector.domain.history import TestOutcome
from harness_connector.store.rows import TestRunRow

__all__ = ["judge_test"]

_FAILED = frozenset({TestOutcome.FAILED, TestOutcome.ERROR})
_PASSED = frozenset({TestOutcome.PASSED, TestOutcome.FLAKY})
# Below this many other runs, "it never failed elsewhere" says little about a test that fails 1 time in 20.
_MIN_OTHER_RUNS = 5


def _first_attempts(rows: Sequence[TestRunRow], pipeline_id: str | None, branch: str | None) -> list[TestRunRow]:
    """First attempts on the same pipeline (and branch, when it has enough runs), oldest first."""
    same = [r for r in rows if not r.is_retry and r.outcome is not TestOutcome.SKIPPED]
    if pipeline_id:
        same = [r for r in same if r.pipeline_id == pipeline_id] or same
    if branch:
        on_branch = [r for r in same if r.branch == branch]
        if len(on_branch) >= 3:
            same = on_branch
    return sorted(same, key=lambda r: (r.run_ms or 0, r.execution_id))


def judge_test(
    name: str,
    rows: Sequence[TestRunRow],
    *,
    execution_id: str,
    commit_sha: str | None,
    pipeline_id: str | None,
    branch: str | None,
) -> TestSignal:
    """The verdict on one test that failed in `execution_id`, from its results in a window (any order)."""
    if any(r.outcome is TestOutcome.FLAKY and r.execution_id == execution_id for r in rows):
        return TestSignal(name, "flaky", "the test runner itself reported it as flaky in this run")
    if commit_sha:
        same_commit = [r for r in rows if r.commit_sha == commit_sha and r.outcome in _PASSED]
        if same_commit:
            where = "a retry" if any(r.execution_id == execution_id for r in same_commit) else "another run"
            return TestSignal(name, "flaky", f"it passed on the same commit in {where}")
    runs = _first_attempts(rows, pipeline_id, branch)
    index = next((i for i, r in enumerate(runs) if r.execution_id == execution_id), None)
    if index is None:
        return TestSignal(name, "unknown", "no stored result of this run to compare with")
    start = index
    while start > 0 and runs[start - 1].outcome in _FAILED:
        start -= 1
    end = index
    while end + 1 < len(runs) and runs[end + 1].outcome in _FAILED:
        end += 1
    streak = runs[start : end + 1]
    # The breakage this streak belongs to lasts until the next pass on this pipeline and branch; failures
    # elsewhere in that span (other pipelines, pull requests on top of the broken commit) are the same breakage.
    span_start = streak[0].run_ms or 0
    span_end = runs[end + 1].run_ms or 0 if end + 1 < len(runs) else None
    in_streak = {r.execution_id for r in streak} | {r.commit_sha for r in streak if r.commit_sha}
    elsewhere = [
        r
        for r in rows
        if r.outcome in _FAILED
        and not r.is_retry
        and r.execution_id not in in_streak
        and r.commit_sha not in in_streak
        and not (span_start <= (r.run_ms or 0) and (span_end is None or (r.run_ms or 0) < span_end))
    ]
    passes = sum(r.outcome in _PASSED for r in runs)
    if elsewhere and passes:
        return TestSignal(
            name,
            "flaky",
            f"it also failed {len(elsewhere)} time(s) at other times in the window, with passes in between",
        )
    if len(streak) >= 2:
        first = streak[0]
        return TestSignal(
            name,
            "broken",
            f"it failed on all {len(streak)} runs since commit {(first.commit_sha or '?')[:12]}, with no pass since",
            since_commit=first.commit_sha,
        )
    this = runs[index]
    if start > 0 and end + 1 < len(runs) and this.pr_number is None:
        # On a branch builds land on, a breaking commit keeps failing until a fix; one failure between passes is not.
        return TestSignal(name, "flaky", f"it failed once on {this.branch or 'its branch'} and passed on the next run")
    if len(runs) - 1 < _MIN_OTHER_RUNS:
        return TestSignal(name, "unknown", f"only {len(runs) - 1} other run(s) in the window: too little to judge")
    if start > 0 or end + 1 < len(runs):
        return TestSignal(
            name,
            "new",
            f"it passed on the other {len(runs) - 1} run(s) and never failed elsewhere: this commit likely broke it",
            since_commit=commit_sha,
        )
    return TestSignal(name, "unknown", "too little history to judge")
