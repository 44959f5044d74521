"""The three ways to read a file, from the most frugal to the most convenient.

All-or-nothing: a file is ingested whole or not at all. The stream cannot know a file is good before its last
byte (a truncated file is valid XML up to the cut), so records may be yielded before `JUnitError` is raised.
Two ways to stay atomic:

- `stream_into` inside the store's transaction: batches go to the store as they are parsed, in bounded memory;
  `JUnitError` propagates out of the `with store.transaction():` block, which rolls everything back. This is the
  path for big files (the 1-million-case benchmark runs it).
- `parse_file`: holds one file's records in memory and returns them only once the whole file proved good; the
  caller writes them afterwards. Simple, and fine for the usual report of a few thousand cases (a record with its
  id and name costs about 300 bytes, so a 100,000-case file holds about 30 MB).

Parsing twice (validate, then stream) was rejected: it doubles the cost of the common case to save memory only
on files that the transaction already handles.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from harness_connector.domain.history import TestResult
from harness_connector.errors import UsageError
from harness_connector.junit.model import CaseDetail, FileSummary, JUnitContext, JUnitLimits, ParsedFile
from harness_connector.junit.parser import JUnitStream

__all__ = ["iter_results", "parse_file", "stream_into"]


def iter_results(
    path: str | os.PathLike[str],
    context: JUnitContext,
    *,
    limits: JUnitLimits | None = None,
    on_detail: Callable[[CaseDetail], None] | None = None,
) -> JUnitStream:
    """Stream one file's records; `.summary` once iterated. Raises `JUnitError` mid-stream on a bad file."""
    return JUnitStream(path, context, limits=limits, on_detail=on_detail)


def parse_file(
    path: str | os.PathLike[str],
    context: JUnitContext,
    *,
    limits: JUnitLimits | None = None,
    on_detail: Callable[[CaseDetail], None] | None = None,
) -> ParsedFile:
    """Read and validate a whole file, then return all its records: nothing is returned from a bad file."""
    stream = JUnitStream(path, context, limits=limits, on_detail=on_detail)
    results = tuple(stream)
    return ParsedFile(summary=stream.summary, results=results)


def stream_into(
    path: str | os.PathLike[str],
    context: JUnitContext,
    sink: Callable[[list[TestResult]], object],
    *,
    batch_size: int = 10_000,
    limits: JUnitLimits | None = None,
    on_detail: Callable[[CaseDetail], None] | None = None,
) -> FileSummary:
    """Hand one file's records to `sink` in batches (e.g. `store.add_test_results`); call it inside a transaction.

    ```python
    with store.transaction():
        summary = stream_into(path, context, store.add_test_results)
    ```
    """
    if batch_size <= 0:
        raise UsageError("batch_size must be positive")
    stream = JUnitStream(path, context, limits=limits, on_detail=on_detail)
    pending: list[TestResult] = []
    for records in stream.batches():
        pending.extend(records)
        if len(pending) >= batch_size:
            sink(pending[:batch_size])
            del pending[:batch_size]
    while pending:
        sink(pending[:batch_size])
        del pending[:batch_size]
    return stream.summary
