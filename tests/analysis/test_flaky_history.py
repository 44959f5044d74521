"""The history side of flaky detection: flips on the default branch with and without code changes, hysteresis,
minimum samples, environment dependence, and lifting a quarantine."""

from __future__ import annotations

import pytest

from harness_connector.analysis.flaky import Classification, FlakyPolicy, detect_flaky, should_lift
from harness_connector.analysis.flaky_history import branch_flips, consecutive_passes, environment_reason
from harness_connector.domain.history import TestOutcome
from harness_connector.store.rows import TestRunRow, TestTotalsRow

UNTIL = 1_700_000_000_000
DAY = 86_400_000
HOUR = 3_600_000
FIXED_WINDOW = FlakyPolicy(history_min_runs=50, history_window=50)
OUTCOMES = {
    "P": TestOutcome.PASSED,
    "F": TestOutcome.FAILED,
    "E": TestOutcome.ERROR,
    "K": TestOutcome.FLAKY,
    "S": TestOutcome.SKIPPED,
}


def history(
    pattern: str,
    *,
    commits: list[str] | None = None,
    branch: str = "main",
    retries: frozenset[int] = frozenset(),
    message: str | None = None,
    pipelines: list[str] | None = None,
) -> list[TestRunRow]:
    """Results oldest to newest as letters, one execution each (a new commit each unless `commits` says
    otherwise), returned newest first as `Store.test_history` does."""
    rows = []
    for index, letter in enumerate(pattern):
        retry = index in retries
        rows.append(
            TestRunRow(
                "t1", "suite", "com.acme.Thing", "case", OUTCOMES[letter], 2 if retry else 1, retry, 200,
                message if letter in "FE" else None, None, f"exec-{index}",
                pipelines[index] if pipelines else "pipeline-a", "build", "test",
                commits[index] if commits else f"c{index}", branch, None, UNTIL - 10 * DAY + index * HOUR,
            )
        )  # fmt: skip
    rows.reverse()
    return rows


def spaced(failures: list[int], length: int) -> str:
    return "".join("F" if index in failures else "P" for index in range(length))


def totals_for(pattern: str, *, duration_ms: float = 200.0) -> TestTotalsRow:
    failed = pattern.count("F")
    return TestTotalsRow(
        "t1", "suite", "com.acme.Thing", "case", len(pattern), len(pattern) - failed, failed, 0, 0, 0, 0, 0,
        duration_ms, UNTIL - 14 * DAY, UNTIL - 1,
    )  # fmt: skip


def test_isolated_failures_on_the_default_branch_are_flips() -> None:
    found = branch_flips(history(spaced([5, 15, 25], 40)), "main", policy=FlakyPolicy())
    assert (found.runs, found.flips, found.unexplained) == (40, 6, 3)
    assert found.flip_rate == pytest.approx(6 / 39)
    assert found.flaky


def test_a_regression_and_its_fix_are_code_changes_not_flips() -> None:
    found = branch_flips(history("P" * 20 + "F" * 5 + "P" * 25), "main", policy=FlakyPolicy())
    assert (found.flips, found.unexplained, found.flaky) == (0, 0, False)


def test_a_failure_streak_that_began_on_a_commit_that_had_passed_is_flips() -> None:
    commits = [f"c{i}" for i in range(50)]
    commits[20] = "c19"  # the same commit passed, then failed: no code change explains it
    found = branch_flips(history("P" * 20 + "F" * 5 + "P" * 25, commits=commits), "main", policy=FlakyPolicy())
    assert (found.flips, found.unexplained) == (2, 5)


def test_results_on_other_branches_and_retries_are_not_default_branch_runs() -> None:
    rows = history("PFPFPFPFPF", branch="feature/x") + history("PPPP", retries=frozenset({1, 3}))
    assert branch_flips(rows, "main", policy=FlakyPolicy()).runs == 2


def test_a_test_becomes_flaky_only_past_the_higher_threshold() -> None:
    # Fixed 50-run window: 2 isolated failures flip 4 times (8 %), under the 10 % needed to become flaky;
    # 3 flip 6 times (12 %).
    assert not branch_flips(history(spaced([10, 30], 50)), "main", policy=FIXED_WINDOW).flaky
    found = branch_flips(history(spaced([10, 30, 40], 50)), "main", policy=FIXED_WINDOW)
    assert found.flaky
    assert (found.started_commit, found.started_ms) == ("c10", UNTIL - 10 * DAY + 10 * HOUR)


def test_a_flaky_test_stays_flaky_until_clearly_stable() -> None:
    between = history(spaced([10, 30], 50))  # 8 % flips: above the 4 % exit threshold
    assert branch_flips(between, "main", policy=FIXED_WINDOW, was_flaky=True).flaky
    calm = history(spaced([10, 30], 50) + "P" * 50)  # the window has moved past both failures
    assert not branch_flips(calm, "main", policy=FIXED_WINDOW, was_flaky=True).flaky


