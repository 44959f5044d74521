"""The store's named queries on a small, hand-built history, run against every backend.

The history, inside the window [0, 10 000) unless noted (pipeline `build` on `main` unless noted):

    e1  c1  t=1000  Failed      A: failed, then passed on attempt 2   B: failed   C: passed
    e2  c1  t=2000  Success     A: passed                             B: failed   C: skipped
    e3  c2  t=3000  Failed      A: passed                             B: error    C: passed   D: flaky
    e4  c2  t=4000  Success     rerun of e3: A passed, B failed, C passed (all retries)
    e5  c3  t=5000  Success     pipeline `nightly`, branch `feature/x`: C passed, D passed
    e6  --  t=6000  Failed      project `checkout`, no tests
    e9  c9  t=90000 Failed      outside the window: A failed
    ghost (no execution stored, no time, no commit): X passed
"""

from __future__ import annotations

from typing import Any

import pytest

from harness_connector.domain.history import ExecutionFact, TestOutcome, TestResult
from harness_connector.store import (
    ExecutionFilter,
    Page,
    PipelineFailureRow,
    ProjectSummary,
    SignatureOccurrenceRow,
    StepDurationRow,
    StepRunRow,
    Store,
    TestCommitRow,
    TestFailureRow,
    TestResultFilter,
    TestRunRow,
    TestTotalsRow,
)
from tests.store.records import deployment, event, execution, result, signature, step

UNTIL = 10_000
PASSED, FAILED, ERROR, SKIPPED, FLAKY = (
    TestOutcome.PASSED,
    TestOutcome.FAILED,
    TestOutcome.ERROR,
    TestOutcome.SKIPPED,
    TestOutcome.FLAKY,
)
E1 = execution("e1", commit_sha="c1", started_ms=1_000, status="Failed", pipeline_name="Build (old name)")
E2 = execution("e2", commit_sha="c1", started_ms=2_000, pipeline_name="Build")
E3 = execution("e3", commit_sha="c2", started_ms=3_000, status="Failed", pipeline_name="Build")
E4 = execution("e4", commit_sha="c2", started_ms=4_000, is_rerun=True, retry_of="e3", pipeline_name="Build")
E5 = execution("e5", commit_sha="c3", started_ms=5_000, pipeline_id="nightly", branch="feature/x")
E6 = execution("e6", started_ms=6_000, status="Failed", project="checkout")
E9 = execution("e9", commit_sha="c9", started_ms=90_000, status="Failed")


def ran(fact: ExecutionFact, test_id: str, outcome: TestOutcome, **fields: Any) -> TestResult:
    """A result carrying its execution's context, as the sync writes it; its time comes from the execution."""
    context = {"pipeline_id": fact.pipeline_id, "commit_sha": fact.commit_sha, "branch": fact.branch}
    return result(test_id, fact.execution_id, outcome, **(context | fields))


@pytest.fixture
def history(store: Store) -> Store:
    with store.transaction():
        store.upsert_executions([E1, E2, E3, E4, E5, E6, E9])
        store.add_test_results(
            [
                ran(E1, "A", FAILED, duration_ms=10, message="expected 1, got 2"),
                ran(E1, "A", PASSED, attempt=2, duration_ms=20),
                ran(E2, "A", PASSED, duration_ms=30),
                ran(E3, "A", PASSED, duration_ms=40),
                ran(E4, "A", PASSED, duration_ms=50),
                ran(E9, "A", FAILED),
                ran(E1, "B", FAILED),
                ran(E2, "B", FAILED),
                ran(E3, "B", ERROR, failure_type="NullPointerException"),
                ran(E4, "B", FAILED),
                ran(E1, "C", PASSED, class_name="com.acme.CartTest"),
                ran(E2, "C", SKIPPED, class_name="com.acme.CartTest"),
                ran(E3, "C", PASSED, class_name="com.acme.CartTest"),
                ran(E4, "C", PASSED, class_name="com.acme.CartTest"),
                ran(E5, "C", PASSED, class_name="com.acme.CartTest"),
                ran(E3, "D", FLAKY),
                ran(E5, "D", PASSED),
                result("X", "ghost", PASSED),
            ]
        )
    return store


