"""Records built on the fast path are genuine, equal, frozen `TestResult`s."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from harness_connector.domain.history import TestOutcome, TestResult
from harness_connector.junit import records


def test_the_fast_path_is_in_use_for_the_current_domain_record() -> None:
    # If this fails, TestResult changed: update junit/records.py (records are still built correctly, slowly).
    assert records.FAST_PATH
    assert records.build is not records._slow


def test_a_fast_record_equals_one_built_the_ordinary_way_in_every_field() -> None:
    context: records.Context = ("exec-1", "build", "test", "unit", "abc123", "main", 7, 1714557600000)
    fast = records.build("id1", "s", "c", "n", TestOutcome.FAILED, 12, "boom", "Err", 2, "f.py", context)
    slow = records._slow("id1", "s", "c", "n", TestOutcome.FAILED, 12, "boom", "Err", 2, "f.py", context)
    assert type(fast) is TestResult
    assert dataclasses.astuple(fast) == dataclasses.astuple(slow)
    assert fast == slow
    assert hash(fast) == hash(slow)
    assert {fast, slow} == {slow}


def test_a_fast_record_is_frozen() -> None:
    context: records.Context = ("exec-1", None, None, None, None, None, None, None)
    record = records.build("id1", "s", "c", "n", TestOutcome.PASSED, 0, None, None, 1, None, context)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.outcome = TestOutcome.FAILED  # type: ignore[misc]


def test_a_fast_record_pickles_copies_and_replaces_like_any_other() -> None:
    context: records.Context = ("exec-1", None, None, None, None, None, None, None)
    record = records.build("id1", "s", "c", "n", TestOutcome.PASSED, 0, None, None, 1, None, context)
    assert pickle.loads(pickle.dumps(record)) == record
    assert dataclasses.replace(record, attempt=2).attempt == 2
