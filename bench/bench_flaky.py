"""Speed of flaky-test detection on the aggregates of 10 million test results.

Builds, with a seeded generator, what the store's flaky queries return for 14 days of a busy project: 20,000 tests
run on 3,000 commits (10 million first attempts, 500 per test), and about 300,000 failing (test, commit) pairs:

- 600 flaky tests failing 3-20 % of first attempts (reruns on the same commit sometimes pass, sometimes retries),
- 30 tests broken for their last 2-4 days, 40 slow ones among the flaky,
- 1,800 work-in-progress commits that each break 150 tests on a branch (fail on every run of that commit),
- and a background of isolated failures;

plus 6,000 `ExecutionTestsRow`s (with 10 outage executions) and 200-result histories for the 50 tests
`history_candidates` names. Then times (best of 3, median beside it) `history_candidates` and `detect_flaky`
without and with the optional inputs, and prints the verdict counts.

Set BENCH_FLAKY_PAIRS (default 300000) to change the number of failing pairs.

Run: `python -m bench.bench_flaky` (or `make bench` for every benchmark).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from typing import TypeVar

from harness_connector.analysis.flaky import (
    ExecutionTestsRow,
    FlakyReport,
    detect_flaky,
    history_candidates,
)
from harness_connector.domain.history import TestOutcome
from harness_connector.store.rows import TestCommitRow, TestRunRow, TestTotalsRow

UNTIL_MS = 1_700_000_000_000
WINDOW_MS = 14 * 86_400_000
SINCE_MS = UNTIL_MS - WINDOW_MS
TESTS = 20_000
COMMITS = 3_000
RUNS_PER_TEST = 500
FLAKY = 600
BROKEN = 30
SLOW = 40
BRANCH_BREAKS = 1_800
BROKEN_PER_BREAK = 150
T = TypeVar("T")


def _sha(index: int) -> str:
    return f"{index * 2654435761 % 2**64:016x}{index:024x}"


def _commit_ms(index: int) -> int:
    return SINCE_MS + index * (WINDOW_MS // COMMITS)


def build_inputs(pairs: int, rng: random.Random) -> tuple[list[TestTotalsRow], list[TestCommitRow]]:
    """Totals for every test and the failing (test, commit) pairs, as the store returns them."""
    shas = [_sha(i) for i in range(COMMITS)]
    failing: dict[str, list[TestCommitRow]] = {}

    def add(test: int, commit: int, passed: int, failed: int, flaky: int, retries_passed: int) -> None:
        runs = passed + failed + flaky
        retries = retries_passed + (failed - retries_passed if failed > retries_passed else 0)
        ms = _commit_ms(commit)
        row = TestCommitRow(
            f"t{test:05d}", shas[commit], runs, passed, failed, flaky, retries, retries_passed,
            retries - retries_passed, 0, runs, ms, ms + 3_600_000,
        )  # fmt: skip
        failing.setdefault(row.test_id, []).append(row)

    for test in range(FLAKY):
        rate = 0.03 + 0.17 * rng.random()
        for commit in rng.sample(range(COMMITS), RUNS_PER_TEST // 2):
            if rng.random() < rate:
                add(test, commit, rng.randint(0, 2), 1, int(rng.random() < 0.1), int(rng.random() < 0.6))
    for test in range(FLAKY, FLAKY + BROKEN):
        start = COMMITS - rng.randint(400, 900)
        for commit in range(start, COMMITS, 3):
            add(test, commit, 0, rng.randint(1, 2), 0, 0)
    background = max(0, pairs - BRANCH_BREAKS * BROKEN_PER_BREAK - sum(len(rows) for rows in failing.values()))
    for commit in rng.sample(range(COMMITS), BRANCH_BREAKS):
        first = rng.randrange(TESTS - BROKEN_PER_BREAK)
        for test in range(first, first + BROKEN_PER_BREAK):
            add(test, commit, 0, 1, 0, 0)
    for _ in range(background):
        add(rng.randrange(TESTS), rng.randrange(COMMITS), int(rng.random() < 0.2), 1, 0, 0)
    commits = [row for test_id in sorted(failing) for row in sorted(failing[test_id], key=lambda r: r.commit_sha)]
    totals = []
    for test in range(TESTS):
        test_id = f"t{test:05d}"
        rows = failing.get(test_id, [])
        failed = sum(row.failed for row in rows)
        flaky = sum(row.flaky for row in rows)
        retries = sum(row.retries for row in rows)
        retries_passed = sum(row.retries_passed for row in rows)
        duration = 45_000.0 if FLAKY - SLOW <= test < FLAKY else 120.0 + test % 900
        totals.append(
            TestTotalsRow(
                test_id, f"suite-{test // 200}", f"com.acme.module{test // 1000}.Class{test // 10}", f"case_{test}",
                RUNS_PER_TEST, RUNS_PER_TEST - failed - flaky, failed, flaky, retries, retries_passed,
                retries - retries_passed, 0, duration, SINCE_MS, UNTIL_MS - 1,
            )
        )  # fmt: skip
    return totals, commits


def build_executions(commits: list[TestCommitRow], rng: random.Random) -> list[ExecutionTestsRow]:
    """6,000 executions; their failed tests are drawn from the failing pairs, 10 of them outages."""
    by_commit: dict[str, list[str]] = {}
    for row in commits:
        if row.failed:
            by_commit.setdefault(row.commit_sha, []).append(row.test_id)
    shas = [_sha(i) for i in range(COMMITS)]
    executions = []
    for index in range(6_000):
        commit = rng.randrange(COMMITS)
        failed_tests = tuple(by_commit.get(shas[commit], [])[:20])
        outage = index % 600 == 0
        executions.append(
            ExecutionTestsRow(
                f"exec-{index}", f"pipeline-{index % 8}", shas[commit], _commit_ms(commit), 600_000 + index % 300_000,
                bool(failed_tests) or outage, f"exec-{index - 1}" if index and rng.random() < 0.05 else None,
                2_000, 1_900 if outage else len(failed_tests), failed_tests,
            )
        )  # fmt: skip
    return executions


def build_history(test_id: str, rng: random.Random) -> list[TestRunRow]:
    """200 first attempts on `main`, newest first: the broken tests fail since their 30th run back, the others
    fail 10 % of the time."""
    broken = FLAKY <= int(test_id[1:]) < FLAKY + BROKEN
    rows = []
    for index in range(200):
        failed = index < 30 if broken else rng.random() < 0.1
        rows.append(
            TestRunRow(
                test_id, "suite", "Class", "case", TestOutcome.FAILED if failed else TestOutcome.PASSED, 1, False,
                100, "read timed out" if failed else None, None, f"exec-{index}", f"pipeline-{index % 8}", "build",
                "test", _sha(COMMITS - 1 - index), "main", None, UNTIL_MS - index * 3_600_000,
            )
        )  # fmt: skip
    return rows


def timed(label: str, call: Callable[[], T], repeat: int = 3) -> T:
    seconds = []
    result: T | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - start)
    print(f"{label:<58} best {min(seconds):6.3f} s   median {statistics.median(seconds):6.3f} s")
    assert result is not None
    return result


def main() -> None:
    pairs = int(os.environ.get("BENCH_FLAKY_PAIRS", "300000"))
    rng = random.Random(42)
    start = time.perf_counter()
    totals, commits = build_inputs(pairs, rng)
    executions = build_executions(commits, rng)
    print(
        f"built {len(commits):,} TestCommitRow, {len(totals):,} TestTotalsRow, {len(executions):,} "
        f"ExecutionTestsRow in {time.perf_counter() - start:.1f} s"
    )
    wanted = timed("history_candidates", lambda: history_candidates(totals, commits))
    histories = {test_id: build_history(test_id, rng) for test_id in wanted}
    timed("detect_flaky (aggregates only)", lambda: detect_flaky(totals, commits, until_ms=UNTIL_MS))
    report: FlakyReport = timed(
        f"detect_flaky (+ executions, {len(histories)} histories, main)",
        lambda: detect_flaky(
            totals, commits, until_ms=UNTIL_MS, histories=histories, executions=executions, default_branch="main"
        ),
    )
    print(
        f"tests {report.tests:,}, verdicts {len(report.verdicts):,}: flaky {report.flaky:,}, slow_and_flaky "
        f"{report.slow_and_flaky:,}, broken {report.broken:,}; ignored {report.ignored_executions} executions, "
        f"{report.ignored_commits} commits; {report.impact.failed_executions} executions failed by flaky tests, "
        f"{report.impact.ci_minutes_lost:,.0f} CI minutes lost"
    )


if __name__ == "__main__":
    main()
