"""`open_store`: where the store lives, and the clear errors for files it cannot use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness_connector.domain.history import SyncCursor
from harness_connector.store import StoreFormatError, StoreLockedError, open_store
from harness_connector.store.duckdb_store import DuckDBStore

CURSOR = SyncCursor(account_id="acct", org="default", project="payments", synced_until_ms=42)


def test_opening_a_store_creates_its_directory_and_the_data_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "deeper" / "still" / "history.duckdb"
    store = open_store(path)
    store.set_cursor(CURSOR)
    store.close()

    reopened = open_store(path)
    try:
        assert reopened.get_cursor("acct", "default", "payments") == CURSOR
    finally:
        reopened.close()


def test_the_store_is_duckdb(tmp_path: Path) -> None:
    store = open_store(tmp_path / "history.duckdb")
    try:
        assert isinstance(store, DuckDBStore)
    finally:
        store.close()


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.duckdb"
    path.write_text("these are notes, not a database\n", encoding="utf-8")

    with pytest.raises(StoreFormatError) as caught:
        open_store(path)

    assert caught.value.path == path
    assert path.read_text(encoding="utf-8") == "these are notes, not a database\n"


def test_a_store_open_in_another_process_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.duckdb"
    hold = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()"
    with subprocess.Popen(
        [sys.executable, "-c", hold, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdin is not None and holder.stdout is not None
        try:
            assert holder.stdout.readline() == "ready\n"
            with pytest.raises(StoreLockedError) as caught:
                open_store(path)
            assert caught.value.path == path
        finally:
            holder.stdin.close()  # the holder exits when its stdin ends
