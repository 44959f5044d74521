"""The store's schema as ordered, named migrations, and the runner that applies them.

A migration is applied once, in its own transaction, and recorded in `schema_migrations` (version, name, when).
Versions run 1, 2, 3, ... with no gaps; a migration is never edited once released: change the schema by adding one.
A store whose recorded versions go past this code's refuses to open, so an older connector never writes into a
schema it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from harness_connector.errors import StoreSchemaError

__all__ = ["MIGRATIONS", "PAIR_KEY", "SCHEMA_VERSION", "Migration", "applied_migrations", "apply_migrations"]

# test_results.pair_key, computed from a result's columns as it is inserted (see migration 2).
PAIR_KEY = "md5_number_lower(test_id || ' ' || coalesce(commit_sha, ''))"


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema: statements run in order, in one transaction."""

    version: int
    name: str
    statements: tuple[str, ...]


_INITIAL = (
    """CREATE TABLE executions (
        execution_id VARCHAR PRIMARY KEY,
        account_id VARCHAR NOT NULL,
        org VARCHAR NOT NULL,
        project VARCHAR NOT NULL,
        pipeline_id VARCHAR NOT NULL,
        pipeline_name VARCHAR,
        run_sequence BIGINT,
        status VARCHAR NOT NULL,
        is_failure BOOLEAN NOT NULL,
        is_success BOOLEAN NOT NULL,
        started_ms BIGINT,
        ended_ms BIGINT,
        trigger_type VARCHAR,
        triggered_by VARCHAR,
        branch VARCHAR,
        target_branch VARCHAR,
        commit_sha VARCHAR,
        repo VARCHAR,
        pr_number BIGINT,
        failure_message VARCHAR,
        failure_types VARCHAR[] NOT NULL,
        retry_of VARCHAR,
        is_rerun BOOLEAN NOT NULL
    )""",
    """CREATE TABLE nodes (
        execution_id VARCHAR NOT NULL,
        node_id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        stage_id VARCHAR,
        identifier VARCHAR NOT NULL,
        name VARCHAR,
        step_type VARCHAR,
        status VARCHAR NOT NULL,
        is_failure BOOLEAN NOT NULL,
        is_success BOOLEAN NOT NULL,
        failure_types VARCHAR[] NOT NULL,
        failure_message VARCHAR,
        delegate VARCHAR,
        started_ms BIGINT,
        ended_ms BIGINT,
        duration_ms BIGINT,
        log_key VARCHAR,
        PRIMARY KEY (execution_id, node_id)
    )""",
    """CREATE TABLE test_results (
        execution_id VARCHAR NOT NULL,
        test_id VARCHAR NOT NULL,
        attempt INTEGER NOT NULL,
        suite VARCHAR NOT NULL,
        class_name VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        outcome VARCHAR NOT NULL,
        duration_ms BIGINT NOT NULL,
        message VARCHAR,
        failure_type VARCHAR,
        pipeline_id VARCHAR,
        stage_id VARCHAR,
        step_id VARCHAR,
        commit_sha VARCHAR,
        branch VARCHAR,
        pr_number BIGINT,
        started_ms BIGINT,
        file VARCHAR,
        PRIMARY KEY (execution_id, test_id, attempt)
    )""",
    """CREATE TABLE log_signatures (
        execution_id VARCHAR NOT NULL,
        step_id VARCHAR NOT NULL,
        template_id VARCHAR NOT NULL,
        stage_id VARCHAR,
        template VARCHAR NOT NULL,
        count BIGINT NOT NULL,
        first_line BIGINT NOT NULL,
        sample VARCHAR NOT NULL,
        level VARCHAR NOT NULL,
        PRIMARY KEY (execution_id, step_id, template_id)
    )""",
    """CREATE TABLE deployments (
        execution_id VARCHAR NOT NULL,
        stage_id VARCHAR NOT NULL,
        service_id VARCHAR NOT NULL,
        environment_id VARCHAR NOT NULL,
        environment_type VARCHAR,
        infrastructure_id VARCHAR,
        artifact VARCHAR,
        artifact_tag VARCHAR,
        strategy VARCHAR,
        status VARCHAR NOT NULL,
        started_ms BIGINT,
        ended_ms BIGINT,
        pipeline_id VARCHAR,
        PRIMARY KEY (execution_id, stage_id)
    )""",
    # A key column cannot be NULL, so an event without a host is keyed by '' (and read back as None).
    """CREATE TABLE telemetry (
        time_ms BIGINT NOT NULL,
        source VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        host VARCHAR NOT NULL,
        message VARCHAR NOT NULL,
        service VARCHAR,
        PRIMARY KEY (time_ms, source, kind, host, message)
    )""",
    """CREATE TABLE sync_cursors (
        account_id VARCHAR NOT NULL,
        org VARCHAR NOT NULL,
        project VARCHAR NOT NULL,
        synced_until_ms BIGINT NOT NULL,
        last_execution_id VARCHAR,
        updated_ms BIGINT NOT NULL,
        extra_json VARCHAR NOT NULL,
        PRIMARY KEY (account_id, org, project)
    )""",
    # Test results are stored as reported; context they lack (and whether their execution was a rerun) comes from
    # the execution at query time, so the order in which a sync writes them does not matter.
    """CREATE VIEW test_runs AS
    SELECT
        r.execution_id, r.test_id, r.attempt, r.suite, r.class_name, r.name, r.outcome, r.duration_ms, r.message,
        r.failure_type, r.stage_id, r.step_id, r.file,
        coalesce(r.pipeline_id, e.pipeline_id) AS pipeline_id,
        coalesce(r.commit_sha, e.commit_sha) AS commit_sha,
        coalesce(r.branch, e.branch) AS branch,
        coalesce(r.pr_number, e.pr_number) AS pr_number,
        coalesce(r.started_ms, e.started_ms) AS run_ms,
        r.attempt > 1 OR coalesce(e.is_rerun, false) AS is_retry,
        e.org,
        e.project
    FROM test_results AS r
    LEFT JOIN executions AS e USING (execution_id)""",
)

