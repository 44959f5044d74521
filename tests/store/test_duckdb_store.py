"""What `DuckDBStore` adds to the contract: writes streamed in chunks, with repeats across chunks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness_connector.domain.history import TestOutcome, TestResult
from harness_connector.errors import UsageError
from harness_connector.store.duckdb_store import DuckDBStore
from tests.store.records import execution, result


@pytest.fixture
def small_chunks() -> Iterator[DuckDBStore]:
    store = DuckDBStore(":memory:", write_chunk=3)
    store.migrate()
    yield store
    store.close()


def test_a_streamed_write_counts_records_repeated_across_chunks_once(small_chunks: DuckDBStore) -> None:
    def stream() -> Iterator[TestResult]:
        for i in range(8):
            yield result(f"t{i % 5}", "e1", TestOutcome.PASSED)

    assert small_chunks.add_test_results(stream()) == 5
    assert small_chunks.counts()["test_results"] == 5


def test_an_upsert_repeated_across_chunks_keeps_the_last_version(small_chunks: DuckDBStore) -> None:
    versions = [execution("e1", status="Running"), execution("e2"), execution("e3"), execution("e1", status="Failed")]

    assert small_chunks.upsert_executions(versions) == 3
    assert small_chunks.execution("e1") == execution("e1", status="Failed")


def test_a_chunk_size_below_one_is_refused() -> None:
    with pytest.raises(UsageError):
        DuckDBStore(":memory:", write_chunk=0)
