"""The SQL of the store's named queries (DuckDB dialect), one function per query. Each returns the statement and
its parameters; values always travel as parameters, never inside the text. Aggregation happens here, in SQL, so
only the rows an analysis needs cross into Python.

Test queries read the `test_runs` view: test results with what their execution adds (see `schema.py`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from harness_connector.domain.history import TestOutcome
from harness_connector.store.filters import ExecutionFilter, TestResultFilter

__all__ = [
    "DEPLOYMENT_COLUMNS",
    "EXECUTION_COLUMNS",
    "TEST_RUN_COLUMNS",
    "Query",
    "count_rows",
    "deployments_between",
    "executions_page",
    "failing_pipelines",
    "failing_tests",
    "project_runs",
    "signature_occurrences",
    "step_durations",
    "step_history",
    "telemetry_between",
    "test_history",
    "test_outcomes_by_commit",
    "test_results_page",
    "test_totals",
]


@dataclass(frozen=True, slots=True)
class Query:
    """A statement and its positional parameters."""

    text: str
    params: list[object] = field(default_factory=list)


class _Where:
    """AND-ed conditions collected from optional filters; an unset filter adds nothing."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list[object] = []

    def add(self, clause: str, *params: object) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def eq(self, column: str, value: object) -> None:
        if value is not None:
            self.add(f"{column} = ?", value)

    def any_of(self, column: str, values: Collection[str] | None) -> None:
        if values is not None:
            self.add(f"{column} IN (SELECT unnest(?::VARCHAR[]))", sorted(values))

    def window(self, column: str, since_ms: int | None, until_ms: int | None) -> None:
        if since_ms is not None:
            self.add(f"{column} >= ?", since_ms)
        if until_ms is not None:
            self.add(f"{column} < ?", until_ms)

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "TRUE"


def _values(*outcomes: TestOutcome) -> str:
    return "(" + ", ".join(f"'{outcome.value}'" for outcome in outcomes) + ")"


_FAILED = _values(TestOutcome.FAILED, TestOutcome.ERROR)
_PASSED = f"'{TestOutcome.PASSED.value}'"
_FLAKY = f"'{TestOutcome.FLAKY.value}'"
_RESULT_CLOCK_SLACK_MS = 86_400_000
_SKIPPED = f"'{TestOutcome.SKIPPED.value}'"
_EVIDENCE = _values(TestOutcome.FAILED, TestOutcome.ERROR, TestOutcome.FLAKY)
_RETRY_PASSED = _values(TestOutcome.PASSED, TestOutcome.FLAKY)


def _outcome_counts(total: str) -> str:
    """The counts of TestCommitRow and TestTotalsRow, in their field order, each `total` over its rows."""
    kinds = (
        ("runs", f"NOT is_retry AND outcome <> {_SKIPPED}"),
        ("passed", f"NOT is_retry AND outcome = {_PASSED}"),
        ("failed", f"NOT is_retry AND outcome IN {_FAILED}"),
        ("flaky", f"NOT is_retry AND outcome = {_FLAKY}"),
        ("retries", f"is_retry AND outcome <> {_SKIPPED}"),
        # A retry the runner marked flaky (Surefire's final attempt after `<flakyFailure>`s, or a repeated case
        # that passed after failing) ended in a pass: counting it here is what makes it pass-on-retry evidence.
        ("retries_passed", f"is_retry AND outcome IN {_RETRY_PASSED}"),
        ("retries_failed", f"is_retry AND outcome IN {_FAILED}"),
        ("skipped", f"outcome = {_SKIPPED}"),
    )
    return ", ".join(f"coalesce({total} FILTER (WHERE {condition}), 0) AS {name}" for name, condition in kinds)


TEST_RUN_COLUMNS = (
    "test_id, suite, class_name, name, outcome, attempt, is_retry, duration_ms, message, failure_type, "
    "execution_id, pipeline_id, stage_id, step_id, commit_sha, branch, pr_number, run_ms"
)
EXECUTION_COLUMNS = (
    "execution_id, account_id, org, project, pipeline_id, pipeline_name, run_sequence, status, started_ms, ended_ms, "
    "trigger_type, triggered_by, branch, target_branch, commit_sha, repo, pr_number, failure_message, failure_types, "
    "retry_of, is_rerun"
)
DEPLOYMENT_COLUMNS = (
    "execution_id, stage_id, service_id, environment_id, environment_type, infrastructure_id, artifact, "
    "artifact_tag, strategy, status, started_ms, ended_ms, pipeline_id"
)