def _commit_row(test_id: str, commit_sha: str, **counts: int) -> TestCommitRow:
    zeros = dict.fromkeys(set(TestCommitRow._fields) - {"test_id", "commit_sha"}, 0)
    return TestCommitRow(test_id=test_id, commit_sha=commit_sha, **(zeros | counts))


def test_outcomes_by_commit_keeps_the_failing_pairs_and_counts_retries_apart(history: Store) -> None:
    assert history.test_outcomes_by_commit(since_ms=0, until_ms=UNTIL) == [
        _commit_row("A", "c1", runs=2, passed=1, failed=1, retries=1, retries_passed=1, executions=2,
                    first_ms=1_000, last_ms=2_000),
        _commit_row("B", "c1", runs=2, failed=2, executions=2, first_ms=1_000, last_ms=2_000),
        _commit_row("B", "c2", runs=1, failed=1, retries=1, retries_failed=1, executions=2,
                    first_ms=3_000, last_ms=4_000),
        _commit_row("D", "c2", runs=1, flaky=1, executions=1, first_ms=3_000, last_ms=3_000),
    ]  # fmt: skip


def test_outcomes_by_commit_can_return_every_pair(history: Store) -> None:
    rows = history.test_outcomes_by_commit(since_ms=0, until_ms=UNTIL, only_failing=False)

    assert [(row.test_id, row.commit_sha) for row in rows] == [
        ("A", "c1"), ("A", "c2"), ("B", "c1"), ("B", "c2"), ("C", "c1"), ("C", "c2"), ("C", "c3"), ("D", "c2"),
        ("D", "c3"),
    ]  # fmt: skip
    assert rows[4] == _commit_row("C", "c1", runs=1, passed=1, skipped=1, executions=2, first_ms=1_000, last_ms=2_000)
    assert rows[1] == _commit_row(
        "A", "c2", runs=1, passed=1, retries=1, retries_passed=1, executions=2, first_ms=3_000, last_ms=4_000
    )


def test_outcomes_by_commit_narrow_by_pipeline_branch_and_window(history: Store) -> None:
    nightly = [
        _commit_row("C", "c3", runs=1, passed=1, executions=1, first_ms=5_000, last_ms=5_000),
        _commit_row("D", "c3", runs=1, passed=1, executions=1, first_ms=5_000, last_ms=5_000),
    ]

    assert (
        history.test_outcomes_by_commit(since_ms=0, until_ms=UNTIL, pipeline_id="nightly", only_failing=False)
        == nightly
    )
    assert (
        history.test_outcomes_by_commit(since_ms=0, until_ms=UNTIL, branch="feature/x", only_failing=False) == nightly
    )
    on_main = history.test_outcomes_by_commit(since_ms=0, until_ms=100_000, branch="main")
    assert [(row.test_id, row.commit_sha) for row in on_main] == [
        ("A", "c1"), ("A", "c9"), ("B", "c1"), ("B", "c2"), ("D", "c2"),
    ]  # fmt: skip
    assert on_main[1] == _commit_row("A", "c9", runs=1, failed=1, executions=1, first_ms=90_000, last_ms=90_000)
    assert history.test_outcomes_by_commit(since_ms=3_000, until_ms=4_000) == [
        _commit_row("B", "c2", runs=1, failed=1, executions=1, first_ms=3_000, last_ms=3_000),
        _commit_row("D", "c2", runs=1, flaky=1, executions=1, first_ms=3_000, last_ms=3_000),
    ]


def test_test_totals_give_each_tests_counts_over_the_window(history: Store) -> None:
    assert history.test_totals(since_ms=0, until_ms=UNTIL, test_ids=["A", "C", "nope"]) == [
        TestTotalsRow(
            test_id="A", suite="unit", class_name="com.acme.ATest", name="test_A", runs=3, passed=2, failed=1,
            flaky=0, retries=2, retries_passed=2, retries_failed=0, skipped=0, mean_duration_ms=30.0,
            first_ms=1_000, last_ms=4_000,
        ),
        TestTotalsRow(
            test_id="C", suite="unit", class_name="com.acme.CartTest", name="test_C", runs=3, passed=3, failed=0,
            flaky=0, retries=1, retries_passed=1, retries_failed=0, skipped=1, mean_duration_ms=0.0,
            first_ms=1_000, last_ms=5_000,
        ),
    ]  # fmt: skip
    assert [row.test_id for row in history.test_totals(since_ms=0, until_ms=UNTIL)] == ["A", "B", "C", "D"]
    assert [row.test_id for row in history.test_totals(since_ms=0, until_ms=UNTIL, pipeline_id="nightly")] == ["C", "D"]


