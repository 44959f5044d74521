"""Speed of the history store's flaky-test queries on 10 million test results, and of bulk ingestion.

Generates, with SQL inside DuckDB, a history of 5,000 executions over 2,000 commits (2.5 executions a commit, one
in 17 a rerun, 60 % on `main`), five pipelines each running 2,000 of 5,000 tests: 10 million first attempts, plus a
retry of every failure. 200 of the tests are flaky (15 % failures, 70 % of their retries pass), the others fail or
error 0.6 % of the time. Then times, through the `Store` API (queries: best of 5 runs, median beside it):

- ingesting 1 million `TestResult` records with `add_test_results` into a new store, then the same again (all
  duplicates), in rows/s, and the peak RSS after it;
- `test_outcomes_by_commit` over the whole table (target < 2 s on 2 cores), as flaky detection calls it (only the
  pairs with a failure), and for every pair of one pipeline in the last 6 hours of the 3.5 days;
- `test_totals` over the whole table (the per-test denominators);
- the whole flaky report as the service makes it (aggregates, batched histories, detection; target < 3 s);

and prints the process's peak RSS. The databases live in a temporary directory under `bench/out/` and are deleted.
Set BENCH_STORE_ROWS (default 10000000) and BENCH_INGEST_ROWS (default 1000000) to change the sizes.

Run: `python -m bench.bench_store` (or `make bench` for every benchmark).
"""

from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import duckdb

from harness_connector.domain.history import TestOutcome, TestResult
from harness_connector.services.flaky import flaky_report
from harness_connector.store import Store, open_store
from harness_connector.store.schema import PAIR_KEY

OUT = Path(__file__).resolve().parent / "out"
QUERY_TARGET_S = 2.0
REPORT_TARGET_S = 3.0
TESTS = 5_000
TESTS_PER_EXECUTION = 2_000
PIPELINES = 5
BATCH = 50_000
START_MS = 1_700_000_000_000
T = TypeVar("T")

