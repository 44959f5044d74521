"""Flaky-test detection from the store's aggregates: same-commit evidence, recovery, broken tests, the outage
guard, first-attempt counting, slow tests, and the report's counts."""

from __future__ import annotations

import pytest

from harness_connector.analysis.flaky import (
    Classification,
    ExecutionTestsRow,
    FlakyPolicy,
    FlakyReport,
    FlakyVerdict,
    OutageGuard,
    detect_flaky,
    history_candidates,
)
from harness_connector.domain.history import TestOutcome
from harness_connector.store.rows import TestCommitRow, TestRunRow, TestTotalsRow

UNTIL = 1_700_000_000_000
DAY = 86_400_000
OUTCOMES = {"P": TestOutcome.PASSED, "F": TestOutcome.FAILED, "K": TestOutcome.FLAKY, "S": TestOutcome.SKIPPED}


def commit(
    test_id: str,
    sha: str,
    *,
    passed: int = 0,
    failed: int = 0,
    flaky: int = 0,
    retries_passed: int = 0,
    retries_failed: int = 0,
    at: int = UNTIL - 5 * DAY,
) -> TestCommitRow:
    runs = passed + failed + flaky
    retries = retries_passed + retries_failed
    return TestCommitRow(
        test_id, sha, runs, passed, failed, flaky, retries, retries_passed, retries_failed, 0, max(runs, 1), at, at
    )


def totals(
    test_id: str,
    *,
    runs: int,
    failed: int = 0,
    flaky: int = 0,
    retries_passed: int = 0,
    retries_failed: int = 0,
    duration_ms: float = 200.0,
) -> TestTotalsRow:
    return TestTotalsRow(
        test_id, "suite", "com.acme.Thing", test_id, runs, runs - failed - flaky, failed, flaky,
        retries_passed + retries_failed, retries_passed, retries_failed, 0, duration_ms, UNTIL - 14 * DAY, UNTIL - 1,
    )  # fmt: skip


def history(test_id: str, pattern: str, *, branch: str = "main", start: int = UNTIL - 10 * DAY) -> list[TestRunRow]:
    """Results oldest to newest as letters (P passed, F failed, K runner-flaky, S skipped), one commit and one
    execution each, returned newest first as `Store.test_history` does."""
    rows = [_run(test_id, OUTCOMES[letter], index, branch, start) for index, letter in enumerate(pattern)]
    rows.reverse()
    return rows


def _run(test_id: str, outcome: TestOutcome, index: int, branch: str, start: int) -> TestRunRow:
    return TestRunRow(
        test_id, "suite", "com.acme.Thing", test_id, outcome, 1, False, 200, None, None, f"exec-{index}",
        "pipeline-a", "build", "test", f"c{index}", branch, None, start + index * 3_600_000,
    )  # fmt: skip


def only(report: FlakyReport) -> FlakyVerdict:
    assert len(report.verdicts) == 1
    return report.verdicts[0]


def test_a_test_that_failed_and_passed_on_the_same_commit_is_flaky() -> None:
    report = detect_flaky(
        [totals("t1", runs=100, failed=1)], [commit("t1", "abc123", passed=1, failed=1)], until_ms=UNTIL
    )
    verdict = only(report)
    assert verdict.classification is Classification.FLAKY
    assert verdict.detectors == ("same_commit",)
    assert (verdict.same_commit_commits, verdict.first_flaky_commit) == (1, "abc123")
    assert (report.flaky, report.broken, report.stable) == (1, 0, 0)


def test_a_failure_never_contradicted_on_its_commit_is_not_flaky() -> None:
    rows = [totals("t1", runs=100, failed=1)]
    commits = [commit("t1", "abc123", failed=1)]
    assert detect_flaky(rows, commits, until_ms=UNTIL).verdicts == ()
    verdict = only(detect_flaky(rows, commits, until_ms=UNTIL, include_stable=True))
    assert verdict.classification is Classification.STABLE
    assert verdict.recommendation is None
    assert "no failure contradicted" in verdict.reason


def test_passing_on_retry_inside_one_execution_is_same_commit_evidence() -> None:
    verdict = only(
        detect_flaky(
            [totals("t1", runs=50, failed=1, retries_passed=1)],
            [commit("t1", "abc123", failed=1, retries_passed=1)],
            until_ms=UNTIL,
        )
    )
    assert verdict.classification is Classification.FLAKY
    assert verdict.pass_on_retry_commits == 1
    assert "1 passed on retry" in verdict.reason


def test_a_result_the_runner_reported_flaky_is_same_commit_evidence_and_a_first_attempt_failure() -> None:
    verdict = only(detect_flaky([totals("t1", runs=30, flaky=1)], [commit("t1", "abc123", flaky=1)], until_ms=UNTIL))
    assert verdict.classification is Classification.FLAKY
    assert (verdict.runner_flaky, verdict.failures, verdict.runs) == (1, 1, 30)
    assert "1 run reported flaky by the test runner" in verdict.reason


