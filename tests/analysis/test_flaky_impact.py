"""What flaky tests cost (failed executions, reruns, CI minutes, pipelines, owners, trend) and what to do about
each (quarantine, move to a scheduled pipeline, fix now, monitor)."""

from __future__ import annotations

import pytest

from harness_connector.analysis.flaky import (
    CodeOwners,
    ExecutionTestsRow,
    FlakyReport,
    FlakyVerdict,
    Recommendation,
    detect_flaky,
)
from harness_connector.store.rows import TestCommitRow, TestTotalsRow

UNTIL = 1_700_000_000_000
DAY = 86_400_000
MINUTE = 60_000


def commit(test_id: str, sha: str, *, passed: int = 1, failed: int = 1, at: int = UNTIL - 5 * DAY) -> TestCommitRow:
    return TestCommitRow(test_id, sha, passed + failed, passed, failed, 0, 0, 0, 0, 0, 1, at, at)


def totals(
    test_id: str, *, runs: int, failed: int, retries: int = 0, duration_ms: float = 200.0, class_name: str = "Thing"
) -> TestTotalsRow:
    return TestTotalsRow(
        test_id, "suite", class_name, test_id, runs, runs - failed, failed, 0, retries, retries, 0, 0, duration_ms,
        UNTIL - 14 * DAY, UNTIL - 1,
    )  # fmt: skip


def execution(
    execution_id: str,
    failed_tests: tuple[str, ...],
    *,
    minutes: int = 10,
    pipeline: str = "p1",
    retry_of: str | None = None,
) -> ExecutionTestsRow:
    return ExecutionTestsRow(
        execution_id, pipeline, "c1", UNTIL - DAY, minutes * MINUTE, bool(failed_tests), retry_of, 100,
        len(failed_tests), failed_tests,
    )  # fmt: skip


def verdict_of(report: FlakyReport, test_id: str) -> FlakyVerdict:
    return next(v for v in report.verdicts if v.test_id == test_id)


def _impact_report() -> FlakyReport:
    rows = [
        totals("flaky-a", runs=100, failed=3, retries=2, duration_ms=30_000.0 - 1),
        totals("flaky-c", runs=100, failed=2),
        totals("broken-b", runs=3, failed=3),
    ]
    commits = [
        commit("flaky-a", "c1"),
        commit("flaky-a", "c2"),
        commit("flaky-c", "c1"),
        commit("broken-b", "c3", passed=0, failed=3),
    ]
    executions = [
        execution("e1", ("flaky-a",), minutes=10, pipeline="p1"),
        execution("e2", ("flaky-a", "broken-b"), minutes=8, pipeline="p2"),  # a real failure among them
        execution("e3", (), retry_of="e1"),
        execution("e4", ("flaky-a", "flaky-c"), minutes=6, pipeline="p3"),
        execution("e5", (), retry_of="e4"),
        execution("e6", (), retry_of="e4"),
    ]
    return detect_flaky(rows, commits, until_ms=UNTIL, executions=executions)


def test_executions_that_failed_only_because_of_flaky_tests_are_counted_with_their_reruns_and_minutes() -> None:
    report = _impact_report()
    impact = report.impact
    assert (impact.failed_executions, impact.reruns, impact.test_retries) == (2, 3, 2)
    retry_minutes = 2 * (30_000.0 - 1) / MINUTE
    assert impact.ci_minutes_lost == pytest.approx(10 + 6 + retry_minutes)
    assert impact.pipelines == ("p1", "p3")


def test_each_flaky_test_carries_its_share_of_the_cost() -> None:
    report = _impact_report()
    a, c = verdict_of(report, "flaky-a").impact, verdict_of(report, "flaky-c").impact
    assert (a.failed_executions, a.reruns, a.pipelines) == (2, 3, ("p1", "p2", "p3"))
    assert a.ci_minutes_lost == pytest.approx(10 + 3 + 2 * (30_000.0 - 1) / MINUTE)
    assert (c.failed_executions, c.reruns, c.pipelines) == (1, 2, ("p3",))
    assert c.ci_minutes_lost == pytest.approx(3)


def test_without_execution_rows_the_execution_numbers_are_unknown() -> None:
    report = detect_flaky([totals("t1", runs=50, failed=1)], [commit("t1", "c1")], until_ms=UNTIL)
    assert (report.impact.failed_executions, report.impact.reruns) == (None, None)
    assert (report.verdicts[0].impact.failed_executions, report.verdicts[0].impact.reruns) == (None, None)


def test_the_trend_counts_failures_per_day_and_says_which_way_they_go() -> None:
    days_ago = [13, 12, 3, 2, 2, 1, 1, 1]
    commits = [commit("t1", f"c{i}", at=UNTIL - ago * DAY + 1) for i, ago in enumerate(days_ago)]
    commits.append(commit("quiet", "c1", passed=0))  # not flaky: not in the report's trend
    report = detect_flaky(
        [totals("t1", runs=80, failed=8), totals("quiet", runs=80, failed=1)], commits, until_ms=UNTIL
    )
    trend = report.impact.trend
    assert (trend.start_ms, trend.bucket_ms) == (UNTIL - 14 * DAY, DAY)
    assert trend.counts == (0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3)
    assert trend.direction == "rising"
    assert verdict_of(report, "t1").impact.trend == trend