def _run_row(test_id: str, execution_id: str, outcome: TestOutcome, **fields: object) -> TestRunRow:
    values: dict[str, object] = {
        "suite": "unit",
        "class_name": f"com.acme.{test_id}Test",
        "name": f"test_{test_id}",
        "attempt": 1,
        "is_retry": False,
        "duration_ms": 0,
        "message": None,
        "failure_type": None,
        "pipeline_id": "build",
        "stage_id": None,
        "step_id": None,
        "branch": "main",
        "pr_number": None,
    }
    return TestRunRow(test_id=test_id, execution_id=execution_id, outcome=outcome, **(values | fields))  # type: ignore[arg-type]


def test_execution_tests_count_first_attempts_and_name_the_tests_that_failed_each_execution(history: Store) -> None:
    rows = history.execution_tests(since_ms=0, until_ms=UNTIL)
    got = {row.execution_id: (row.tests, row.tests_failed, row.failed_tests, row.failed, row.retry_of) for row in rows}
    # e1: A failed then passed on attempt 2, so only B failed the execution; e6 reported no tests; e9 is later.
    assert got == {
        "e1": (3, 2, ("B",), True, None),
        "e2": (2, 1, ("B",), False, None),
        "e3": (4, 1, ("B",), True, None),
        "e4": (3, 1, ("B",), False, "e3"),
        "e5": (2, 0, (), False, None),
    }
    assert [row.execution_id for row in rows] == ["e1", "e2", "e3", "e4", "e5"]
    assert [row.execution_id for row in history.execution_tests(since_ms=0, until_ms=UNTIL, pipeline_id="nightly")] == [
        "e5"
    ]


def test_execution_tests_keep_results_stamped_in_another_time_zone_or_not_at_all(store: Store) -> None:
    day = 86_400_000
    fact = execution("late", commit_sha="c1", started_ms=3 * day, status="Failed")
    with store.transaction():
        store.upsert_executions([fact])
        store.add_test_results(
            [
                # A JUnit timestamp in local time, five hours before the execution's own start.
                ran(fact, "A", FAILED, started_ms=3 * day - 5 * 3_600_000),
                ran(fact, "A", FAILED, attempt=2, started_ms=3 * day - 5 * 3_600_000 + 10),
                ran(fact, "B", PASSED),
                ran(fact, "C", ERROR),
            ]
        )
    (row,) = store.execution_tests(since_ms=3 * day - 60_000, until_ms=4 * day)
    assert (row.tests, row.tests_failed, row.failed_tests) == (3, 2, ("A", "C"))


def test_test_history_lists_a_tests_latest_results_with_their_executions_context(history: Store) -> None:
    assert history.test_history("A", since_ms=2_000, limit=3) == [
        _run_row("A", "e9", FAILED, commit_sha="c9", run_ms=90_000),
        _run_row("A", "e4", PASSED, commit_sha="c2", run_ms=4_000, is_retry=True, duration_ms=50),
        _run_row("A", "e3", PASSED, commit_sha="c2", run_ms=3_000, duration_ms=40),
    ]
    assert history.test_history("A", since_ms=0, limit=10)[-2:] == [
        _run_row("A", "e1", PASSED, commit_sha="c1", run_ms=1_000, attempt=2, is_retry=True, duration_ms=20),
        _run_row("A", "e1", FAILED, commit_sha="c1", run_ms=1_000, duration_ms=10, message="expected 1, got 2"),
    ]


def test_test_results_pages_through_filtered_results_newest_first(history: Store) -> None:
    failures = TestResultFilter(outcomes=(FAILED, ERROR), since_ms=0, until_ms=UNTIL)

    first = history.test_results(failures, page=0, size=2)
    last = history.test_results(failures, page=2, size=2)

    assert first == Page(
        items=(
            _run_row("B", "e4", FAILED, commit_sha="c2", run_ms=4_000, is_retry=True),
            _run_row("B", "e3", ERROR, commit_sha="c2", run_ms=3_000, failure_type="NullPointerException"),
        ),
        page=0,
        size=2,
        total=5,
    )
    assert first.has_more
    assert last.items == (_run_row("B", "e1", FAILED, commit_sha="c1", run_ms=1_000),)
    assert not last.has_more


