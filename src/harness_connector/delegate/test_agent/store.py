"""Executions on disk: one directory per executionListId, so results outlive the agent process.

```
<workdir>/executions/<executionListId>/
    status.json     the status document, replaced atomically at every change
    output.log      the runner's stdout and stderr, interleaved
    reports/        TEST_REPORTS_DIR: the run writes its JUnit here
    progress        optional "x/y" the runner writes to TEST_PROGRESS_FILE
    junit.xml       the merged JUnit of the run, once it completed
    report.json     the per-test-case list, once it completed
```

A status file is written to a temporary name, flushed and renamed over the old one, so a reader (or an agent
restarting after a crash) sees either the previous document or the new one, never half of one.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness_connector.delegate.files import write_atomically

__all__ = [
    "ExecutionRecord",
    "ExecutionStore",
    "OverallStatus",
    "RunState",
    "Summary",
    "WorkdirInUse",
    "is_execution_id",
    "new_execution_id",
]

RunState = Literal["Queued", "Inprogress", "Completed"]
OverallStatus = Literal["Pass", "Fail", "Error", "Timeout", "Aborted"]

_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_STATUS_FILE = "status.json"


def new_execution_id() -> str:
    """A fresh executionListId (a uuid, as Avo makes them)."""
    return str(uuid.uuid4())


def is_execution_id(value: str) -> bool:
    """Whether `value` has the shape of an id this agent made; anything else never reaches the file system."""
    return bool(_ID.fullmatch(value))


class Summary(BaseModel):
    """Test counts of a run, by each test's final outcome (a test that passed on rerun counts as passed)."""

    model_config = ConfigDict(extra="ignore")

    tests: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0


class ExecutionRecord(BaseModel):
    """What the agent knows of one execution; `document()` is the `runningStatusLink` answer."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    execution_list_id: str = Field(alias="executionListId")
    key: str
    status: RunState = "Queued"
    completed: str = Field(default="0/1", alias="Completed")
    overall_status: OverallStatus | None = Field(default=None, alias="overallstatus")
    queued_at: str = Field(alias="queuedAt")
    started_at: str | None = Field(default=None, alias="startedAt")
    ended_at: str | None = Field(default=None, alias="endedAt")
    exit_code: int | None = Field(default=None, alias="exitCode")
    summary: Summary = Field(default_factory=Summary)
    message: str | None = None
    # The runner's process-group leader, kept so a restarted agent can end a run it lost track of.
    pid: int | None = None

    def document(self) -> dict[str, Any]:
        """The status document the protocol serves (without the agent-internal pid)."""
        return self.model_dump(by_alias=True, exclude={"pid"})


class WorkdirInUse(Exception):
    """Another agent process keeps its executions in the same directory."""


class ExecutionStore:
    """The executions directory under the agent's workdir."""

    def __init__(self, workdir: Path) -> None:
        self.root = workdir / "executions"
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock_file: int | None = None

    def lock(self) -> None:
        """Claim the directory for this process until it exits.

        A second agent on the same directory would take the first one's running executions for leftovers of a
        crash, close them and kill their processes; the lock makes it refuse to start instead.

        Raises:
            WorkdirInUse: another process holds the claim.
        """
        handle = os.open(self.root.parent / "agent.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(handle)
            raise WorkdirInUse(f"another test agent keeps its executions in {self.root.parent}") from exc
        self._lock_file = handle

    def run_dir(self, execution_id: str) -> Path:
        """The directory of one execution (created on first save)."""
        if not is_execution_id(execution_id):
            raise ValueError(f"{execution_id!r} is not an executionListId")
        return self.root / execution_id

    def save(self, record: ExecutionRecord) -> None:
        """Replace the execution's status file atomically."""
        folder = self.run_dir(record.execution_list_id)
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(folder / _STATUS_FILE, json.dumps(record.model_dump(by_alias=True), indent=2).encode())

    def load(self, execution_id: str) -> ExecutionRecord | None:
        """The stored record, or None when there is none (or it is unreadable)."""
        if not is_execution_id(execution_id):
            return None
        path = self.root / execution_id / _STATUS_FILE
        try:
            return ExecutionRecord.model_validate_json(path.read_bytes())
        except (OSError, ValidationError):
            return None

    def records(self) -> Iterator[ExecutionRecord]:
        """Every readable stored record, in no particular order."""
        for folder in self.root.iterdir():
            if folder.is_dir() and is_execution_id(folder.name):
                record = self.load(folder.name)
                if record is not None:
                    yield record
