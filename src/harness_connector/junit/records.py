"""Building `TestResult`s at parser speed.

A frozen dataclass's `__init__` sets each of its 18 fields through `object.__setattr__`, which costs about 30,000
machine instructions a record, the largest single cost of ingestion at a million records. Here a record is built
as a plain slotted twin of `TestResult` (ordinary attribute stores, about 4,800 instructions) whose class is then
switched to `TestResult`: CPython allows that for classes with the same slot layout, and the result is a genuine
`TestResult` (same type, equal, hashable, frozen from then on). The fast path is used only while `TestResult` has
exactly the fields it was written for, no `__post_init__`, and the switch works at import time; otherwise records
are built the ordinary way, and `tests/junit/test_records.py` says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

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
    # Everything the class switch relies on; checked again by building one record below.
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


class _Twin:
    """`TestResult`'s slot layout without its frozen `__setattr__`; becomes a `TestResult` at the end of `__init__`."""

    __slots__ = _KNOWN_FIELDS

    def __init__(
        self,
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
    ) -> None:
        self.test_id = test_id
        self.suite = suite
        self.class_name = class_name
        self.name = name
        self.outcome = outcome
        self.duration_ms = duration_ms
        self.message = message
        self.failure_type = failure_type
        self.attempt = attempt
        (
            self.execution_id,
            self.pipeline_id,
            self.stage_id,
            self.step_id,
            self.commit_sha,
            self.branch,
            self.pr_number,
            self.started_ms,
        ) = context
        self.file = file
        self.__class__ = TestResult  # type: ignore[assignment]  # same layout: see the module docstring


def _twin_works() -> bool:
    if not FAST_PATH:
        return False
    try:
        probe: object = _Twin("id", "s", "c", "n", TestOutcome.PASSED, 0, None, None, 1, None, ("e",) + (None,) * 7)
    except TypeError:  # CPython refused the class switch: the layouts differ after all
        return False
    return type(probe) is TestResult and probe == _slow(
        "id", "s", "c", "n", TestOutcome.PASSED, 0, None, None, 1, None, ("e",) + (None,) * 7
    )


build: Callable[
    [str, str, str, str, TestOutcome, int, str | None, str | None, int, str | None, Context], TestResult
] = _Twin if _twin_works() else _slow  # type: ignore[assignment]