def test_test_results_filter_by_name_suite_pipeline_branch_commit_and_execution(history: Store) -> None:
    def ids(**filters: object) -> list[tuple[str, str]]:
        page = history.test_results(TestResultFilter(**filters), size=100)  # type: ignore[arg-type]
        return [(row.test_id, row.execution_id) for row in page.items]

    assert ids(search="CART", pipeline_id="nightly") == [("C", "e5")]
    assert ids(branch="feature/x") == [("C", "e5"), ("D", "e5")]
    assert ids(commit_sha="c1", test_id="B") == [("B", "e2"), ("B", "e1")]
    assert ids(execution_id="ghost", suite="unit") == [("X", "ghost")]
    assert ids(suite="integration") == []


def test_signature_occurrences_group_by_pipeline_and_branch_with_first_and_last_sighting(store: Store) -> None:
    store.upsert_executions([E1, E2, E3, E5, E9])
    store.add_log_signatures(
        [
            signature("e1", "T1", count=3),
            signature("e3", "T1", step_id="test"),
            signature("e5", "T1", count=2),
            signature("e9", "T1"),
            signature("e2", "T2"),
        ]
    )

    assert store.signature_occurrences("T1", since_ms=0) == [
        SignatureOccurrenceRow(
            pipeline_id="build", branch="main", executions=3, occurrences=5, first_ms=1_000, last_ms=90_000,
            first_execution_id="e1", first_commit_sha="c1", last_execution_id="e9",
        ),
        SignatureOccurrenceRow(
            pipeline_id="nightly", branch="feature/x", executions=1, occurrences=2, first_ms=5_000, last_ms=5_000,
            first_execution_id="e5", first_commit_sha="c3", last_execution_id="e5",
        ),
    ]  # fmt: skip
    assert store.signature_occurrences("T1", since_ms=2_000, until_ms=10_000)[0] == SignatureOccurrenceRow(
        pipeline_id="build", branch="main", executions=1, occurrences=1, first_ms=3_000, last_ms=3_000,
        first_execution_id="e3", first_commit_sha="c2", last_execution_id="e3",
    )  # fmt: skip
    assert store.signature_occurrences("unknown", since_ms=0) == []


@pytest.fixture
def step_history(store: Store) -> Store:
    store.upsert_executions([E1, E2, E3, E4, E5, E9])
    store.upsert_nodes(
        [
            step("e1", "compile", status="Failed", started_ms=1_000, ended_ms=1_500, failure_types=("TIMEOUT",),
                 failure_message="timed out", delegate="d1"),
            step("e2", "compile", started_ms=2_000, ended_ms=2_100, delegate="d2"),
            step("e3", "compile", started_ms=3_000, ended_ms=3_300),
            step("e4", "compile", started_ms=4_000, ended_ms=4_200),
            step("e4", "lint", started_ms=4_000),
            step("e5", "compile", started_ms=5_000, ended_ms=9_000),
            step("e9", "compile", started_ms=90_000, ended_ms=90_900),
            step("e2", "ci", kind="stage", stage_id=None, started_ms=2_000, ended_ms=2_500),
        ]
    )  # fmt: skip
    return store


def test_step_durations_give_percentiles_of_successful_runs_and_count_failures(step_history: Store) -> None:
    assert step_history.step_durations("build", "ci", "compile", since_ms=0, until_ms=UNTIL) == StepDurationRow(
        pipeline_id="build", stage_id="ci", step_id="compile", runs=3, failures=1, p50_ms=200.0, p95_ms=290.0,
        max_ms=300,
    )  # fmt: skip
    assert step_history.step_durations("build", "ci", None, since_ms=0) == StepDurationRow(
        pipeline_id="build", stage_id="ci", step_id=None, runs=1, failures=0, p50_ms=500.0, p95_ms=500.0, max_ms=500
    )
    assert step_history.step_durations("build", "ci", "lint", since_ms=0) == StepDurationRow(
        pipeline_id="build", stage_id="ci", step_id="lint", runs=0, failures=0, p50_ms=None, p95_ms=None, max_ms=None
    )