def test_owners_come_from_codeowners_rules_on_the_class_name() -> None:
    owners = CodeOwners.parse("* @everyone\n/com/acme/billing/ @billing-team @alice\n")
    report = detect_flaky(
        [
            totals("t1", runs=50, failed=1, class_name="com.acme.billing.InvoiceTest"),
            totals("t2", runs=50, failed=1, class_name="com.acme.search.QueryTest"),
        ],
        [commit("t1", "c1"), commit("t2", "c1")],
        until_ms=UNTIL,
        owners=owners,
    )
    assert verdict_of(report, "t1").impact.owners == ("@billing-team", "@alice")
    assert verdict_of(report, "t2").impact.owners == ("@everyone",)
    assert report.impact.owners == ("@alice", "@billing-team", "@everyone")


def test_a_known_file_path_decides_the_owners() -> None:
    owners = CodeOwners.from_prefixes({"tests/billing/": ["@billing"], "com.acme": ["@platform"]})
    report = detect_flaky(
        [totals("t1", runs=50, failed=1, class_name="com.acme.billing.InvoiceTest")],
        [commit("t1", "c1")],
        until_ms=UNTIL,
        owners=owners,
        test_paths={"t1": "tests/billing/test_invoice.py"},
    )
    assert report.verdicts[0].impact.owners == ("@billing",)


def test_a_clearly_flaky_costly_test_is_quarantined() -> None:
    report = detect_flaky(
        [totals("t1", runs=40, failed=12)],
        [commit("t1", "c1", failed=6, at=UNTIL - 10 * DAY), commit("t1", "c2", failed=6, at=UNTIL - 9 * DAY)],
        until_ms=UNTIL,
    )
    verdict = report.verdicts[0]
    assert verdict.recommendation is Recommendation.QUARANTINE
    assert verdict.reason == (
        "clearly flaky and costly: failed and passed on the same commit 2 times in 14 days; first attempts failed "
        "12 of 40 times; estimated failure rate 30.5% (95% interval 17.6%-45.2%); no measured cost yet"
    )


def test_a_test_that_failed_executions_in_several_pipelines_is_quarantined_even_at_a_low_rate() -> None:
    report = detect_flaky(
        [totals("t1", runs=400, failed=3)],
        [commit("t1", "c1", at=UNTIL - 10 * DAY), commit("t1", "c2", at=UNTIL - 9 * DAY)],
        until_ms=UNTIL,
        executions=[execution(f"e{i}", ("t1",)) for i in range(3)],
    )
    verdict = report.verdicts[0]
    assert verdict.recommendation is Recommendation.QUARANTINE
    assert "3 executions failed only because of flaky tests it was among" in verdict.reason
    assert "30.0 CI minutes lost" in verdict.reason


def test_a_slow_flaky_test_below_the_quarantine_threshold_is_moved_to_a_scheduled_pipeline() -> None:
    report = detect_flaky(
        [totals("t1", runs=200, failed=2, duration_ms=95_000.0)],
        [commit("t1", "c1"), commit("t1", "c2")],
        until_ms=UNTIL,
    )
    verdict = report.verdicts[0]
    assert verdict.recommendation is Recommendation.MOVE_TO_SCHEDULED
    assert verdict.reason.startswith("slow and flaky: 95 s per run on average; failed and passed on the same commit")


def test_a_test_that_started_flaking_recently_is_to_be_fixed_now_naming_the_commit() -> None:
    started = UNTIL - 2 * DAY
    report = detect_flaky(
        [totals("t1", runs=200, failed=1)], [commit("t1", "0123456789abcdef", at=started)], until_ms=UNTIL
    )
    verdict = report.verdicts[0]
    assert verdict.recommendation is Recommendation.FIX_NOW
    assert (verdict.first_flaky_commit, verdict.first_flaky_ms) == ("0123456789abcdef", started)
    assert verdict.reason.startswith("started flaking at commit 0123456789 at 2023-11-12 22:13 UTC, 2.0 days ago")


def test_an_old_cheap_flake_is_monitored() -> None:
    report = detect_flaky([totals("t1", runs=200, failed=1)], [commit("t1", "c1", at=UNTIL - 10 * DAY)], until_ms=UNTIL)
    verdict = report.verdicts[0]
    assert verdict.recommendation is Recommendation.MONITOR
    assert verdict.reason.startswith(
        "flaky but not costly enough to quarantine: failed and passed on the same commit 1 time in 14 days; "
        "first attempts failed 1 of 200 times"
    )


def test_a_broken_test_is_to_be_fixed_now() -> None:
    report = detect_flaky(
        [totals("t1", runs=3, failed=3)], [commit("t1", "c1", passed=0, failed=3, at=UNTIL - DAY)], until_ms=UNTIL
    )
    assert report.verdicts[0].recommendation is Recommendation.FIX_NOW
