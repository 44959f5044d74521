"""The `store` fixture: every backend `open_store` can give, so the contract tests run against each of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness_connector.store import Store, open_store

BACKENDS = ["duckdb-memory", "duckdb-file"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    where: Path | str = ":memory:" if request.param == "duckdb-memory" else tmp_path / "history" / "store.duckdb"
    opened = open_store(where)
    try:
        yield opened
    finally:
        opened.close()