def _test_window(since_ms: int, until_ms: int, pipeline_id: str | None, branch: str | None) -> _Where:
    where = _Where()
    where.window("run_ms", since_ms, until_ms)
    where.eq("pipeline_id", pipeline_id)
    where.eq("branch", branch)
    return where


def test_outcomes_by_commit(
    *, since_ms: int, until_ms: int, pipeline_id: str | None, branch: str | None, only_failing: bool
) -> Query:
    """Rows of `TestCommitRow`, in field order."""
    where = _test_window(since_ms, until_ms, pipeline_id, branch)
    where.add("commit_sha IS NOT NULL")
    # Finding the few failing (test, commit) pairs first, then aggregating only their results, avoids a hash
    # aggregate over every pair in the window, which is most of the cost on a large table. The pairs are matched
    # by their 64-bit pair_key; HAVING drops any pair let in by a key collision, so the rows stay exact.
    # NOT MATERIALIZED: scanning twice is cheaper than buffering the window.
    failing = f""",
    failing AS (SELECT DISTINCT pair_key FROM runs WHERE outcome IN {_EVIDENCE})"""
    text = f"""
    WITH runs AS NOT MATERIALIZED (
        SELECT pair_key, test_id, commit_sha, execution_id, outcome, is_retry, run_ms FROM test_runs
        WHERE {where.sql()}
    ){failing if only_failing else ""}
    SELECT test_id, commit_sha, {_outcome_counts("count(*)")},
        count(DISTINCT execution_id), min(run_ms), max(run_ms)
    FROM runs {"SEMI JOIN failing USING (pair_key)" if only_failing else ""}
    GROUP BY test_id, commit_sha
    {f"HAVING count(*) FILTER (WHERE outcome IN {_EVIDENCE}) > 0" if only_failing else ""}
    ORDER BY test_id, commit_sha"""
    return Query(text, where.params)


def test_totals(
    *,
    since_ms: int,
    until_ms: int,
    pipeline_id: str | None,
    branch: str | None,
    test_ids: Collection[str] | None,
) -> Query:
    """Rows of `TestTotalsRow`, in field order."""
    where = _test_window(since_ms, until_ms, pipeline_id, branch)
    where.any_of("test_id", test_ids)
    # Grouping by (test, retry, outcome) first leaves a few rows per test to split into counts, which costs far
    # less than evaluating every count's filter on every result.
    text = f"""
    WITH grouped AS (
        SELECT test_id, is_retry, outcome, count(*) AS n, sum(duration_ms) AS duration_ms, min(run_ms) AS first_ms,
            max(run_ms) AS last_ms
        FROM test_runs WHERE {where.sql()}
        GROUP BY test_id, is_retry, outcome
    ), totals AS (
        SELECT test_id, {_outcome_counts("sum(n)")},
            coalesce(
                sum(duration_ms) FILTER (WHERE outcome <> {_SKIPPED}) / sum(n) FILTER (WHERE outcome <> {_SKIPPED}),
                0.0
            ) AS mean_duration_ms,
            min(first_ms) AS first_ms, max(last_ms) AS last_ms
        FROM grouped GROUP BY test_id
    )
    SELECT test_id, coalesce(t.suite, ''), coalesce(t.class_name, ''), coalesce(t.name, ''), totals.* EXCLUDE (test_id)
    FROM totals LEFT JOIN tests AS t USING (test_id)
    ORDER BY test_id"""
    return Query(text, where.params)


def test_history(test_id: str, *, since_ms: int, limit: int) -> Query:
    """Rows of `TestRunRow`, newest first."""
    text = f"""
    SELECT {TEST_RUN_COLUMNS} FROM test_runs WHERE test_id = ? AND run_ms >= ?
    ORDER BY run_ms DESC, execution_id DESC, attempt DESC LIMIT ?"""
    return Query(text, [test_id, since_ms, limit])


def test_histories(test_ids: Collection[str], *, since_ms: int, limit: int) -> Query:
    """Rows of `TestRunRow` for several tests at once, each test's newest `limit`, by test then newest first."""
    order = "run_ms DESC, execution_id DESC, attempt DESC"
    text = f"""
    SELECT {TEST_RUN_COLUMNS} FROM (
        SELECT {TEST_RUN_COLUMNS}, row_number() OVER (PARTITION BY test_id ORDER BY {order}) AS newest
        FROM test_runs WHERE test_id IN (SELECT unnest(?::VARCHAR[])) AND run_ms >= ?
    ) WHERE newest <= ?
    ORDER BY test_id, {order}"""
    return Query(text, [sorted(test_ids), since_ms, limit])