def test_below_the_minimum_sample_nothing_changes() -> None:
    short = history("PFPFPFPFPFPFPFP")  # 15 runs, half failing, under the 20 needed
    assert not branch_flips(short, "main", policy=FlakyPolicy()).flaky
    assert branch_flips(short, "main", policy=FlakyPolicy(), was_flaky=True).flaky


def test_the_default_branch_detector_flags_a_test_with_no_same_commit_evidence() -> None:
    pattern = spaced([5, 15, 25], 40)
    report = detect_flaky(
        [totals_for(pattern)], [], until_ms=UNTIL, histories={"t1": history(pattern)}, default_branch="main"
    )
    (verdict,) = report.verdicts
    assert verdict.classification is Classification.FLAKY
    assert (verdict.detectors, verdict.flips, verdict.first_flaky_commit) == (("default_branch",), 6, "c5")
    assert "flipped 6 times on the default branch with no code change (rate 15%)" in verdict.reason


def test_without_a_default_branch_the_history_detector_is_off() -> None:
    pattern = spaced([5, 15, 25], 40)
    report = detect_flaky([totals_for(pattern)], [], until_ms=UNTIL, histories={"t1": history(pattern)})
    (verdict,) = report.verdicts
    assert (verdict.classification, verdict.flips) == (Classification.STABLE, None)


def test_known_flaky_tests_stay_flagged_while_the_evidence_is_thin() -> None:
    pattern = "PPPPFPPPP"
    report = detect_flaky(
        [totals_for(pattern)],
        [],
        until_ms=UNTIL,
        histories={"t1": history(pattern)},
        default_branch="main",
        known_flaky={"t1"},
    )
    (verdict,) = report.verdicts
    assert verdict.classification is Classification.FLAKY
    assert verdict.detectors == ("default_branch",)
    assert "flipped 2 times" in verdict.reason


def test_consecutive_passes_count_first_attempts_back_to_the_last_failure() -> None:
    assert consecutive_passes(history("FPPSP")) == 3
    assert consecutive_passes(history("PPKPP")) == 2
    assert consecutive_passes(history("FPPPP", retries=frozenset({1}))) == 3


@pytest.mark.parametrize(
    ("pattern", "needed", "lift"),
    [
        ("F" + "P" * 20, 20, True),
        ("F" + "P" * 19, 20, False),
        ("P" * 10 + "F" + "P" * 5, 5, True),
        ("P" * 10 + "E" + "P" * 4, 5, False),
        ("P" * 30 + "K", 5, False),
    ],
    ids=["twenty-passes", "nineteen-passes", "five-of-five", "four-after-error", "runner-flaky-last"],
)
def test_a_quarantine_is_lifted_after_enough_consecutive_passes(pattern: str, needed: int, lift: bool) -> None:
    assert should_lift(history(pattern), consecutive_passes=needed) is lift


def test_lifting_ignores_executions_set_aside_as_outages() -> None:
    rows = history("P" * 5 + "F" + "P" * 5)
    assert not should_lift(rows, consecutive_passes=10)
    assert should_lift(rows, consecutive_passes=10, ignore_executions={"exec-5"})


def test_failures_that_mention_timeouts_or_the_network_look_environmental() -> None:
    rows = history("PFPPFPPE", message="java.net.SocketTimeoutException: read timed out")
    assert environment_reason(rows, share=0.5) == "3 of 3 failures mention timeouts, the network or resources"
    assert environment_reason(history("PFPPFPPE", message="expected 3 but was 4"), share=0.5) is None


def test_a_retry_marked_flaky_is_the_pass_that_ended_a_failure_not_another_failure() -> None:
    # As Surefire's flaky cases are stored: a failed first attempt, then a retry marked flaky (the pass).
    rows = history("PFKPPFKP", retries=frozenset({2, 6}), message="java.net.SocketTimeoutException: read timed out")
    assert environment_reason(rows, share=0.75) == "2 of 2 failures mention timeouts, the network or resources"
    # A first attempt the runner marked flaky did fail before it passed.
    runner = history("PFKPP", message="java.net.SocketTimeoutException: read timed out")
    assert environment_reason(runner, share=0.75) is None


def test_failures_confined_to_one_pipeline_look_environmental() -> None:
    pipelines = ["gpu", "cpu-a", "gpu", "cpu-b", "gpu", "cpu-a", "gpu"]
    rows = history("FPFPFPP", pipelines=pipelines)
    expected = "all 3 failures ran in pipeline gpu, while it passed in 2 other pipelines"
    assert environment_reason(rows, share=0.5) == expected


def test_an_environment_dependent_flaky_test_is_moved_to_a_scheduled_pipeline() -> None:
    pattern = "PPPFPPPFPP"
    rows = history(pattern, message="connect ECONNREFUSED 10.0.0.7:5432")
    report = detect_flaky(
        [totals_for(pattern)], [], until_ms=UNTIL, histories={"t1": rows}, known_flaky={"t1"}, default_branch="main"
    )
    (verdict,) = report.verdicts
    assert verdict.recommendation is not None and verdict.recommendation.value == "move_to_scheduled"
    assert verdict.reason.startswith(
        "environment-dependent and flaky: 2 of 2 failures mention timeouts, the network or resources"
    )