def test_a_surefire_flaky_case_as_the_store_counts_it_is_a_pass_on_retry() -> None:
    # Surefire's <flakyFailure> then <flakyError>: attempt 1 failed, attempt 2 errored, and the final attempt,
    # stored as flaky, passed. The store counts that final attempt as a retry that passed, not as runner-flaky.
    verdict = only(
        detect_flaky(
            [totals("t1", runs=30, failed=1, retries_passed=1, retries_failed=1)],
            [commit("t1", "abc123", failed=1, retries_passed=1, retries_failed=1)],
            until_ms=UNTIL,
        )
    )
    assert verdict.classification is Classification.FLAKY
    assert (verdict.pass_on_retry_commits, verdict.runner_flaky, verdict.failures, verdict.retries) == (1, 0, 1, 2)
    assert "(1 passed on retry)" in verdict.reason


def test_first_attempts_are_counted_so_retries_that_pass_do_not_hide_failures() -> None:
    # Every failure passed on retry, so every execution ended green; the first attempts still failed 3 of 10.
    verdict = only(
        detect_flaky(
            [totals("t1", runs=10, failed=3, retries_passed=3)],
            [commit("t1", f"c{i}", failed=1, retries_passed=1) for i in range(3)],
            until_ms=UNTIL,
        )
    )
    assert (verdict.failures, verdict.runs, verdict.retries, verdict.retries_passed) == (3, 10, 3, 3)
    assert verdict.score == pytest.approx(3.5 / 11)


@pytest.mark.parametrize(("passes", "recovered"), [(4, False), (5, True)], ids=["four-passes", "five-passes"])
def test_a_flaky_test_recovers_after_five_consecutive_passes(passes: int, recovered: bool) -> None:
    report = detect_flaky(
        [totals("t1", runs=40, failed=1)],
        [commit("t1", "abc123", passed=1, failed=1)],
        until_ms=UNTIL,
        histories={"t1": history("t1", "PPPFP" + "P" * (passes - 1))},
    )
    verdict = only(report)
    assert verdict.recovered is recovered
    assert verdict.passes_since_failure == passes
    assert verdict.classification is (Classification.STABLE if recovered else Classification.FLAKY)
    if recovered:
        assert verdict.reason.startswith("recovered: 5 first attempts in a row passed")


def test_a_test_that_never_passed_in_the_window_is_broken_since_its_first_failing_commit() -> None:
    verdict = only(
        detect_flaky(
            [totals("t1", runs=4, failed=4)],
            [
                commit("t1", "bbb", failed=2, at=UNTIL - 2 * DAY),
                commit("t1", "aaa", failed=2, at=UNTIL - 3 * DAY),
            ],
            until_ms=UNTIL,
        )
    )
    assert verdict.classification is Classification.BROKEN
    assert (verdict.broken_since_commit, verdict.broken_since_ms, verdict.broken_runs) == ("aaa", UNTIL - 3 * DAY, 4)
    assert verdict.reason.startswith("broken: 4 first attempts in a row failed, with no pass, since commit aaa")


def test_a_history_names_the_commit_since_which_a_test_fails_consistently() -> None:
    verdict = only(
        detect_flaky(
            [totals("t1", runs=9, failed=4)],
            [commit("t1", f"c{i}", failed=1) for i in range(5, 9)],
            until_ms=UNTIL,
            histories={"t1": history("t1", "PPPPPFFFF")},
            default_branch="main",
        )
    )
    assert verdict.classification is Classification.BROKEN
    assert (verdict.broken_since_commit, verdict.broken_runs) == ("c5", 4)
    assert verdict.broken_since_ms == UNTIL - 10 * DAY + 5 * 3_600_000


def test_two_failures_in_a_row_are_not_yet_broken() -> None:
    report = detect_flaky(
        [totals("t1", runs=7, failed=2)],
        [commit("t1", f"c{i}", failed=1) for i in (5, 6)],
        until_ms=UNTIL,
        histories={"t1": history("t1", "PPPPPFF")},
    )
    assert only(report).classification is Classification.STABLE


def test_failing_on_a_work_in_progress_branch_is_not_broken() -> None:
    rows = history("t1", "FFFF", branch="feature/x") + history("t1", "PPPP", branch="main", start=UNTIL - 12 * DAY)
    report = detect_flaky(
        [totals("t1", runs=8, failed=4)],
        [commit("t1", f"c{i}", failed=1) for i in range(4)],
        until_ms=UNTIL,
        histories={"t1": rows},
        default_branch="main",
    )
    assert only(report).classification is Classification.STABLE


