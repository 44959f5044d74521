"""Which recommendation wins: a clearly flaky, costly test is quarantined even when it is slow or its failures look
environment-dependent; a move to a scheduled pipeline is for slow or environment-dependent tests below that
threshold."""

from __future__ import annotations

from harness_connector.analysis.flaky import (
    Classification,
    ExecutionTestsRow,
    FlakyReport,
    FlakyVerdict,
    Recommendation,
    detect_flaky,
)
from harness_connector.domain.history import TestOutcome
from harness_connector.store.rows import TestCommitRow, TestRunRow, TestTotalsRow

UNTIL = 1_700_000_000_000
DAY = 86_400_000
HOUR = 3_600_000
REFUSED = "java.net.ConnectException: Connection refused: localhost/127.0.0.1:5432"


def totals(*, runs: int, failed: int, duration_ms: float = 200.0) -> TestTotalsRow:
    return TestTotalsRow(
        "t1", "suite", "com.acme.Thing", "case", runs, runs - failed, failed, 0, 0, 0, 0, 0, duration_ms,
        UNTIL - 14 * DAY, UNTIL - 1,
    )  # fmt: skip


def flaky_on(commits: int) -> list[TestCommitRow]:
    """Failed, then passed in a rerun, on each of `commits` commits."""
    return [
        TestCommitRow(
            "t1", f"c{i}", 2, 1, 1, 0, 0, 0, 0, 0, 2, UNTIL - 12 * DAY + i * HOUR, UNTIL - 12 * DAY + i * HOUR
        )
        for i in range(commits)
    ]


def history(pattern: str, message: str) -> list[TestRunRow]:
    """First attempts oldest to newest (P passed, F failed with `message`), returned newest first."""
    rows = [_run(index, letter == "F", message) for index, letter in enumerate(pattern)]
    rows.reverse()
    return rows


def _run(index: int, failed: bool, message: str) -> TestRunRow:
    outcome = TestOutcome.FAILED if failed else TestOutcome.PASSED
    return TestRunRow(
        "t1", "suite", "com.acme.Thing", "case", outcome, 1, False, 200, message if failed else None, None,
        f"exec-{index}", "build", "ci", "test", f"c{index}", "main", None, UNTIL - 12 * DAY + index * HOUR,
    )  # fmt: skip


def failed_executions(count: int) -> list[ExecutionTestsRow]:
    """`count` executions that only this test failed, each rerun once."""
    found = []
    for i in range(count):
        at = UNTIL - 12 * DAY + i * HOUR
        found.append(ExecutionTestsRow(f"e{i}", "build", f"c{i}", at, 600_000, True, None, 100, 1, ("t1",)))
        found.append(ExecutionTestsRow(f"r{i}", "build", f"c{i}", at + 1, 600_000, False, f"e{i}", 100, 0, ()))
    return found


def only(report: FlakyReport) -> FlakyVerdict:
    (verdict,) = report.verdicts
    return verdict


def test_the_costliest_flaky_test_is_quarantined_even_when_its_failures_look_environmental() -> None:
    # 17 failed executions, each rerun; every failure a refused connection.
    pattern = "PPF" * 17 + "P"
    verdict = only(
        detect_flaky(
            [totals(runs=len(pattern), failed=17)],
            flaky_on(17),
            until_ms=UNTIL,
            histories={"t1": history(pattern, REFUSED)},
            executions=failed_executions(17),
        )
    )
    assert verdict.environment == "17 of 17 failures mention timeouts, the network or resources"
    assert (verdict.impact.failed_executions, verdict.impact.reruns) == (17, 17)
    assert verdict.recommendation is Recommendation.QUARANTINE
    assert verdict.reason.startswith("clearly flaky and costly: failed and passed on the same commit 17 times")
    assert verdict.reason.endswith(
        "; also environment-dependent: 17 of 17 failures mention timeouts, the network or resources"
    )


def test_a_slow_test_that_is_clearly_flaky_and_costly_is_quarantined() -> None:
    verdict = only(detect_flaky([totals(runs=40, failed=12, duration_ms=95_000.0)], flaky_on(2), until_ms=UNTIL))
    assert verdict.classification is Classification.SLOW_AND_FLAKY
    assert verdict.ci_low >= 0.10  # costly by its failure rate alone
    assert verdict.recommendation is Recommendation.QUARANTINE
    assert verdict.reason.endswith("; also slow: 95 s per run on average")


def test_an_environment_dependent_test_below_the_quarantine_threshold_is_moved_to_a_scheduled_pipeline() -> None:
    pattern = "P" * 40 + "F" + "P" * 40 + "F" + "P"
    verdict = only(
        detect_flaky(
            [totals(runs=len(pattern), failed=2)],
            flaky_on(2),
            until_ms=UNTIL,
            histories={"t1": history(pattern, REFUSED)},
            executions=failed_executions(1),
        )
    )
    assert verdict.impact.failed_executions == 1
    assert verdict.recommendation is Recommendation.MOVE_TO_SCHEDULED
    assert verdict.reason.startswith(
        "environment-dependent and flaky: 2 of 2 failures mention timeouts, the network or resources"
    )


def test_a_costly_environment_dependent_test_without_clear_flakiness_is_moved_to_a_scheduled_pipeline() -> None:
    # A high failure rate, but only one commit on which it failed and passed: not clear enough to quarantine.
    pattern = "PFPFPFFPFP"
    verdict = only(
        detect_flaky(
            [totals(runs=len(pattern), failed=5)],
            flaky_on(1),
            until_ms=UNTIL,
            histories={"t1": history(pattern, REFUSED)},
        )
    )
    assert verdict.ci_low >= 0.10
    assert verdict.recommendation is Recommendation.MOVE_TO_SCHEDULED
