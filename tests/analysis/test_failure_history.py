"""Judging failing tests from their history, history-driven verdict changes, and the bounded log scan."""

from __future__ import annotations

import json

import pytest

from harness_connector.analysis.failures.classifier import FailureSignals, HistorySignals, TestSignal, classify
from harness_connector.analysis.failures.scan import StepLogScan
from harness_connector.analysis.failures.taxonomy import Action, Category, load_taxonomy
from harness_connector.analysis.failures.test_history import judge_test
from harness_connector.domain.history import TestOutcome
from harness_connector.domain.logs import LogLine
from harness_connector.harness.logs import RawLogLines
from harness_connector.store.rows import TestRunRow

P, F, K = TestOutcome.PASSED, TestOutcome.FAILED, TestOutcome.FLAKY


def run(
    execution: str, outcome: TestOutcome, at: int, commit: str, *, retry: bool = False, pr: int | None = None
) -> TestRunRow:
    return TestRunRow(
        "t1", "suite", "Cls", "test", outcome, 2 if retry else 1, retry, 10, None, None, execution, "build", "s",
        "unit", commit, "main" if pr is None else f"pr-{pr}", pr, at,
    )  # fmt: skip


def judge(rows: list[TestRunRow], execution: str, commit: str) -> TestSignal:
    return judge_test("Cls.test", rows, execution_id=execution, commit_sha=commit, pipeline_id="build", branch="main")


def test_a_pass_on_the_same_commit_makes_it_flaky() -> None:
    rows = [run("e1", P, 1, "a"), run("e2", F, 2, "b"), run("e3", P, 3, "b")]
    assert judge(rows, "e2", "b").verdict == "flaky"


def test_a_pass_on_retry_inside_the_run_makes_it_flaky() -> None:
    rows = [run("e1", P, 1, "a"), run("e2", F, 2, "b"), run("e2", P, 2, "b", retry=True)]
    found = judge(rows, "e2", "b")
    assert (found.verdict, "retry" in found.reason) == ("flaky", True)


def test_the_runners_own_flaky_outcome_counts() -> None:
    assert judge([run("e1", K, 1, "a")], "e1", "a").verdict == "flaky"


def test_failing_on_every_run_since_a_commit_is_broken_by_that_commit() -> None:
    rows = [run("e1", P, 1, "a"), run("e2", F, 2, "b"), run("e3", F, 3, "c"), run("e4", F, 4, "d")]
    found = judge(rows, "e3", "c")
    assert (found.verdict, found.since_commit) == ("broken", "b")


def test_failures_on_and_off_are_flaky() -> None:
    rows = [run("e1", F, 1, "a"), run("e2", P, 2, "b"), run("e3", P, 3, "c"), run("e4", F, 4, "d")]
    assert judge(rows, "e4", "d").verdict == "flaky"


def test_a_single_failure_on_a_pull_request_is_new_but_on_the_main_branch_between_passes_is_flaky() -> None:
    before = [run(f"p{n}", P, n, f"c{n}", pr=7) for n in range(1, 6)]
    assert judge([*before, run("e2", F, 10, "b", pr=7)], "e2", "b").verdict == "new"
    on_pr = [*before, run("e2", F, 10, "b", pr=7), run("e3", P, 11, "c", pr=7)]
    found = judge(on_pr, "e2", "b")
    assert (found.verdict, found.since_commit) == ("new", "b")
    on_main = [run("e1", P, 1, "a"), run("e2", F, 2, "b"), run("e3", P, 3, "c")]
    assert judge(on_main, "e2", "b").verdict == "flaky"


def test_with_too_few_other_runs_the_verdict_is_unknown() -> None:
    rows = [run("e1", P, 1, "a", pr=7), run("e2", F, 2, "b", pr=7)]
    assert judge(rows, "e2", "b").verdict == "unknown"


def test_failures_elsewhere_during_the_same_breakage_do_not_make_it_flaky() -> None:
    rows = [
        run("e1", P, 1, "a"), run("e2", F, 2, "b"), run("e3", F, 3, "c"), run("x9", F, 3, "z", pr=4),
        run("e4", P, 5, "d"),
    ]  # fmt: skip
    found = judge(rows, "e2", "b")
    assert (found.verdict, found.since_commit) == ("broken", "b")


def test_a_run_the_history_does_not_have_is_unknown() -> None:
    assert judge([run("e1", P, 1, "a")], "e9", "z").verdict == "unknown"


TESTS_FAILED = [LogLine(number=10, text="[ERROR] Tests run: 40, Failures: 1, Errors: 0, Skipped: 0", level="ERROR")]


def test_flaky_failing_tests_make_a_test_failure_transient() -> None:
    history = HistorySignals(failing_tests=(TestSignal("A.b", "flaky", "it passed on the same commit"),))
    found = classify(FailureSignals(lines=TESTS_FAILED, history=history), load_taxonomy())
    assert (found.category, found.transient, found.action) == (Category.TEST_FAILURE, True, Action.RERUN_NOW)


def test_broken_failing_tests_need_a_fix_naming_the_commit() -> None:
    history = HistorySignals(failing_tests=(TestSignal("A.b", "broken", "failed since", since_commit="abc123"),))
    found = classify(FailureSignals(lines=TESTS_FAILED, history=history), load_taxonomy())
    assert (found.transient, found.action) == (False, Action.FIX)
    assert "abc123" in found.remediation