def test_a_slow_flaky_test_is_slow_and_flaky() -> None:
    report = detect_flaky(
        [totals("t1", runs=40, failed=2, duration_ms=45_000.0)],
        [commit("t1", "c1", passed=1, failed=1), commit("t1", "c2", passed=2, failed=1)],
        until_ms=UNTIL,
    )
    verdict = only(report)
    assert verdict.classification is Classification.SLOW_AND_FLAKY
    assert (report.flaky, report.slow_and_flaky) == (0, 1)


def _outage_inputs() -> tuple[list[TestTotalsRow], list[TestCommitRow]]:
    # 30 tests; on commit "down" all of them failed in one execution and passed in its rerun.
    rows = [totals(f"t{i:02d}", runs=20, failed=1) for i in range(30)]
    commits = [commit(f"t{i:02d}", "down", passed=1, failed=1) for i in range(30)]
    return rows, commits


def test_executions_in_which_most_tests_failed_at_once_teach_nothing_about_flakiness() -> None:
    rows, commits = _outage_inputs()
    failed = tuple(row.test_id for row in rows)
    executions = [
        ExecutionTestsRow("e-down", "p1", "down", UNTIL - 5 * DAY, 60_000, True, None, 30, 30, failed),
        ExecutionTestsRow("e-rerun", "p1", "down", UNTIL - 5 * DAY, 60_000, False, "e-down", 30, 0, ()),
    ]
    report = detect_flaky(rows, commits, until_ms=UNTIL, executions=executions)
    assert (report.flaky, report.ignored_executions, report.ignored_commits) == (0, 1, 1)
    assert report.verdicts == ()
    assert report.stable == 0  # the outage was their only failure


def test_without_execution_rows_commits_on_which_most_tests_failed_are_set_aside() -> None:
    rows, commits = _outage_inputs()
    report = detect_flaky(rows, commits, until_ms=UNTIL)
    assert (report.flaky, report.ignored_commits) == (0, 1)


def test_the_caller_can_name_the_outages_to_ignore() -> None:
    report = detect_flaky(
        [totals("t1", runs=20, failed=2)],
        [commit("t1", "down", passed=1, failed=1), commit("t1", "fine", passed=1, failed=1)],
        until_ms=UNTIL,
        outage=OutageGuard(commits=frozenset({"down"})),
    )
    verdict = only(report)
    assert (verdict.same_commit_commits, verdict.runs, verdict.failures) == (1, 18, 1)


def test_a_small_execution_with_many_failures_is_not_an_outage() -> None:
    rows = [totals("t1", runs=20, failed=1)]
    executions = [ExecutionTestsRow("e1", "p1", "c1", UNTIL - DAY, 1_000, True, None, 3, 3, ("t1",))]
    report = detect_flaky(rows, [commit("t1", "c1", passed=1, failed=1)], until_ms=UNTIL, executions=executions)
    assert (report.flaky, report.ignored_executions) == (1, 0)


def test_with_too_few_same_commit_flakes_for_the_policy_a_test_is_stable_but_reported() -> None:
    report = detect_flaky(
        [totals("t1", runs=20, failed=1)],
        [commit("t1", "c1", passed=1, failed=1)],
        until_ms=UNTIL,
        policy=FlakyPolicy(min_same_commit=2),
    )
    verdict = only(report)
    assert (verdict.classification, verdict.same_commit_commits) == (Classification.STABLE, 1)


def test_verdicts_come_most_urgent_first() -> None:
    report = detect_flaky(
        [
            totals("a-low", runs=100, failed=1),
            totals("b-broken", runs=3, failed=3),
            totals("c-high", runs=10, failed=5),
        ],
        [
            commit("a-low", "c1", passed=1, failed=1),
            commit("b-broken", "c1", failed=3),
            commit("c-high", "c1", passed=1, failed=5),
        ],
        until_ms=UNTIL,
    )
    assert [v.test_id for v in report.verdicts] == ["b-broken", "c-high", "a-low"]


def test_history_candidates_put_failing_now_first_then_flaky_then_repeatedly_failing() -> None:
    rows = [totals(name, runs=20, failed=2) for name in ("broken", "flaky", "repeat", "once")]
    commits = [
        commit("broken", "c9", failed=2, at=UNTIL - 1),
        commit("flaky", "c1", passed=1, failed=1),
        commit("flaky", "c2", passed=1, failed=1),
        commit("repeat", "c1", failed=1),
        commit("repeat", "c2", failed=1),
        commit("once", "c1", failed=2),
    ]
    assert history_candidates(rows, commits) == ["broken", "flaky", "repeat"]
    assert history_candidates(rows, commits, policy=FlakyPolicy(max_histories=1)) == ["broken"]
