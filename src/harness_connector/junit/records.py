"""Building `TestResult`s at parser speed.

A frozen dataclass's `__init__` sets each of its 18 fields through `object.__setattr__`; at a million records
that is the largest single cost of ingestion (about 7 µs a record on the benchmark machine, against 2.5 µs for
the slot descriptors used here). The fast path fills every slot directly, so the result is indistinguishable
from a constructed one (equal, hashable, frozen). It is used only while `TestResult` has exactly the fields it
was written for and no `__post_init__`; if the domain record changes, records are built the ordinary way until
this module is updated, and `tests/junit/test_records.py` says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from harness_connector.domain.history import TestOutcome, TestResult

__all__ = ["FAST_PATH", "Context", "build"]

# (execution_id, pipeline_id, stage_id, step_id, commit_sha, branch, pr_number, started_ms): the same for every
# record of a suite, so the parser builds it once per suite.
Context = tuple[str, str | None, str | None, str | None, str | None, str | None, int | None, int | None]

_KNOWN_FIELDS = (
    "test_id",
    "suite",
    "class_name",
    "name",
    "outcome",
    "duration_ms",
    "message",
    "failure_type",
    "attempt",
    "execution_id",
    "pipeline_id",
    "stage_id",
    "step_id",
    "commit_sha",
    "branch",
    "pr_number",
    "started_ms",
    "file",
)

FAST_PATH = (
    tuple(f.name for f in dataclasses.fields(TestResult)) == _KNOWN_FIELDS
    and getattr(TestResult, "__slots__", ()) == _KNOWN_FIELDS
    and not hasattr(TestResult, "__post_init__")
)


def _slow(
    test_id: str,
    suite: str,
    class_name: str,
    name: str,
    outcome: TestOutcome,
    duration_ms: int,
    message: str | None,
    failure_type: str | None,
    attempt: int,
    file: str | None,
    context: Context,
) -> TestResult:
    execution_id, pipeline_id, stage_id, step_id, commit_sha, branch, pr_number, started_ms = context
    return TestResult(
        test_id=test_id,
        suite=suite,
        class_name=class_name,
        name=name,
        outcome=outcome,
        duration_ms=duration_ms,
        message=message,
        failure_type=failure_type,
        attempt=attempt,
        execution_id=execution_id,
        pipeline_id=pipeline_id,
        stage_id=stage_id,
        step_id=step_id,
        commit_sha=commit_sha,
        branch=branch,
        pr_number=pr_number,
        started_ms=started_ms,
        file=file,
    )


def _make_fast() -> Callable[..., TestResult]:
    setters: list[Callable[[Any, Any], None]] = [getattr(TestResult, name).__set__ for name in _KNOWN_FIELDS]
    (s_id, s_suite, s_class, s_name, s_outcome, s_duration, s_message, s_type, s_attempt) = setters[:9]
    (s_execution, s_pipeline, s_stage, s_step, s_commit, s_branch, s_pr, s_started, s_file) = setters[9:]
    new = object.__new__

    def fast(
        test_id: str,
        suite: str,
        class_name: str,
        name: str,
        outcome: TestOutcome,
        duration_ms: int,
        message: str | None,
        failure_type: str | None,
        attempt: int,
        file: str | None,
        context: Context,
    ) -> TestResult:
        record: TestResult = new(TestResult)
        s_id(record, test_id)
        s_suite(record, suite)
        s_class(record, class_name)
        s_name(record, name)
        s_outcome(record, outcome)
        s_duration(record, duration_ms)
        s_message(record, message)
        s_type(record, failure_type)
        s_attempt(record, attempt)
        s_execution(record, context[0])
        s_pipeline(record, context[1])
        s_stage(record, context[2])
        s_step(record, context[3])
        s_commit(record, context[4])
        s_branch(record, context[5])
        s_pr(record, context[6])
        s_started(record, context[7])
        s_file(record, file)
        return record

    return fast


build: Callable[
    [str, str, str, str, TestOutcome, int, str | None, str | None, int, str | None, Context], TestResult
] = _make_fast() if FAST_PATH else _slow