# Each execution e runs tests (p * 750 + k) % 5000 for k < 2000, where p = e % 5 is its pipeline; h is a hash
# of the row for the outcome draw. Tests < 200 are the flaky ones.
_FIRST_ATTEMPTS = """
INSERT INTO test_results
WITH g AS (
    SELECT i // {per} AS e, i % {per} AS k, ((i // {per}) % {pipelines} * 750 + i % {per}) % {tests} AS t,
        hash(i) % 10000 AS h
    FROM range({rows}) AS r(i)
), results AS (
    SELECT 'exec-' || e AS execution_id, substr(md5('test' || t), 1, 16) AS test_id, 1 AS attempt,
        'suite-' || (t // 100) AS suite, 'com.acme.Class' || (t // 10) AS class_name, 'test_case_' || t AS name,
        CASE WHEN t < 200 AND h < 1500 THEN 'failed' WHEN h < 50 THEN 'failed' WHEN h < 60 THEN 'error'
            WHEN h < 200 THEN 'skipped' ELSE 'passed' END AS outcome,
        h % 997 AS duration_ms, NULL AS message, NULL AS failure_type, 'pipeline-' || (e % {pipelines}) AS pipeline_id,
        'build' AS stage_id, 'test' AS step_id,
        substr(md5('commit' || (e * 2 // 5)) || md5('sha' || (e * 2 // 5)), 1, 40) AS commit_sha,
        CASE WHEN e % 5 < 3 THEN 'main' ELSE 'feature/f' || (e % 50) END AS branch, NULL AS pr_number,
        {start} + e * 60000 + k * 50 AS started_ms, NULL AS file
    FROM g
)
SELECT *, {pair_key} FROM results
"""
_RETRIES = """
INSERT INTO test_results
SELECT execution_id, test_id, 2, suite, class_name, name,
    CASE WHEN CAST(substr(name, 11) AS INTEGER) < 200 AND hash(execution_id || test_id) % 10 < 7 THEN 'passed'
        WHEN hash(execution_id || test_id) % 10 < 1 THEN 'passed' ELSE 'failed' END,
    duration_ms, NULL, NULL, pipeline_id, stage_id, step_id, commit_sha, branch, pr_number, started_ms + 1, file,
    pair_key
FROM test_results WHERE outcome IN ('failed', 'error')
"""
_TESTS = """
INSERT INTO tests SELECT test_id, any_value(suite), any_value(class_name), any_value(name) FROM test_results
GROUP BY test_id
"""
_EXECUTIONS = """
INSERT INTO executions
SELECT 'exec-' || e, 'acct', 'default', 'payments', 'pipeline-' || (e % {pipelines}), NULL, e, 'Success', false, true,
    {start} + e * 60000, {start} + e * 60000 + 55000, NULL, NULL,
    CASE WHEN e % 5 < 3 THEN 'main' ELSE 'feature/f' || (e % 50) END, NULL,
    substr(md5('commit' || (e * 2 // 5)) || md5('sha' || (e * 2 // 5)), 1, 40), NULL, NULL, NULL, [], NULL,
    e % 17 = 0
FROM range({executions}) AS r(e)
"""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(path: Path, rows: int) -> int:
    """Write the synthetic history into the store file at `path`; return the number of test results."""
    open_store(path).close()  # creates the schema
    executions = -(-rows // TESTS_PER_EXECUTION)
    params = {"per": TESTS_PER_EXECUTION, "pipelines": PIPELINES, "tests": TESTS, "start": START_MS}
    con = duckdb.connect(str(path))
    try:
        con.execute(_EXECUTIONS.format(executions=executions, **params))
        con.execute(_FIRST_ATTEMPTS.format(rows=rows, pair_key=PAIR_KEY, **params))
        con.execute(_RETRIES)
        con.execute(_TESTS)
        con.execute("CHECKPOINT")
        return int(con.execute("SELECT count(*) FROM test_results").fetchall()[0][0])
    finally:
        con.close()


def timed(call: Callable[[], T], repeats: int = 5) -> tuple[T, float, float]:
    """The call's result, and its best and median wall times over `repeats` runs. The best is the figure: this
    machine is shared, and a slower run measures the neighbours as much as the query."""
    times: list[float] = []
    result: T | None = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    assert result is not None
    return result, min(times), statistics.median(times)


def bench_queries(store: Store, until_ms: int) -> bool:
    failing, failing_s, failing_median = timed(lambda: store.test_outcomes_by_commit(since_ms=0, until_ms=until_ms))
    verdict = "within" if failing_s < QUERY_TARGET_S else "OVER"
    print(
        f"test_outcomes_by_commit, failing pairs: {len(failing):,} rows in {failing_s:.2f} s, median "
        f"{failing_median:.2f} s ({verdict} the {QUERY_TARGET_S:.0f} s target)"
    )
    flaky = sum(1 for row in failing if row.passed + row.retries_passed > 0 and row.failed + row.retries_failed > 0)
    print(f"  (test, commit) pairs with both a pass and a failure: {flaky:,}")
    totals, totals_s, totals_median = timed(lambda: store.test_totals(since_ms=0, until_ms=until_ms))
    print(f"test_totals: {len(totals):,} rows in {totals_s:.2f} s, median {totals_median:.2f} s")
    recent = until_ms - 6 * 3_600_000
    one, one_s, one_median = timed(
        lambda: store.test_outcomes_by_commit(
            since_ms=recent, until_ms=until_ms, pipeline_id="pipeline-0", only_failing=False
        )
    )
    print(
        f"test_outcomes_by_commit, every pair of one pipeline in the last 6 h: {len(one):,} rows in {one_s:.2f} s, "
        f"median {one_median:.2f} s"
    )
    # The whole flaky analysis as the `flaky` command and the flaky_test resource run it: every aggregate query,
    # the batched histories of the tests that need one, and detection.
    window_days = -(-(until_ms - START_MS) // 86_400_000) + 1
    report, report_s, report_median = timed(
        lambda: flaky_report(store, now_ms=until_ms, window_days=window_days), repeats=3
    )
    verdict = "within" if report_s < REPORT_TARGET_S else "OVER"
    print(
        f"flaky_report end to end: {report.tests:,} tests, {report.flaky} flaky, {report.broken} broken, "
        f"{report.ignored_executions} outage executions, in {report_s:.2f} s, median {report_median:.2f} s "
        f"({verdict} the {REPORT_TARGET_S:.0f} s target)"
    )
    return failing_s < QUERY_TARGET_S and report_s < REPORT_TARGET_S


def records(count: int) -> Iterator[list[TestResult]]:
    """`count` test results in batches: 500 executions of 2,000 tests, 1 in 20 failing with a message."""
    outcomes = (TestOutcome.PASSED,) * 19 + (TestOutcome.FAILED,)
    for start in range(0, count, BATCH):
        yield [
            TestResult(
                test_id=f"{i % TESTS:016x}",
                suite=f"suite-{i % TESTS // 100}",
                class_name=f"com.acme.Class{i % TESTS // 10}",
                name=f"test_case_{i % TESTS}",
                outcome=outcomes[i % 20],
                duration_ms=i % 997,
                message="expected 200 but was 500" if i % 20 == 19 else None,
                execution_id=f"exec-{i // TESTS_PER_EXECUTION}",
                pipeline_id="pipeline-1",
                stage_id="build",
                step_id="test",
                commit_sha=f"{i // 5_000:040x}",
                branch="main",
                started_ms=START_MS + i,
            )
            for i in range(start, min(start + BATCH, count))
        ]


def bench_ingest(store: Store, count: int) -> None:
    for label in ("new", "already stored"):
        added = 0
        spent = 0.0
        for batch in records(count):
            started = time.perf_counter()
            added += store.add_test_results(batch)
            spent += time.perf_counter() - started
        print(
            f"add_test_results, {label}: {count:,} records ({added:,} new) "
            f"in {spent:.1f} s = {count / spent:,.0f} rows/s"
        )


def main() -> None:
    rows = int(os.environ.get("BENCH_STORE_ROWS", "10000000"))
    ingest = int(os.environ.get("BENCH_INGEST_ROWS", "1000000"))
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-store-", dir=OUT) as tmp:
        # Ingestion first, so the peak RSS printed after it is ingestion's own.
        fresh = open_store(Path(tmp) / "ingest.duckdb")
        try:
            bench_ingest(fresh, ingest)
        finally:
            fresh.close()
        print(f"peak RSS after ingestion {peak_rss_mb():,.0f} MB")
        path = Path(tmp) / "history.duckdb"
        started = time.perf_counter()
        total = generate(path, rows)
        print(
            f"generated {total:,} test results in SQL in {time.perf_counter() - started:.1f} s, "
            f"{path.stat().st_size / 1e6:,.0f} MB on disk"
        )
        store = open_store(path)
        try:
            # An execution's tests run for up to 100 s after it starts.
            ok = bench_queries(store, until_ms=START_MS + -(-rows // TESTS_PER_EXECUTION) * 60_000 + 120_000)
        finally:
            store.close()
    print(f"peak RSS {peak_rss_mb():,.0f} MB (DuckDB generating the history is most of it)")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