def execution_tests(*, since_ms: int, until_ms: int, pipeline_id: str | None, branch: str | None) -> Query:
    """Rows of `ExecutionTestsRow` for executions that started in the window and reported tests, oldest first."""
    where = _Where()
    where.window("started_ms", since_ms, until_ms)
    where.eq("pipeline_id", pipeline_id)
    where.eq("branch", branch)
    # The final outcome of a test in an execution is its last attempt's: the tests whose final outcome failed are
    # the ones that failed the execution. Only a test that failed at some attempt can have, and its last attempt is
    # that failure or a later attempt: grouping the failed results with the later attempts alone finds the same
    # finals, at a small share of the cost of grouping every result.
    # Results are screened by their own time before they meet the window's executions, a day early because a
    # JUnit timestamp may be local time; a result without one is always kept.
    text = f"""
    WITH window_executions AS (
        SELECT execution_id, pipeline_id, commit_sha, started_ms, ended_ms - started_ms AS duration_ms,
            is_failure, retry_of
        FROM executions WHERE {where.sql()}
    ), results AS NOT MATERIALIZED (
        SELECT execution_id, test_id, attempt, outcome FROM test_results
        WHERE started_ms IS NULL OR started_ms >= ?
    ), first_attempts AS (
        SELECT execution_id,
            count(*) FILTER (WHERE attempt = 1 AND outcome <> {_SKIPPED}) AS tests,
            count(*) FILTER (WHERE attempt = 1 AND outcome IN {_FAILED}) AS tests_failed
        FROM results GROUP BY execution_id
    ), finals AS (
        SELECT execution_id, test_id, arg_max(outcome, attempt) AS final
        FROM results WHERE attempt > 1 OR outcome IN {_FAILED}
        GROUP BY execution_id, test_id
    ), failed_tests AS (
        SELECT execution_id, list(test_id ORDER BY test_id) AS failed_tests FROM finals
        WHERE final IN {_FAILED} GROUP BY execution_id
    )
    SELECT e.execution_id, e.pipeline_id, e.commit_sha, coalesce(e.started_ms, 0), e.duration_ms, e.is_failure,
        e.retry_of, f.tests, f.tests_failed, coalesce(t.failed_tests, [])
    FROM window_executions AS e
    JOIN first_attempts AS f USING (execution_id)
    LEFT JOIN failed_tests AS t USING (execution_id)
    ORDER BY e.started_ms, e.execution_id"""
    return Query(text, [*where.params, since_ms - _RESULT_CLOCK_SLACK_MS])


def busiest_branch(*, since_ms: int, until_ms: int, pipeline_id: str | None) -> Query:
    """The branch most executions outside pull requests ran on in the window (one row, or none)."""
    where = _Where()
    where.window("started_ms", since_ms, until_ms)
    where.eq("pipeline_id", pipeline_id)
    where.add("pr_number IS NULL AND branch IS NOT NULL")
    text = f"SELECT branch FROM executions WHERE {where.sql()} GROUP BY branch ORDER BY count(*) DESC, branch LIMIT 1"
    return Query(text, where.params)


def _test_result_where(filters: TestResultFilter) -> _Where:
    where = _Where()
    where.eq("test_id", filters.test_id)
    where.eq("suite", filters.suite)
    where.eq("pipeline_id", filters.pipeline_id)
    where.eq("branch", filters.branch)
    where.eq("commit_sha", filters.commit_sha)
    where.eq("execution_id", filters.execution_id)
    if filters.outcomes:
        where.any_of("outcome", [outcome.value for outcome in filters.outcomes])
    if filters.search:
        needle = filters.search.lower()
        where.add(
            "(contains(lower(name), ?) OR contains(lower(class_name), ?) OR contains(lower(suite), ?))", *[needle] * 3
        )
    where.window("run_ms", filters.since_ms, filters.until_ms)
    return where


