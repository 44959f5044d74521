"""Migrations: ordered, named, applied once each, all-or-nothing, and refused when the store is newer."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from harness_connector.store import StoreSchemaError, TestCommitRow, open_store
from harness_connector.store.schema import MIGRATIONS, SCHEMA_VERSION, Migration, applied_migrations, apply_migrations


def test_migrations_are_numbered_from_one_without_gaps_and_named_uniquely() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert len({m.name for m in MIGRATIONS}) == len(MIGRATIONS)
    assert MIGRATIONS[-1].version == SCHEMA_VERSION


def test_migrations_apply_in_version_order_and_are_recorded() -> None:
    con = duckdb.connect()
    steps = (
        Migration(1, "create t", ("CREATE TABLE t (a INTEGER)",)),
        Migration(2, "add b to t", ("ALTER TABLE t ADD COLUMN b VARCHAR",)),
    )

    assert apply_migrations(con, steps) == 2
    assert applied_migrations(con) == [(1, "create t"), (2, "add b to t")]
    assert [row[0] for row in con.execute("DESCRIBE t").fetchall()] == ["a", "b"]


def test_migrating_again_applies_nothing() -> None:
    con = duckdb.connect()
    apply_migrations(con)
    recorded = con.execute("SELECT * FROM schema_migrations").fetchall()

    assert apply_migrations(con) == SCHEMA_VERSION
    assert con.execute("SELECT * FROM schema_migrations").fetchall() == recorded


def test_a_failing_migration_leaves_the_store_at_the_last_good_version() -> None:
    con = duckdb.connect()
    steps = (
        Migration(1, "create t", ("CREATE TABLE t (a INTEGER)",)),
        Migration(2, "broken", ("CREATE TABLE u (a INTEGER)", "SELECT * FROM no_such_table")),
    )

    with pytest.raises(duckdb.CatalogException):
        apply_migrations(con, steps)

    assert applied_migrations(con) == [(1, "create t")]
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'u'").fetchall() == [(0,)]


def test_a_store_with_a_newer_schema_refuses_to_open(tmp_path: Path) -> None:
    path = tmp_path / "store.duckdb"
    open_store(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_migrations VALUES (?, 'from the future', 0)", [SCHEMA_VERSION + 1])
    con.close()

    with pytest.raises(StoreSchemaError) as caught:
        open_store(path)

    assert (caught.value.found_version, caught.value.supported_version) == (SCHEMA_VERSION + 1, SCHEMA_VERSION)


def test_a_store_whose_recorded_migrations_differ_from_the_codes_refuses_to_open(tmp_path: Path) -> None:
    path = tmp_path / "store.duckdb"
    open_store(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE schema_migrations SET name = 'something else' WHERE version = 1")
    con.close()

    with pytest.raises(StoreSchemaError) as caught:
        open_store(path)

    assert (caught.value.found_version, caught.value.supported_version) == (SCHEMA_VERSION, SCHEMA_VERSION)


def test_a_version_1_store_is_upgraded_with_its_test_results_keyed_and_cataloged(tmp_path: Path) -> None:
    path = tmp_path / "store.duckdb"
    con = duckdb.connect(str(path))
    apply_migrations(con, MIGRATIONS[:1])
    con.execute(
        """INSERT INTO test_results (execution_id, test_id, attempt, suite, class_name, name, outcome, duration_ms,
            commit_sha, started_ms)
        VALUES ('e1', 'a', 1, 'unit', 'ATest', 'test_a', 'failed', 5, 'c1', 100),
               ('e2', 'a', 1, 'unit', 'ATest', 'test_a', 'passed', 7, 'c1', 200)"""
    )
    con.close()

    store = open_store(path)
    try:
        assert store.counts()["tests"] == 1
        assert store.test_outcomes_by_commit(since_ms=0, until_ms=1_000) == [
            TestCommitRow("a", "c1", 2, 1, 1, 0, 0, 0, 0, 0, 2, 100, 200)
        ]
    finally:
        store.close()
