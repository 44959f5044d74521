"""Flaky-test reports from the history store: the store's aggregates fed to the pure detector.

One report costs four aggregate queries (totals, failing test-commit pairs, per-execution test counts, the busiest
branch) and one batched history query for the few tests whose history changes their verdict. The tests under an
approved quarantine are passed as known flaky, so they stay flagged until they are clearly stable again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from harness_connector.analysis.flaky import (
    DEFAULT_POLICY,
    CodeOwners,
    FlakyPolicy,
    FlakyReport,
    FlakyVerdict,
    detect_flaky,
    history_candidates,
    outage_guard,
)
from harness_connector.domain.quarantine import QuarantineStatus
from harness_connector.errors import UsageError
from harness_connector.store import Store, TestCommitRow, TestRunRow, TestTotalsRow

__all__ = ["HISTORY_LIMIT", "TestExplanation", "explain_test", "flaky_report", "load_codeowners"]

HISTORY_LIMIT = 200  # results per test read for recovery, flips and the broken streak
_CODEOWNERS_PLACES = ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")


def load_codeowners(path: Path | None) -> CodeOwners | None:
    """A CODEOWNERS file: `path` itself, or the usual places under it when it is a directory; None when absent.

    Raises:
        UsageError: `path` names a file that cannot be read.
    """
    if path is None:
        return None
    candidates = [path / place for place in _CODEOWNERS_PLACES] if path.is_dir() else [path]
    for candidate in candidates:
        if candidate.is_file():
            try:
                return CodeOwners.parse(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"cannot read the CODEOWNERS file {candidate}: {exc}") from exc
    if not path.is_dir():
        raise UsageError(f"no CODEOWNERS file at {path}; pass the file or the repository that holds it")
    return None


def _policy(policy: FlakyPolicy, window_days: int) -> FlakyPolicy:
    if not 1 <= window_days <= 365:
        raise UsageError(f"the window is {window_days} days; give 1 to 365")
    return replace(policy, window_days=window_days)


def flaky_report(
    store: Store,
    *,
    now_ms: int,
    window_days: int = DEFAULT_POLICY.window_days,
    pipeline_id: str | None = None,
    default_branch: str | None = None,
    owners: CodeOwners | None = None,
    policy: FlakyPolicy = DEFAULT_POLICY,
    include_stable: bool = False,
    test_ids: frozenset[str] | None = None,
) -> FlakyReport:
    """Flaky, broken and recovering tests over the `window_days` before `now_ms`, optionally of one pipeline.

    The default branch is the one most executions outside pull requests ran on, unless given. With `test_ids`, the
    report covers only those tests (every other input still comes from the whole window, so the outage guard and
    the impact are the same as in the full report).
    """
    policy = _policy(policy, window_days)
    since_ms = policy.since(now_ms)
    totals = store.test_totals(since_ms=since_ms, until_ms=now_ms, pipeline_id=pipeline_id, test_ids=test_ids)
    commits = store.test_outcomes_by_commit(since_ms=since_ms, until_ms=now_ms, pipeline_id=pipeline_id)
    if test_ids is not None:
        commits = [row for row in commits if row.test_id in test_ids]
    executions = store.execution_tests(since_ms=since_ms, until_ms=now_ms, pipeline_id=pipeline_id)
    guard = outage_guard(executions, share=policy.outage_share, min_tests=policy.outage_min_tests)
    branch = default_branch or store.busiest_branch(since_ms=since_ms, until_ms=now_ms, pipeline_id=pipeline_id)
    known = {p.test_id for p in store.quarantines(statuses={QuarantineStatus.APPROVED})}
    wanted = set(history_candidates(totals, commits, policy=policy, outage=guard))
    wanted |= known & {row.test_id for row in totals}  # a quarantined test's history decides its recovery
    if test_ids is not None:
        wanted |= test_ids
    histories = store.test_histories(wanted, since_ms=since_ms, limit=HISTORY_LIMIT)
    return detect_flaky(
        totals,
        commits,
        until_ms=now_ms,
        histories=histories,
        executions=executions,
        outage=guard,
        default_branch=branch,
        known_flaky=known,
        owners=owners,
        test_paths=_test_paths(store, totals, commits, owners),
        policy=policy,
        include_stable=include_stable,
    )


def _test_paths(
    store: Store, totals: Sequence[TestTotalsRow], commits: Sequence[TestCommitRow], owners: CodeOwners | None
) -> dict[str, str]:
    """The stored files of the tests that can get a verdict (those that failed), for CODEOWNERS to match.

    Suites and class names rarely spell a repository path (pytest's suite is "pytest"), so without the file most
    rules match nothing. Paths serve only the owners, so without them nothing is read.
    """
    if owners is None:
        return {}
    failing = {row.test_id for row in totals if row.failed or row.flaky or row.retries_failed}
    failing.update(row.test_id for row in commits)
    return store.test_files(failing)


@dataclass(frozen=True, slots=True, kw_only=True)
class TestExplanation:
    """One test: its verdict over the window (None when it did not run in it) and its newest results."""

    __test__ = False

    test_id: str
    verdict: FlakyVerdict | None
    history: tuple[TestRunRow, ...]
    window_days: int


def explain_test(
    store: Store,
    test_id: str,
    *,
    now_ms: int,
    window_days: int = DEFAULT_POLICY.window_days,
    owners: CodeOwners | None = None,
    policy: FlakyPolicy = DEFAULT_POLICY,
    history_limit: int = 50,
) -> TestExplanation:
    """Why one test is (or is not) flaky: its verdict with every number, and its recent results.

    Raises:
        UsageError: the store holds no result of the test in the window.
    """
    policy = _policy(policy, window_days)
    history = store.test_history(test_id, since_ms=policy.since(now_ms), limit=history_limit)
    if not history:
        raise UsageError(
            f"no stored results for test {test_id} in the last {window_days} days; find test ids with "
            "harness_list resource_type=test_result or flaky_test, or sync more history"
        )
    report = flaky_report(
        store,
        now_ms=now_ms,
        window_days=window_days,
        owners=owners,
        policy=policy,
        include_stable=True,
        test_ids=frozenset({test_id}),
    )
    verdict = next((v for v in report.verdicts if v.test_id == test_id), None)
    return TestExplanation(test_id=test_id, verdict=verdict, history=tuple(history), window_days=window_days)