def test_results_page(filters: TestResultFilter, *, offset: int, limit: int) -> tuple[Query, Query]:
    """The total count, and one page of `TestRunRow` rows, newest first."""
    where = _test_result_where(filters)
    total = Query(f"SELECT count(*) FROM test_runs WHERE {where.sql()}", where.params)
    page = Query(
        f"""SELECT {TEST_RUN_COLUMNS} FROM test_runs WHERE {where.sql()}
        ORDER BY run_ms DESC NULLS LAST, execution_id DESC, test_id, attempt LIMIT ? OFFSET ?""",
        [*where.params, limit, offset],
    )
    return total, page


def signature_occurrences(template_id: str, *, since_ms: int, until_ms: int | None) -> Query:
    """Rows of `SignatureOccurrenceRow`, in order of first appearance."""
    where = _Where()
    where.eq("s.template_id", template_id)
    where.window("e.started_ms", since_ms, until_ms)
    # Ties on start time are broken by execution id, so "first" is the same on every run of the query.
    text = f"""
    SELECT e.pipeline_id, e.branch, count(DISTINCT s.execution_id), sum(s.count),
        min(e.started_ms), max(e.started_ms),
        arg_min(s.execution_id, (e.started_ms, s.execution_id)),
        arg_min(e.commit_sha, (e.started_ms, s.execution_id)),
        arg_max(s.execution_id, (e.started_ms, s.execution_id))
    FROM log_signatures AS s JOIN executions AS e USING (execution_id)
    WHERE {where.sql()}
    GROUP BY e.pipeline_id, e.branch
    ORDER BY min(e.started_ms), e.pipeline_id NULLS FIRST, e.branch NULLS FIRST"""
    return Query(text, where.params)


def _node_where(pipeline_id: str, stage_id: str, step_id: str | None) -> _Where:
    where = _Where()
    where.eq("e.pipeline_id", pipeline_id)
    if step_id is None:
        where.add("n.kind = 'stage' AND n.identifier = ?", stage_id)
    else:
        where.add("n.kind = 'step' AND n.stage_id = ? AND n.identifier = ?", stage_id, step_id)
    return where


def step_durations(
    pipeline_id: str, stage_id: str, step_id: str | None, *, since_ms: int, until_ms: int | None
) -> Query:
    """One row: successful runs with a duration, failed runs, p50, p95 and max of the successful durations."""
    where = _node_where(pipeline_id, stage_id, step_id)
    where.window("coalesce(n.started_ms, e.started_ms)", since_ms, until_ms)
    ok = "n.is_success AND n.duration_ms IS NOT NULL"
    text = f"""
    SELECT count(*) FILTER (WHERE {ok}), count(*) FILTER (WHERE n.is_failure),
        quantile_cont(n.duration_ms, 0.5) FILTER (WHERE {ok}),
        quantile_cont(n.duration_ms, 0.95) FILTER (WHERE {ok}),
        max(n.duration_ms) FILTER (WHERE {ok})
    FROM nodes AS n JOIN executions AS e USING (execution_id)
    WHERE {where.sql()}"""
    return Query(text, where.params)


def step_history(pipeline_id: str, stage_id: str, step_id: str | None, *, since_ms: int, limit: int) -> Query:
    """Rows of `StepRunRow`, newest first."""
    where = _node_where(pipeline_id, stage_id, step_id)
    where.window("coalesce(n.started_ms, e.started_ms)", since_ms, None)
    text = f"""
    SELECT n.execution_id, n.status, n.is_failure, n.failure_types, n.failure_message, n.delegate, n.started_ms,
        n.duration_ms, e.commit_sha, e.branch
    FROM nodes AS n JOIN executions AS e USING (execution_id)
    WHERE {where.sql()}
    ORDER BY coalesce(n.started_ms, e.started_ms) DESC, n.execution_id DESC LIMIT ?"""
    return Query(text, [*where.params, limit])


def telemetry_between(
    start_ms: int, end_ms: int, *, kinds: Collection[str] | None, host: str | None, service: str | None
) -> Query:
    """Rows of (time_ms, source, kind, service, host, message), oldest first."""
    where = _Where()
    where.window("time_ms", start_ms, end_ms)
    where.any_of("kind", kinds)
    # A missing host is stored as '' (it is part of the key), so '' never matches a real host filter.
    if host is not None:
        where.add("host = ? AND host <> ''", host)
    where.eq("service", service)
    text = f"""
    SELECT time_ms, source, kind, service, nullif(host, ''), message FROM telemetry WHERE {where.sql()}
    ORDER BY time_ms, source, kind, host, message"""
    return Query(text, where.params)


