"""`DuckDBStore`: the history store in one DuckDB file (or in memory).

One connection, guarded by a re-entrant lock: a DuckDB connection is not safe for concurrent use, and one writer
process per file is DuckDB's rule anyway; the lock is held for a whole `transaction()` block, so other threads
never see or join a transaction half done.

Bulk writes go through DuckDB's appender into a temporary staging table, then one `INSERT ... SELECT ... ON
CONFLICT` moves the rows in. Measured on test results: `executemany` managed under 1,000 rows/s, multi-row VALUES
about 4,000, the appender over 100,000; and the staging step is what lets a write count its new rows and skip (or
replace) the stored ones.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from harness_connector.domain.history import (
    Deployment,
    ExecutionFact,
    LogSignature,
    NodeFact,
    StepLog,
    SyncCursor,
    TelemetryEvent,
    TestOutcome,
    TestResult,
)
from harness_connector.domain.quarantine import QuarantineAuditEntry, QuarantineProposal, QuarantineStatus
from harness_connector.errors import StoreError, UsageError
from harness_connector.store import _tables as tables
from harness_connector.store import queries
from harness_connector.store.filters import ExecutionFilter, TestResultFilter
from harness_connector.store.rows import (
    ExecutionTestsRow,
    Page,
    PipelineFailureRow,
    ProjectSummary,
    SignatureOccurrenceRow,
    StepDurationRow,
    StepRunRow,
    TestCommitRow,
    TestFailureRow,
    TestRunRow,
    TestTotalsRow,
)
from harness_connector.store.schema import apply_migrations

__all__ = ["DuckDBStore"]

MAX_PAGE_SIZE = 1000
R = TypeVar("R")


class DuckDBStore:
    """The `Store` protocol on DuckDB. `path` is a database file (created if missing) or `":memory:"`.

    The constructor connects but does not migrate: call `migrate()` (`open_store` does both). Writes move records
    `write_chunk` at a time, which bounds the memory a streamed write uses.
    """

    def __init__(self, path: Path | str, *, write_chunk: int = 50_000) -> None:
        if write_chunk < 1:
            raise UsageError(f"write_chunk must be at least 1, got {write_chunk}")
        self._write_chunk = write_chunk
        self._where = str(path)
        self._con: duckdb.DuckDBPyConnection | None = duckdb.connect(self._where)
        self._lock = threading.RLock()
        self._depth = 0

    def __repr__(self) -> str:
        return f"DuckDBStore({self._where!r})"

    # Lifecycle

    def migrate(self) -> int:
        with self._locked() as con:
            if self._depth:
                raise UsageError("migrate() cannot run inside transaction(): call it before writing")
            version = apply_migrations(con, where=f"the history store {self._where}")
            # Staging tables are made here, outside any transaction, so a rolled-back write cannot undo their
            # creation; and remade, because a migration may have changed their table's columns.
            for spec in tables.WRITTEN:
                columns = ", ".join(spec.columns)
                con.execute(f"CREATE OR REPLACE TEMP TABLE {spec.stage} AS SELECT {columns} FROM {spec.table} LIMIT 0")
            return version

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._locked() as con:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            con.execute("BEGIN TRANSACTION")
            self._depth = 1
            try:
                yield
            except BaseException:
                con.execute("ROLLBACK")
                raise
            else:
                con.execute("COMMIT")
            finally:
                self._depth = 0

    @contextmanager
    def _locked(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            if self._con is None:
                raise StoreError(f"the history store {self._where} is closed")
            try:
                yield self._con
            except duckdb.Error as exc:
                raise StoreError(f"the history store {self._where} failed: {exc}") from exc

    def _fetch(self, query: queries.Query) -> list[Any]:
        with self._locked() as con:
            return con.execute(query.text, query.params).fetchall()

    def _fetch_one(self, query: queries.Query) -> Any:
        rows = self._fetch(query)
        return rows[0]

    # Writes

    def _write(self, spec: tables.TableSpec[R], records: Iterable[R]) -> int:
        keys = ", ".join(spec.key)
        targets = ", ".join([*spec.columns, *(column for column, _ in spec.computed)])
        values = ", ".join([*spec.columns, *(expression for _, expression in spec.computed)])
        insert = f"INSERT INTO {spec.table} ({targets}) SELECT {values} FROM {spec.stage}"
        new = 0
        with self.transaction(), self._locked() as con:
            # In chunks, so a caller may stream any number of records in bounded memory.
            for chunk in _chunks(records, self._write_chunk):
                rows = [spec.to_row(record) for record in chunk]
                if spec.replace:
                    # One row per key, the last one given: an upsert cannot touch a row twice in one statement.
                    rows = list({row[: len(spec.key)]: row for row in rows}.values())
                with con.appender(spec.stage) as appender:
                    appender.append_rows(rows)
                if spec.replace:
                    anti = f"SELECT count(*) FROM {spec.stage} ANTI JOIN {spec.table} USING ({keys})"
                    new += int(con.execute(anti).fetchall()[0][0])
                    updates = ", ".join(f"{c} = excluded.{c}" for c in spec.columns if c not in spec.key)
                    con.execute(f"{insert} ON CONFLICT ({keys}) DO UPDATE SET {updates}")
                else:
                    new += int(con.execute(f"{insert} ON CONFLICT DO NOTHING").fetchall()[0][0])
                for statement in spec.then:
                    con.execute(statement.format(stage=spec.stage))
                # On failure the transaction's rollback empties the staging table instead.
                con.execute(f"DELETE FROM {spec.stage}")
        return new

    def upsert_executions(self, executions: Iterable[ExecutionFact]) -> int:
        return self._write(tables.EXECUTIONS, executions)

    def upsert_nodes(self, nodes: Iterable[NodeFact]) -> int:
        return self._write(tables.NODES, nodes)

    def add_test_results(self, results: Iterable[TestResult]) -> int:
        return self._write(tables.TEST_RESULTS, results)

    def add_log_signatures(self, signatures: Iterable[LogSignature]) -> int:
        return self._write(tables.LOG_SIGNATURES, signatures)

    def add_deployments(self, deployments: Iterable[Deployment]) -> int:
        return self._write(tables.DEPLOYMENTS, deployments)

    def add_telemetry(self, events: Iterable[TelemetryEvent]) -> int:
        return self._write(tables.TELEMETRY, events)

    def add_step_logs(self, logs: Iterable[StepLog]) -> int:
        return self._write(tables.STEP_LOGS, logs)

    def step_log(self, execution_id: str, step_id: str) -> StepLog | None:
        columns = ", ".join(tables.STEP_LOG_FIELDS)
        query = queries.Query(
            f"SELECT {columns} FROM step_logs WHERE execution_id = ? AND step_id = ?", [execution_id, step_id]
        )
        rows = self._fetch(query)
        return tables.step_log_from_row(rows[0]) if rows else None

    def save_quarantine(self, proposal: QuarantineProposal, audit: QuarantineAuditEntry) -> None:
        with self.transaction():
            self._write(tables.QUARANTINE, [proposal])
            self._write(tables.QUARANTINE_AUDIT, [audit])

    def quarantine(self, proposal_id: str) -> QuarantineProposal | None:
        columns = ", ".join(tables.QUARANTINE_FIELDS)
        rows = self._fetch(queries.Query(f"SELECT {columns} FROM quarantine WHERE proposal_id = ?", [proposal_id]))
        return tables.quarantine_from_row(rows[0]) if rows else None

    def quarantines(self, *, statuses: Collection[QuarantineStatus] | None = None) -> list[QuarantineProposal]:
        columns = ", ".join(tables.QUARANTINE_FIELDS)
        where = "TRUE" if statuses is None else "status IN (SELECT unnest(?::VARCHAR[]))"
        params: list[object] = [] if statuses is None else [sorted(str(status) for status in statuses)]
        query = queries.Query(
            f"SELECT {columns} FROM quarantine WHERE {where} ORDER BY proposed_ms DESC, proposal_id", params
        )
        return [tables.quarantine_from_row(row) for row in self._fetch(query)]

    def quarantine_audit(self, proposal_id: str | None = None) -> list[QuarantineAuditEntry]:
        columns = ", ".join(tables.QUARANTINE_AUDIT_FIELDS)
        params: list[object] = [] if proposal_id is None else [proposal_id]
        where = "TRUE" if proposal_id is None else "proposal_id = ?"
        query = queries.Query(
            # Within one millisecond, a proposal's life still reads in order: proposed, decided, lifted.
            f"""SELECT {columns} FROM quarantine_audit WHERE {where}
            ORDER BY at_ms, proposal_id, CASE action WHEN 'proposed' THEN 0 WHEN 'lifted' THEN 2 ELSE 1 END, action""",
            params,
        )
        return [tables.quarantine_audit_from_row(row) for row in self._fetch(query)]

    def known_execution_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(ids))
        if not wanted:
            return set()
        query = queries.Query(
            "SELECT execution_id FROM executions WHERE execution_id IN (SELECT unnest(?::VARCHAR[]))", [wanted]
        )
        return {row[0] for row in self._fetch(query)}

    def get_cursor(self, account_id: str, org: str, project: str) -> SyncCursor | None:
        rows = self._fetch(
            queries.Query(
                f"SELECT {tables.CURSOR_COLUMNS} FROM sync_cursors WHERE account_id = ? AND org = ? AND project = ?",
                [account_id, org, project],
            )
        )
        return tables.cursor_from_row(rows[0]) if rows else None

    def set_cursor(self, cursor: SyncCursor) -> None:
        with self._locked() as con:
            con.execute(
                f"INSERT OR REPLACE INTO sync_cursors ({tables.CURSOR_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                tables.cursor_row(cursor),
            )

    def counts(self) -> dict[str, int]:
        return {table: int(rows) for table, rows in self._fetch(queries.count_rows(tables.DATA_TABLES))}

    # Point reads

    def execution(self, execution_id: str) -> ExecutionFact | None:
        rows = self._fetch(
            queries.Query(f"SELECT {queries.EXECUTION_COLUMNS} FROM executions WHERE execution_id = ?", [execution_id])
        )
        return tables.execution_from_row(rows[0]) if rows else None

    def nodes(self, execution_id: str) -> list[NodeFact]:
        columns = ", ".join(tables.NODE_FIELDS)
        query = queries.Query(
            f"SELECT {columns} FROM nodes WHERE execution_id = ? ORDER BY started_ms NULLS LAST, node_id",
            [execution_id],
        )
        return [tables.node_from_row(row) for row in self._fetch(query)]

    def log_signatures(self, execution_id: str) -> list[LogSignature]:
        columns = ", ".join(tables.LOG_SIGNATURE_FIELDS)
        query = queries.Query(
            f"SELECT {columns} FROM log_signatures WHERE execution_id = ? ORDER BY step_id, first_line, template_id",
            [execution_id],
        )
        return [tables.log_signature_from_row(row) for row in self._fetch(query)]

    # Named queries

    def test_outcomes_by_commit(
        self,
        *,
        since_ms: int,
        until_ms: int,
        pipeline_id: str | None = None,
        branch: str | None = None,
        only_failing: bool = True,
    ) -> list[TestCommitRow]:
        query = queries.test_outcomes_by_commit(
            since_ms=since_ms, until_ms=until_ms, pipeline_id=pipeline_id, branch=branch, only_failing=only_failing
        )
        return list(map(TestCommitRow._make, self._fetch(query)))

    def test_totals(
        self,
        *,
        since_ms: int,
        until_ms: int,
        pipeline_id: str | None = None,
        branch: str | None = None,
        test_ids: Collection[str] | None = None,
    ) -> list[TestTotalsRow]:
        query = queries.test_totals(
            since_ms=since_ms, until_ms=until_ms, pipeline_id=pipeline_id, branch=branch, test_ids=test_ids
        )
        return list(map(TestTotalsRow._make, self._fetch(query)))

    def test_history(self, test_id: str, *, since_ms: int, limit: int = 100) -> list[TestRunRow]:
        return [_test_run(row) for row in self._fetch(queries.test_history(test_id, since_ms=since_ms, limit=limit))]

    def test_histories(
        self, test_ids: Collection[str], *, since_ms: int, limit: int = 100
    ) -> dict[str, list[TestRunRow]]:
        found: dict[str, list[TestRunRow]] = {}
        if not test_ids:
            return found
        for row in self._fetch(queries.test_histories(test_ids, since_ms=since_ms, limit=limit)):
            run = _test_run(row)
            found.setdefault(run.test_id, []).append(run)
        return found

    def test_files(self, test_ids: Collection[str]) -> dict[str, str]:
        wanted = sorted(set(test_ids))
        if not wanted:
            return {}
        # The newest file wins: a test moved to another file is owned where it lives now.
        query = queries.Query(
            """SELECT test_id, arg_max(file, coalesce(started_ms, 0)) FROM test_results
            WHERE file IS NOT NULL AND file <> '' AND test_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY test_id""",
            [wanted],
        )
        return {str(test_id): str(file) for test_id, file in self._fetch(query)}

    def execution_tests(
        self, *, since_ms: int, until_ms: int, pipeline_id: str | None = None, branch: str | None = None
    ) -> list[ExecutionTestsRow]:
        query = queries.execution_tests(since_ms=since_ms, until_ms=until_ms, pipeline_id=pipeline_id, branch=branch)
        return [_execution_tests(row) for row in self._fetch(query)]

    def busiest_branch(self, *, since_ms: int, until_ms: int, pipeline_id: str | None = None) -> str | None:
        rows = self._fetch(queries.busiest_branch(since_ms=since_ms, until_ms=until_ms, pipeline_id=pipeline_id))
        return str(rows[0][0]) if rows else None

    def test_results(self, filters: TestResultFilter, *, page: int = 0, size: int = 50) -> Page[TestRunRow]:
        _check_page(page, size)
        total, rows = queries.test_results_page(filters, offset=page * size, limit=size)
        with self._locked():
            count = int(self._fetch_one(total)[0])
            items = tuple(_test_run(row) for row in self._fetch(rows))
        return Page(items=items, page=page, size=size, total=count)

    def signature_occurrences(
        self, template_id: str, *, since_ms: int, until_ms: int | None = None
    ) -> list[SignatureOccurrenceRow]:
        query = queries.signature_occurrences(template_id, since_ms=since_ms, until_ms=until_ms)
        return [_row(SignatureOccurrenceRow, row) for row in self._fetch(query)]

    def step_durations(
        self, pipeline_id: str, stage_id: str, step_id: str | None, *, since_ms: int, until_ms: int | None = None
    ) -> StepDurationRow:
        query = queries.step_durations(pipeline_id, stage_id, step_id, since_ms=since_ms, until_ms=until_ms)
        runs, failures, p50, p95, longest = self._fetch_one(query)
        return StepDurationRow(
            pipeline_id=pipeline_id,
            stage_id=stage_id,
            step_id=step_id,
            runs=runs,
            failures=failures,
            p50_ms=p50,
            p95_ms=p95,
            max_ms=longest,
        )

    def step_history(
        self, pipeline_id: str, stage_id: str, step_id: str | None, *, since_ms: int, limit: int = 50
    ) -> list[StepRunRow]:
        query = queries.step_history(pipeline_id, stage_id, step_id, since_ms=since_ms, limit=limit)
        return [_row(StepRunRow, (*row[:3], tuple(row[3]), *row[4:])) for row in self._fetch(query)]

    def telemetry_between(
        self,
        start_ms: int,
        end_ms: int,
        *,
        kinds: Collection[str] | None = None,
        host: str | None = None,
        service: str | None = None,
    ) -> list[TelemetryEvent]:
        query = queries.telemetry_between(start_ms, end_ms, kinds=kinds, host=host, service=service)
        return [tables.telemetry_from_row(row) for row in self._fetch(query)]

    def executions(self, filters: ExecutionFilter, *, page: int = 0, size: int = 50) -> Page[ExecutionFact]:
        _check_page(page, size)
        statuses = [tables.status_flags(status)[0] for status in filters.statuses]
        total, rows = queries.executions_page(filters, statuses, offset=page * size, limit=size)
        with self._locked():
            count = int(self._fetch_one(total)[0])
            items = tuple(tables.execution_from_row(row) for row in self._fetch(rows))
        return Page(items=items, page=page, size=size, total=count)

    def deployments_between(
        self,
        start_ms: int,
        end_ms: int,
        *,
        service_id: str | None = None,
        environment_id: str | None = None,
    ) -> list[Deployment]:
        query = queries.deployments_between(start_ms, end_ms, service_id=service_id, environment_id=environment_id)
        return [tables.deployment_from_row(row) for row in self._fetch(query)]

    def project_summary(
        self, since_ms: int, until_ms: int, *, org: str | None = None, project: str | None = None, top: int = 5
    ) -> ProjectSummary:
        scope = {"org": org, "project": project}
        with self._locked():
            runs, succeeded, failed = self._fetch_one(queries.project_runs(since_ms, until_ms, **scope))
            pipelines = self._fetch(queries.failing_pipelines(since_ms, until_ms, top=top, **scope))
            tests = self._fetch(queries.failing_tests(since_ms, until_ms, top=top, **scope))
        return ProjectSummary(
            since_ms=since_ms,
            until_ms=until_ms,
            executions=runs,
            succeeded=succeeded,
            failed=failed,
            top_failing_pipelines=tuple(_row(PipelineFailureRow, row) for row in pipelines),
            most_failing_tests=tuple(_row(TestFailureRow, row) for row in tests),
        )


def _chunks(items: Iterable[R], size: int) -> Iterator[list[R]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _check_page(page: int, size: int) -> None:
    if page < 0 or not 1 <= size <= MAX_PAGE_SIZE:
        raise UsageError(f"page must be >= 0 and size between 1 and {MAX_PAGE_SIZE}; got page={page}, size={size}")


def _row(cls: Callable[..., R], row: Sequence[Any]) -> R:
    """A row dataclass from a query row whose columns are in the dataclass's field order."""
    return cls(*row)


def _test_run(row: Sequence[Any]) -> TestRunRow:
    return _row(TestRunRow, (*row[:4], TestOutcome(row[4]), *row[5:]))


def _execution_tests(row: Sequence[Any]) -> ExecutionTestsRow:
    execution_id, pipeline_id, commit_sha, started_ms, duration_ms, failed, retry_of, tests, tests_failed, names = row
    return ExecutionTestsRow(
        execution_id,
        pipeline_id,
        commit_sha,
        started_ms,
        duration_ms,
        failed,
        retry_of,
        tests,
        tests_failed,
        tuple(names),
    )
