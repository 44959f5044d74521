"""The history warehouse: executions, nodes, test results, log signatures, deployments and telemetry, kept across
syncs so analyses can look back. Services use the `Store` protocol; `open_store` is the one place that picks the
backend."""

from __future__ import annotations

from pathlib import Path

import duckdb

from harness_connector.errors import StoreError, StoreFormatError, StoreLockedError, StoreSchemaError
from harness_connector.store.duckdb_store import DuckDBStore
from harness_connector.store.filters import ExecutionFilter, TestResultFilter
from harness_connector.store.protocol import Store
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

__all__ = [
    "ExecutionFilter",
    "ExecutionTestsRow",
    "Page",
    "PipelineFailureRow",
    "ProjectSummary",
    "SignatureOccurrenceRow",
    "StepDurationRow",
    "StepRunRow",
    "Store",
    "StoreError",
    "StoreFormatError",
    "StoreLockedError",
    "StoreSchemaError",
    "TestCommitRow",
    "TestFailureRow",
    "TestResultFilter",
    "TestRunRow",
    "TestTotalsRow",
    "open_store",
]

MEMORY = ":memory:"


def open_store(path: Path | str) -> Store:
    """Open (creating it and its directory if needed) the history store at `path`, migrated to the current schema.

    `":memory:"` gives a store that lives as long as the returned object.

    Raises:
        StoreLockedError: another process has the file open.
        StoreFormatError: the file exists but is not a DuckDB database.
        StoreSchemaError: the store was written by a newer version of the connector.
        StoreError: any other failure to open or migrate it.
    """
    if str(path) != MEMORY:
        path = Path(path).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the directory of the history store {path}: {exc}") from exc
    try:
        store = DuckDBStore(path)
    except duckdb.IOException as exc:
        # DuckDB says which case it is only in the message.
        text = str(exc)
        if "Could not set lock" in text:
            raise StoreLockedError(Path(path)) from exc
        if "not a valid DuckDB database" in text:
            raise StoreFormatError(Path(path)) from exc
        raise StoreError(f"cannot open the history store {path}: {exc}") from exc
    except duckdb.Error as exc:
        raise StoreError(f"cannot open the history store {path}: {exc}") from exc
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store