def _execution_where(filters: ExecutionFilter, statuses: Sequence[str]) -> _Where:
    where = _Where()
    where.eq("org", filters.org)
    where.eq("project", filters.project)
    where.eq("pipeline_id", filters.pipeline_id)
    where.eq("branch", filters.branch)
    where.eq("commit_sha", filters.commit_sha)
    where.eq("pr_number", filters.pr_number)
    if filters.statuses:
        where.any_of("status", statuses)
    if filters.failed_only:
        where.add("is_failure")
    where.window("started_ms", filters.since_ms, filters.until_ms)
    return where


def executions_page(
    filters: ExecutionFilter, statuses: Sequence[str], *, offset: int, limit: int
) -> tuple[Query, Query]:
    """The total count, and one page of executions (`EXECUTION_COLUMNS`), newest first. `statuses` are the
    filter's statuses in stored spelling."""
    where = _execution_where(filters, statuses)
    total = Query(f"SELECT count(*) FROM executions WHERE {where.sql()}", where.params)
    page = Query(
        f"""SELECT {EXECUTION_COLUMNS} FROM executions WHERE {where.sql()}
        ORDER BY started_ms DESC NULLS LAST, execution_id DESC LIMIT ? OFFSET ?""",
        [*where.params, limit, offset],
    )
    return total, page


def deployments_between(start_ms: int, end_ms: int, *, service_id: str | None, environment_id: str | None) -> Query:
    """Deployments (`DEPLOYMENT_COLUMNS`), oldest first."""
    where = _Where()
    where.window("started_ms", start_ms, end_ms)
    where.eq("service_id", service_id)
    where.eq("environment_id", environment_id)
    text = f"""SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE {where.sql()}
    ORDER BY started_ms, execution_id, stage_id"""
    return Query(text, where.params)


def _scope(since_ms: int, until_ms: int, org: str | None, project: str | None, time_column: str) -> _Where:
    where = _Where()
    where.window(time_column, since_ms, until_ms)
    where.eq("org", org)
    where.eq("project", project)
    return where


def project_runs(since_ms: int, until_ms: int, *, org: str | None, project: str | None) -> Query:
    """One row: executions, succeeded, failed."""
    where = _scope(since_ms, until_ms, org, project, "started_ms")
    text = f"""SELECT count(*), count(*) FILTER (WHERE is_success), count(*) FILTER (WHERE is_failure)
    FROM executions WHERE {where.sql()}"""
    return Query(text, where.params)


def failing_pipelines(since_ms: int, until_ms: int, *, org: str | None, project: str | None, top: int) -> Query:
    """Rows of `PipelineFailureRow`, most failures first."""
    where = _scope(since_ms, until_ms, org, project, "started_ms")
    text = f"""
    SELECT pipeline_id, arg_max(pipeline_name, started_ms), count(*), count(*) FILTER (WHERE is_failure) AS failures,
        max(started_ms) FILTER (WHERE is_failure)
    FROM executions WHERE {where.sql()}
    GROUP BY pipeline_id HAVING failures > 0
    ORDER BY failures DESC, pipeline_id LIMIT ?"""
    return Query(text, [*where.params, top])


def failing_tests(since_ms: int, until_ms: int, *, org: str | None, project: str | None, top: int) -> Query:
    """Rows of `TestFailureRow` (first attempts), most failures first."""
    where = _scope(since_ms, until_ms, org, project, "run_ms")
    where.add("NOT is_retry")
    text = f"""
    WITH failing AS (
        SELECT test_id, count(*) FILTER (WHERE outcome <> {_SKIPPED}) AS runs,
            count(*) FILTER (WHERE outcome IN {_FAILED}) AS failures,
            max(run_ms) FILTER (WHERE outcome IN {_FAILED}) AS last_failure_ms
        FROM test_runs WHERE {where.sql()}
        GROUP BY test_id HAVING failures > 0
        ORDER BY failures DESC, test_id LIMIT ?
    )
    SELECT test_id, coalesce(t.suite, ''), coalesce(t.class_name, ''), coalesce(t.name, ''), runs, failures,
        last_failure_ms
    FROM failing LEFT JOIN tests AS t USING (test_id)
    ORDER BY failures DESC, test_id"""
    return Query(text, [*where.params, top])


def count_rows(tables: Sequence[str]) -> Query:
    """One (table, rows) row per table; the names are the store's own, never user input."""
    return Query(" UNION ALL ".join(f"SELECT '{table}', count(*) FROM {table}" for table in tables))
