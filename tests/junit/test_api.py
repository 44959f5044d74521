"""A file goes into the store whole or not at all, in bounded batches, and a stream is read once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness_connector.domain.history import TestResult
from harness_connector.errors import UsageError
from harness_connector.junit import JUnitContext, JUnitError, iter_results, parse_file, stream_into

DATA = Path(__file__).parent / "data"
CONTEXT = JUnitContext(execution_id="exec-1")


class TransactionalStore:
    """The part of the history store's protocol ingestion uses: writes inside a failed transaction vanish."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, int], TestResult] = {}
        self.batches: list[int] = []
        self._pending: dict[tuple[str, str, int], TestResult] | None = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._pending = {}
        try:
            yield
        except BaseException:
            self._pending = None
            raise
        self.rows.update(self._pending)
        self._pending = None

    def add_test_results(self, results: Sequence[TestResult]) -> int:
        assert self._pending is not None, "written outside a transaction"
        self.batches.append(len(results))
        for record in results:
            self._pending[(record.execution_id, record.test_id, record.attempt)] = record
        return len(results)


def test_a_good_file_streams_into_the_store_in_batches_of_the_size_asked() -> None:
    store = TransactionalStore()
    with store.transaction():
        summary = stream_into(DATA / "surefire.xml", CONTEXT, store.add_test_results, batch_size=4)
    assert store.batches == [4, 4, 3]
    assert len(store.rows) == summary.records == 11
    assert list(store.rows.values()) == list(parse_file(DATA / "surefire.xml", CONTEXT).results)


def big_report(tmp_path: Path, cases: int, *, cut: bool = False) -> Path:
    body = "".join(
        f'<testcase classname="c{i // 100}" name="t{i}" time="0.001">'
        + ("<failure message='x'>trace</failure>" if i % 97 == 0 else "")
        + "</testcase>\n"
        for i in range(cases)
    )
    text = f'<testsuites><testsuite name="big">\n{body}</testsuite></testsuites>\n'
    report = tmp_path / "big.xml"
    report.write_text(text[: len(text) * 9 // 10] if cut else text, encoding="utf-8")
    return report


def test_a_truncated_file_leaves_nothing_in_the_store_although_batches_were_written(tmp_path: Path) -> None:
    store = TransactionalStore()
    with pytest.raises(JUnitError, match="truncated"), store.transaction():
        stream_into(big_report(tmp_path, 20_000, cut=True), CONTEXT, store.add_test_results, batch_size=1000)
    assert len(store.batches) >= 5  # the records before the cut did reach the store...
    assert store.rows == {}  # ...and were rolled back with the transaction


def test_parse_file_returns_nothing_from_a_bad_file() -> None:
    with pytest.raises(JUnitError):
        parse_file(DATA / "truncated.xml", CONTEXT)


def test_a_stream_yields_records_before_it_finds_the_file_bad(tmp_path: Path) -> None:
    stream = iter(iter_results(big_report(tmp_path, 20_000, cut=True), CONTEXT))
    assert next(stream).name == "t0"
    with pytest.raises(JUnitError):
        list(stream)


def test_the_summary_exists_only_after_the_whole_file_was_read() -> None:
    stream = iter_results(DATA / "jest.xml", CONTEXT)
    with pytest.raises(UsageError, match="iterate the stream first"):
        _ = stream.summary
    records = list(stream)
    assert stream.summary.records == len(records) == 5


def test_a_stream_can_be_read_only_once() -> None:
    stream = iter_results(DATA / "jest.xml", CONTEXT)
    list(stream)
    with pytest.raises(UsageError, match="iterated once"):
        list(stream)


def test_a_big_file_is_handed_over_in_batches_no_larger_than_asked(tmp_path: Path) -> None:
    sizes: list[int] = []
    summary = stream_into(big_report(tmp_path, 5000), CONTEXT, lambda batch: sizes.append(len(batch)), batch_size=1000)
    assert sizes == [1000] * 5
    assert (summary.cases, summary.failed, summary.passed) == (5000, 52, 4948)


def test_a_batch_size_must_be_positive() -> None:
    with pytest.raises(UsageError, match="batch_size"):
        stream_into(DATA / "jest.xml", CONTEXT, lambda batch: None, batch_size=0)