def test_step_history_lists_a_steps_latest_runs_with_failure_and_delegate(step_history: Store) -> None:
    runs = step_history.step_history("build", "ci", "compile", since_ms=0, limit=10)

    assert [run.execution_id for run in runs] == ["e9", "e4", "e3", "e2", "e1"]
    assert runs[-1] == StepRunRow(
        execution_id="e1", status="Failed", is_failure=True, failure_types=("TIMEOUT",), failure_message="timed out",
        delegate="d1", started_ms=1_000, duration_ms=500, commit_sha="c1", branch="main",
    )  # fmt: skip
    assert step_history.step_history("build", "ci", "compile", since_ms=0, limit=1)[0].execution_id == "e9"


def test_telemetry_between_filters_by_kind_host_and_service_oldest_first(store: Store) -> None:
    dns = event(500, "dns_error", host="h1", service="cart")
    reset = event(1_500, "tcp_reset", host="h2")
    alert = event(1_500, "high_latency", source="alert", service="cart")
    store.add_telemetry([event(20_000, "dns_error", host="h1"), reset, alert, dns])

    assert store.telemetry_between(0, 2_000) == [dns, alert, reset]
    assert store.telemetry_between(0, 2_000, kinds={"dns_error", "tcp_reset"}) == [dns, reset]
    assert store.telemetry_between(0, 2_000, host="h2") == [reset]
    assert store.telemetry_between(0, 2_000, service="cart") == [dns, alert]
    assert store.telemetry_between(0, 2_000, host="") == []


def test_executions_pages_through_filtered_executions_newest_first(history: Store) -> None:
    build = ExecutionFilter(pipeline_id="build", project="payments", since_ms=0, until_ms=10_000)

    assert history.executions(build, size=3) == Page(items=(E4, E3, E2), page=0, size=3, total=4)
    assert history.executions(build, page=1, size=3).items == (E1,)
    assert history.executions(ExecutionFilter(statuses=("FAILED",), org="default")).items == (E9, E6, E3, E1)
    assert history.executions(ExecutionFilter(failed_only=True, until_ms=5_000)).items == (E3, E1)
    assert history.executions(ExecutionFilter(branch="feature/x", commit_sha="c3")).items == (E5,)
    assert history.executions(ExecutionFilter(pr_number=7)).total == 0


def test_deployments_between_filters_by_service_and_environment_oldest_first(store: Store) -> None:
    late = deployment("e4", "deploy-prod", started_ms=4_100, pipeline_id="build", artifact_tag="1.2.0")
    early = deployment("e2", "deploy-prod", started_ms=2_100, strategy="Canary", environment_type="Production")
    qa = deployment("e5", "deploy-qa", service_id="api", environment_id="qa", started_ms=5_100)
    store.add_deployments([qa, late, early])

    assert store.deployments_between(2_000, 5_000) == [early, late]
    assert store.deployments_between(0, 10_000, service_id="api") == [qa]
    assert store.deployments_between(0, 10_000, environment_id="prod") == [early, late]


def test_project_summary_counts_runs_and_ranks_failing_pipelines_and_tests(history: Store) -> None:
    assert history.project_summary(0, 10_000, project="payments", top=1) == ProjectSummary(
        since_ms=0,
        until_ms=10_000,
        executions=5,
        succeeded=3,
        failed=2,
        top_failing_pipelines=(
            PipelineFailureRow(pipeline_id="build", pipeline_name="Build", runs=4, failures=2, last_failure_ms=3_000),
        ),
        most_failing_tests=(
            TestFailureRow(
                test_id="B", suite="unit", class_name="com.acme.BTest", name="test_B", runs=3, failures=3,
                last_failure_ms=3_000,
            ),
        ),
    )  # fmt: skip
    everywhere = history.project_summary(0, 10_000)
    assert (everywhere.executions, everywhere.failed, everywhere.failure_rate) == (6, 3, 0.5)
    assert [(p.pipeline_id, p.runs, p.failures) for p in everywhere.top_failing_pipelines] == [("build", 5, 3)]
    assert [(t.test_id, t.failures) for t in everywhere.most_failing_tests] == [("B", 3), ("A", 1)]
    assert history.project_summary(100_000, 200_000).failure_rate is None
