"""Speed of the history store's flaky-test queries on 10 million test results, and of bulk ingestion.

Generates, with SQL inside DuckDB, a history of 5,000 executions over 2,000 commits (2.5 executions a commit, one
in 17 a rerun, 60 % on `main`), five pipelines each running 2,000 of 5,000 tests: 10 million first attempts, plus a
retry of every failure. 200 of the tests are flaky (15 % failures, most retries pass), the others fail 0.5 % of the
time. Then times, through the `Store` API:

- `test_outcomes_by_commit` over the whole table (target < 2 s on 2 cores), as flaky detection calls it (only the
  pairs with a failure), and for every (test, commit) pair, to show what returning all pairs would cost;
- `test_totals` over the whole table (the per-test denominators);
- ingesting 1 million `TestResult` records with `add_test_results` into a new store, then the same again (all
  duplicates), in rows/s;

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
from harness_connector.store import Store, open_store

OUT = Path(__file__).resolve().parent / "out"
QUERY_TARGET_S = 2.0
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
)
SELECT 'exec-' || e, substr(md5('test' || t), 1, 16), 1, 'suite-' || (t // 100), 'com.acme.Class' || (t // 10),
    'test_case_' || t,
    CASE WHEN t < 200 AND h < 1500 THEN 'failed' WHEN h < 50 THEN 'failed' WHEN h < 60 THEN 'error'
        WHEN h < 200 THEN 'skipped' ELSE 'passed' END,
    h % 997, NULL, NULL, 'pipeline-' || (e % {pipelines}), 'build', 'test',
    substr(md5('commit' || (e * 2 // 5)) || md5('sha' || (e * 2 // 5)), 1, 40),
    CASE WHEN e % 5 < 3 THEN 'main' ELSE 'feature/f' || (e % 50) END, NULL, {start} + e * 60000 + k * 50, NULL
FROM g
"""
_RETRIES = """
INSERT INTO test_results
SELECT execution_id, test_id, 2, suite, class_name, name,
    CASE WHEN CAST(substr(name, 11) AS INTEGER) < 200 AND hash(execution_id || test_id) % 10 < 7 THEN 'passed'
        WHEN hash(execution_id || test_id) % 10 < 1 THEN 'passed' ELSE 'failed' END,
    duration_ms, NULL, NULL, pipeline_id, stage_id, step_id, commit_sha, branch, pr_number, started_ms + 1, file
FROM test_results WHERE outcome IN ('failed', 'error')
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
        con.execute(_FIRST_ATTEMPTS.format(rows=rows, **params))
        con.execute(_RETRIES)
        con.execute("CHECKPOINT")
        return int(con.execute("SELECT count(*) FROM test_results").fetchall()[0][0])
    finally:
        con.close()


def timed(call: Callable[[], T], repeats: int = 3) -> tuple[T, float]:
    """The call's result and its median wall time over `repeats` runs (the first also warms the caches)."""
    times: list[float] = []
    result: T | None = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    assert result is not None
    return result, statistics.median(times)


def bench_queries(store: Store, until_ms: int) -> bool:
    failing, failing_s = timed(lambda: store.test_outcomes_by_commit(since_ms=0, until_ms=until_ms))
    verdict = "within" if failing_s < QUERY_TARGET_S else "OVER"
    print(
        f"test_outcomes_by_commit, failing pairs: {len(failing):,} rows in {failing_s:.2f} s "
        f"({verdict} the {QUERY_TARGET_S:.0f} s target)"
    )
    flaky = sum(1 for row in failing if row.passed + row.retries_passed > 0 and row.failed + row.retries_failed > 0)
    print(f"  (test, commit) pairs with both a pass and a failure: {flaky:,}")
    totals, totals_s = timed(lambda: store.test_totals(since_ms=0, until_ms=until_ms))
    print(f"test_totals: {len(totals):,} rows in {totals_s:.2f} s")
    every, every_s = timed(
        lambda: store.test_outcomes_by_commit(since_ms=0, until_ms=until_ms, only_failing=False), repeats=1
    )
    print(f"test_outcomes_by_commit, every pair: {len(every):,} rows in {every_s:.2f} s (most of it building rows)")
    return failing_s < QUERY_TARGET_S


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
        path = Path(tmp) / "history.duckdb"
        started = time.perf_counter()
        total = generate(path, rows)
        print(
            f"generated {total:,} test results in SQL in {time.perf_counter() - started:.1f} s, "
            f"{path.stat().st_size / 1e6:,.0f} MB on disk; peak RSS so far {peak_rss_mb():,.0f} MB"
        )
        store = open_store(path)
        try:
            ok = bench_queries(store, until_ms=START_MS + 10**12)
        finally:
            store.close()
        fresh = open_store(Path(tmp) / "ingest.duckdb")
        try:
            bench_ingest(fresh, ingest)
        finally:
            fresh.close()
    print(f"peak RSS {peak_rss_mb():,.0f} MB")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
