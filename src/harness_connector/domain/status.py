"""Harness execution statuses: the display enum of summaries and the engine enum of run responses.

Harness spells the same state two ways: summaries, layout nodes and graph nodes use display names
(`Running`, `Success`), while `planExecution.status` and unit progresses use engine names (`RUNNING`,
`SUCCEEDED`). Stored data may hold legacy spellings too, so parsing is case- and underscore-insensitive.
"""

from __future__ import annotations

from enum import StrEnum


class ExecutionStatus(StrEnum):
    """Display status of a pipeline, stage or step execution, spelled as Harness spells it in summaries."""

    RUNNING = "Running"
    ASYNC_WAITING = "AsyncWaiting"
    TASK_WAITING = "TaskWaiting"
    TIMED_WAITING = "TimedWaiting"
    QUEUED = "Queued"
    RESOURCE_WAITING = "ResourceWaiting"
    INTERVENTION_WAITING = "InterventionWaiting"
    APPROVAL_WAITING = "ApprovalWaiting"
    INPUT_WAITING = "InputWaiting"
    WAIT_STEP_RUNNING = "WaitStepRunning"
    PAUSED = "Paused"
    PAUSING = "Pausing"
    DISCONTINUING = "Discontinuing"
    NOT_STARTED = "NotStarted"
    SUCCESS = "Success"
    FAILED = "Failed"
    ERRORED = "Errored"
    IGNORE_FAILED = "IgnoreFailed"
    ABORTED = "Aborted"
    ABORTED_BY_FREEZE = "AbortedByFreeze"
    EXPIRED = "Expired"
    APPROVAL_REJECTED = "ApprovalRejected"
    SUSPENDED = "Suspended"
    SKIPPED = "Skipped"

    @classmethod
    def parse(cls, text: str) -> ExecutionStatus:
        """Read any spelling Harness uses (`Running`, `RUNNING`, `APPROVAL_WAITING`, engine `SUCCEEDED`).

        Raises:
            ValueError: the text names no known status.
        """
        key = text.replace("_", "").lower()
        found = _BY_KEY.get(key)
        if found is None:
            raise ValueError(f"unknown execution status {text!r}; expected one of {', '.join(s.value for s in cls)}")
        return found

    @property
    def is_terminal(self) -> bool:
        """True once the execution can no longer change by itself."""
        return self in _TERMINAL

    @property
    def is_failure(self) -> bool:
        """True for end states that count as a failed run (not aborts or skips)."""
        return self in _FAILURES

    @property
    def engine_name(self) -> str:
        """The uppercase engine spelling used in `planExecution.status` (`RUNNING`, `SUCCEEDED`, ...)."""
        return _ENGINE_NAMES.get(self, _snake_upper(self.value))


def _snake_upper(camel: str) -> str:
    out: list[str] = []
    for index, char in enumerate(camel):
        if char.isupper() and index:
            out.append("_")
        out.append(char.upper())
    return "".join(out)


_TERMINAL = frozenset(
    {
        ExecutionStatus.SUCCESS,
        ExecutionStatus.FAILED,
        ExecutionStatus.ERRORED,
        ExecutionStatus.IGNORE_FAILED,
        ExecutionStatus.ABORTED,
        ExecutionStatus.ABORTED_BY_FREEZE,
        ExecutionStatus.EXPIRED,
        ExecutionStatus.APPROVAL_REJECTED,
        ExecutionStatus.SUSPENDED,
        ExecutionStatus.SKIPPED,
    }
)
_FAILURES = frozenset(
    {ExecutionStatus.FAILED, ExecutionStatus.ERRORED, ExecutionStatus.EXPIRED, ExecutionStatus.APPROVAL_REJECTED}
)
# The engine enum differs from the display enum by more than casing for these two.
_ENGINE_NAMES = {ExecutionStatus.SUCCESS: "SUCCEEDED", ExecutionStatus.FAILED: "FAILED"}
_BY_KEY: dict[str, ExecutionStatus] = {status.value.lower(): status for status in ExecutionStatus}
_BY_KEY.update({"succeeded": ExecutionStatus.SUCCESS, "waiting": ExecutionStatus.ASYNC_WAITING})