DNS = [LogLine(number=3, text="npm ERR! request to https://registry.npmjs.org/left-pad failed, reason: getaddrinfo "
               "EAI_AGAIN registry.npmjs.org", level="ERROR")]  # fmt: skip


def test_an_isolated_dns_error_is_network_but_a_widespread_one_at_a_registry_is_its_outage() -> None:
    alone = classify(FailureSignals(lines=DNS, history=HistorySignals()), load_taxonomy())
    assert (alone.category, alone.action) == (Category.NETWORK, Action.RERUN_NOW)
    widespread = HistorySignals(other_pipelines_hit=3, network_events=4, event_hosts=("registry.npmjs.org",))
    found = classify(FailureSignals(lines=DNS, history=widespread), load_taxonomy())
    assert found.category is Category.DEPENDENCY_REGISTRY_OUTAGE
    assert found.transient


def test_an_outage_still_under_way_says_wait_and_an_ended_one_says_rerun_now() -> None:
    line = LogLine(number=5, text="npm ERR! code E503", level="ERROR")
    ongoing = HistorySignals(network_events=3, event_hosts=("registry.npmjs.org",), events_ongoing=True)
    assert classify(FailureSignals(lines=[line], history=ongoing), load_taxonomy()).action is Action.RERUN_AFTER_OUTAGE
    over = HistorySignals(network_events=3, event_hosts=("registry.npmjs.org",), events_ongoing=False)
    assert classify(FailureSignals(lines=[line], history=over), load_taxonomy()).action is Action.RERUN_NOW


def test_lines_the_last_success_also_printed_lose_to_new_ones() -> None:
    lines = [
        LogLine(number=1, text="npm ERR! code ETIMEDOUT", level="ERROR"),
        LogLine(
            number=9, text="src/app.ts(3,7): error TS2339: Property 'x' does not exist on type 'Y'.", level="ERROR"
        ),
    ]
    found = classify(FailureSignals(lines=lines, is_new=lambda text: "TS2339" in text), load_taxonomy())
    assert found.category is Category.COMPILE_ERROR


def test_harness_failure_types_decide_before_the_log() -> None:
    signals = FailureSignals(
        failure_types=("DELEGATE_PROVISIONING",),
        message="No eligible delegate(s) in account to execute task.",
        lines=[LogLine(number=1, text="npm ERR! code ETIMEDOUT")],
    )
    found = classify(signals, load_taxonomy())
    assert (found.category, found.rule and found.rule.id) == (Category.RUNNER_ENVIRONMENT, "delegate_unavailable")
    assert found.confidence >= 0.85


def test_the_scan_keeps_the_tail_and_error_lines_of_a_huge_log_in_bounded_memory() -> None:
    scan = StepLogScan(tail=100, keep=50)
    for n in range(1, 200_001):
        text = f"compiling module {n}" if n % 1000 else f"ERROR something failed at {n}"
        scan.feed(LogLine(number=n, text=text))
    scan.feed(LogLine(number=200_001, text="x" * 1_000_000))
    result = scan.result()
    assert result.total_lines == 200_001
    assert result.error_lines == 200
    assert len(result.lines) <= 100 + 50 + 50
    assert result.lines[0].number == 1000  # the first error line is kept
    assert result.last_line is not None and len(result.last_line.text) <= 2_000


def _json_line(number: int, text: str, level: str = "info") -> bytes:
    return json.dumps({"level": level, "pos": number - 1, "out": text + "\n", "time": "t", "args": {}}).encode()


def _batches(lines: list[tuple[str, str]], size: int) -> list[RawLogLines]:
    raw = [_json_line(n, text, level) for n, (level, text) in enumerate(lines, start=1)]
    return [RawLogLines(start + 1, raw[start : start + size], {}) for start in range(0, len(raw), size)]


@pytest.mark.parametrize("size", [1, 13, 1000])
def test_the_scan_of_undecoded_batches_keeps_what_the_scan_of_decoded_lines_keeps(size: int) -> None:
    noise = [
        "[INFO] Downloading lib{n}.jar",
        "[INFO] Tests run: 3, Failures: 0, Errors: 0",
        "compiled {n} files",
        "stderr of {n} is empty",
        "catalog {n} of the mechanic",
        "npm ERR! code E{n}",
        "Err:{n} http://deb",
    ]
    lines = [("info", noise[n % len(noise)].format(n=n)) for n in range(3_000)]
    lines[1_234] = ("error", "a line whose only sign is its level")
    lines[2_500] = ("info", "panic: runtime error: index out of range")
    eager, lazy = StepLogScan(tail=200, keep=40), StepLogScan(tail=200, keep=40)
    for n, (level, text) in enumerate(lines, start=1):
        eager.feed(LogLine(number=n, text=text, level=level.upper(), time="t"))
    for batch in _batches(lines, size):
        lazy.feed_batch(batch)
    assert lazy.result() == eager.result()
    assert lazy.result().error_lines == eager.result().error_lines > 1_000


def test_the_scan_of_undecoded_batches_decodes_a_batch_of_long_lines_at_once_and_cuts_them() -> None:
    lines = [("info", "x" * 5_000 + " fail") for _ in range(30)]
    scan = StepLogScan(tail=10, keep=5)
    for batch in _batches(lines, 7):
        scan.feed_batch(batch)
    result = scan.result()
    assert result.total_lines == 30 and result.error_lines == 30
    assert all(len(line.text) == 2_000 for line in result.lines)
    assert [line.number for line in result.lines] == [1, 2, 3, 4, 5, *range(21, 31)]