# Flaky detection matches a failing (test, commit) pair's other results by one integer instead of two strings;
# md5 and not hash(), which may change between DuckDB versions and would split a pair's results. Per-test
# aggregates take names from the `tests` catalog instead of aggregating strings over every result. A result keeps
# the context it was stored with (the sync copies it from the execution), so the pair key and the view agree; the
# execution adds whether it was a rerun, its org and project, and its start for results without a time.
_PAIR_KEYS_AND_TEST_CATALOG = (
    # First: DuckDB cannot build an index once the transaction has updated rows (which is also why pair_key
    # stays nullable: SET NOT NULL rebuilds the table's key index). Every write through the store sets it.
    """CREATE TABLE tests (
        test_id VARCHAR PRIMARY KEY,
        suite VARCHAR NOT NULL,
        class_name VARCHAR NOT NULL,
        name VARCHAR NOT NULL
    )""",
    "ALTER TABLE test_results ADD COLUMN pair_key UBIGINT",
    f"UPDATE test_results SET pair_key = {PAIR_KEY}",
    """INSERT INTO tests
    SELECT test_id, any_value(suite), any_value(class_name), any_value(name) FROM test_results GROUP BY test_id""",
    """CREATE OR REPLACE VIEW test_runs AS
    SELECT
        r.execution_id, r.test_id, r.attempt, r.suite, r.class_name, r.name, r.outcome, r.duration_ms, r.message,
        r.failure_type, r.pipeline_id, r.stage_id, r.step_id, r.commit_sha, r.branch, r.pr_number, r.file,
        r.pair_key,
        coalesce(r.started_ms, e.started_ms) AS run_ms,
        r.attempt > 1 OR coalesce(e.is_rerun, false) AS is_retry,
        e.org,
        e.project
    FROM test_results AS r
    LEFT JOIN executions AS e USING (execution_id)""",
)

# Raw logs of failed steps, kept only when a sync is asked to: zlib-compressed text, one row per step.
_STEP_LOGS = (
    """CREATE TABLE step_logs (
        execution_id VARCHAR NOT NULL,
        step_id VARCHAR NOT NULL,
        stage_id VARCHAR,
        line_count BIGINT NOT NULL,
        byte_count BIGINT NOT NULL,
        content BLOB NOT NULL,
        PRIMARY KEY (execution_id, step_id)
    )""",
)

# Quarantine proposals of flaky tests and the audit trail of every decision on them.
_QUARANTINE = (
    """CREATE TABLE quarantine (
        proposal_id VARCHAR PRIMARY KEY,
        test_id VARCHAR NOT NULL,
        suite VARCHAR NOT NULL,
        class_name VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        file VARCHAR,
        status VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        evidence VARCHAR NOT NULL,
        proposed_ms BIGINT NOT NULL,
        decided_by VARCHAR,
        decided_ms BIGINT,
        lifted_ms BIGINT,
        lift_reason VARCHAR
    )""",
    """CREATE TABLE quarantine_audit (
        proposal_id VARCHAR NOT NULL,
        at_ms BIGINT NOT NULL,
        actor VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        detail VARCHAR,
        PRIMARY KEY (proposal_id, at_ms, action, actor)
    )""",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial history schema", _INITIAL),
    Migration(2, "test pair keys and test catalog", _PAIR_KEYS_AND_TEST_CATALOG),
    Migration(3, "raw step logs", _STEP_LOGS),
    Migration(4, "flaky-test quarantine", _QUARANTINE),
)
SCHEMA_VERSION = MIGRATIONS[-1].version

_BOOKKEEPING = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    applied_ms BIGINT NOT NULL
)"""


def applied_migrations(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    """The (version, name) pairs recorded in the store, in order."""
    con.execute(_BOOKKEEPING)
    rows = con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    return [(int(version), str(name)) for version, name in rows]


def apply_migrations(
    con: duckdb.DuckDBPyConnection, migrations: tuple[Migration, ...] = MIGRATIONS, *, where: str = "the store"
) -> int:
    """Apply the migrations the store lacks, each in its own transaction, and return the schema version.

    The caller holds the connection for the duration; `con` must not be inside a transaction.

    Raises:
        StoreSchemaError: the store has versions past `migrations`, or a recorded name differs from the code's.
    """
    supported = migrations[-1].version if migrations else 0
    applied = applied_migrations(con)
    found = applied[-1][0] if applied else 0
    if found > supported:
        raise StoreSchemaError(
            f"{where} has schema version {found}, newer than the {supported} this harness-connector knows: "
            "upgrade harness-connector, or use another store file",
            found_version=found,
            supported_version=supported,
        )
    expected = [(m.version, m.name) for m in migrations[: len(applied)]]
    if applied != expected:
        raise StoreSchemaError(
            f"{where} records migrations {applied}, but this code's are {expected}: it was written by a "
            "diverging build; use another store file",
            found_version=found,
            supported_version=supported,
        )
    for migration in migrations[len(applied) :]:
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in migration.statements:
                con.execute(statement)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, epoch_ms(now()))", [migration.version, migration.name]
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return supported
