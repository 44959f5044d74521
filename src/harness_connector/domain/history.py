"""The records the history store keeps: what ran, how each node and test went, what failed logs said, what was
deployed, and what the network saw around it. Times are epoch milliseconds (UTC), as Harness gives them.

Every record has a natural key, so ingesting the same thing twice changes nothing.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "Deployment",
    "ExecutionFact",
    "LogSignature",
    "NodeFact",
    "StepLog",
    "SyncCursor",
    "TelemetryEvent",
    "TestOutcome",
    "TestResult",
]


class TestOutcome(StrEnum):
    """A test case's outcome as JUnit dialects report it, normalised."""

    __test__ = False

    PASSED = "passed"
    FAILED = "failed"  # an assertion failed
    ERROR = "error"  # the test crashed or could not run
    SKIPPED = "skipped"
    FLAKY = "flaky"  # failed, then passed on rerun within the same run (Surefire flakyFailure/flakyError)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionFact:
    """One finished pipeline execution. Key: `execution_id`."""

    execution_id: str
    account_id: str
    org: str
    project: str
    pipeline_id: str
    pipeline_name: str | None = None
    run_sequence: int | None = None
    status: str
    started_ms: int | None = None
    ended_ms: int | None = None
    trigger_type: str | None = None
    triggered_by: str | None = None
    branch: str | None = None
    target_branch: str | None = None
    commit_sha: str | None = None
    repo: str | None = None
    pr_number: int | None = None
    failure_message: str | None = None
    failure_types: tuple[str, ...] = ()
    retry_of: str | None = None
    is_rerun: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeFact:
    """One stage or step of an execution. Key: (`execution_id`, `node_id`)."""

    execution_id: str
    node_id: str
    kind: str  # "stage" or "step"
    stage_id: str | None = None
    identifier: str
    name: str | None = None
    step_type: str | None = None
    status: str
    failure_types: tuple[str, ...] = ()
    failure_message: str | None = None
    delegate: str | None = None
    started_ms: int | None = None
    ended_ms: int | None = None
    log_key: str | None = None

    @property
    def duration_ms(self) -> int | None:
        """How long the node ran, when both ends are known."""
        if self.started_ms is None or self.ended_ms is None:
            return None
        return max(0, self.ended_ms - self.started_ms)


@dataclass(frozen=True, slots=True, kw_only=True)
class TestResult:
    """One test case's result in one attempt of one execution.

    Key: (`execution_id`, `test_id`, `attempt`). `test_id` is stable across runs: the same suite, class and name
    always give the same id, whatever pipeline or commit ran it.
    """

    __test__ = False

    test_id: str
    suite: str
    class_name: str
    name: str
    outcome: TestOutcome
    duration_ms: int = 0
    message: str | None = None
    failure_type: str | None = None
    attempt: int = 1
    execution_id: str
    pipeline_id: str | None = None
    stage_id: str | None = None
    step_id: str | None = None
    commit_sha: str | None = None
    branch: str | None = None
    pr_number: int | None = None
    started_ms: int | None = None
    file: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LogSignature:
    """A log template seen in a failed step. Key: (`execution_id`, `step_id`, `template_id`)."""

    execution_id: str
    stage_id: str | None = None
    step_id: str
    template_id: str
    template: str
    count: int
    first_line: int
    sample: str
    level: str = "INFO"


@dataclass(frozen=True, slots=True, kw_only=True)
class StepLog:
    """The raw log of a failed step, kept compressed when a sync is asked to keep logs.
    Key: (`execution_id`, `step_id`).

    Lines are joined with newlines and compressed with zlib (stdlib, and about 10:1 on build logs, whose lines
    repeat); `text()` gives them back.
    """

    execution_id: str
    stage_id: str | None = None
    step_id: str
    line_count: int
    byte_count: int
    content: bytes

    @classmethod
    def of_lines(cls, execution_id: str, stage_id: str | None, step_id: str, lines: Iterable[str]) -> StepLog:
        compressor = zlib.compressobj(6)
        chunks: list[bytes] = []
        count = size = 0
        for line in lines:
            raw = line.encode("utf-8", "replace") + b"\n"
            count += 1
            size += len(raw)
            chunks.append(compressor.compress(raw))
        chunks.append(compressor.flush())
        return cls(
            execution_id=execution_id,
            stage_id=stage_id,
            step_id=step_id,
            line_count=count,
            byte_count=size,
            content=b"".join(chunks),
        )

    def text(self) -> str:
        return zlib.decompress(self.content).decode("utf-8", "replace")


@dataclass(frozen=True, slots=True, kw_only=True)
class Deployment:
    """A service deployed to an environment by a CD stage. Key: (`execution_id`, `stage_id`)."""

    execution_id: str
    stage_id: str
    service_id: str
    environment_id: str
    environment_type: str | None = None
    infrastructure_id: str | None = None
    artifact: str | None = None
    artifact_tag: str | None = None
    strategy: str | None = None
    status: str
    started_ms: int | None = None
    ended_ms: int | None = None
    pipeline_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TelemetryEvent:
    """Something observed outside Harness (a network error, an alert). Key: (`time_ms`, `source`, `kind`,
    `host`, `message`)."""

    time_ms: int
    source: str
    kind: str
    service: str | None = None
    host: str | None = None
    message: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncCursor:
    """How far a project has been synced: executions that ended before `synced_until_ms` are all in the store."""

    account_id: str
    org: str
    project: str
    synced_until_ms: int
    last_execution_id: str | None = None
    updated_ms: int = 0
    extra: dict[str, str] = field(default_factory=dict)
