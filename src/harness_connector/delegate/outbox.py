"""What a finished task still owes the manager, kept on disk until it was delivered.

A task's result is the one thing a delegate must never lose: the step waits for it. So once a task ends, its
unsent log batches, its test-case rows and its result are written to `<state-dir>/outbox/<task>.json` *before*
anything is sent; the file is rewritten (atomically: a temporary file, fsync, `os.replace`) after each part
went through, and removed once the result did. A delegate killed at any moment finds on start what it still
owes, in the order the tasks finished, and sends each part at most once more. A part in flight when the process
died may arrive twice; the manager treats results as idempotent, and log and report parts are small batches.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness_connector.delegate.files import write_atomically

__all__ = ["Outbox", "PendingDelivery", "safe_name"]

_log = logging.getLogger(__name__)

_FORMAT = 1
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def safe_name(task_id: str) -> str:
    """A file and directory name for a task: the id itself when it is tame, else a digest of it.

    Task ids come from the manager; one with `/` or `..` must not pick where files are written.
    """
    if _SAFE.fullmatch(task_id) and ".." not in task_id:
        return task_id
    return "task-" + hashlib.sha256(task_id.encode("utf-8")).hexdigest()[:32]


@dataclass(slots=True, kw_only=True)
class PendingDelivery:
    """One finished task's undelivered parts, sent in this order: log batches, report batches, result."""

    task_id: str
    log_key: str
    result: dict[str, Any]
    log_batches: list[list[dict[str, Any]]] = field(default_factory=list)
    report_query: dict[str, str] = field(default_factory=dict)
    report_batches: list[list[dict[str, Any]]] = field(default_factory=list)
    # Ordering key: when the task finished, in nanoseconds.
    finished_ns: int = 0

    def to_json(self) -> dict[str, Any]:
        """The file's content."""
        return {
            "format": _FORMAT,
            "taskId": self.task_id,
            "logKey": self.log_key,
            "finishedNs": self.finished_ns,
            "logBatches": self.log_batches,
            "reportQuery": self.report_query,
            "reportBatches": self.report_batches,
            "result": self.result,
        }

    @classmethod
    def from_json(cls, data: Any) -> PendingDelivery:
        """Read a file's content back; `ValueError` when it is not an outbox record."""
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ValueError("not an outbox record of a known format")
        task_id, log_key, result = data.get("taskId"), data.get("logKey"), data.get("result")
        if not isinstance(task_id, str) or not isinstance(log_key, str) or not isinstance(result, dict):
            raise ValueError("an outbox record needs taskId, logKey and result")
        return cls(
            task_id=task_id,
            log_key=log_key,
            result=result,
            log_batches=_batches(data.get("logBatches")),
            report_query={str(k): str(v) for k, v in _dict(data.get("reportQuery")).items()},
            report_batches=_batches(data.get("reportBatches")),
            finished_ns=int(data.get("finishedNs") or 0),
        )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _batches(value: Any) -> list[list[dict[str, Any]]]:
    if not isinstance(value, list):
        return []
    return [[row for row in batch if isinstance(row, dict)] for batch in value if isinstance(batch, list)]


class Outbox:
    """The `outbox/` directory under the state dir; safe to use from several threads.

    An index in memory (file stem -> finish time and task id) answers "what is pending" without reading files,
    which the heartbeat asks every interval; files are read only to be delivered.
    """

    def __init__(self, state_dir: Path, *, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self.directory = state_dir / "outbox"
        self.directory.mkdir(parents=True, exist_ok=True)
        self._clock_ns = clock_ns
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._index: dict[str, tuple[int, str]] = {}
        self._remove_leftover_temporaries()
        for path in sorted(self.directory.glob("*.json")):
            record = self._read(path)
            if record is not None:
                self._index[path.stem] = (record.finished_ns, record.task_id)

    def _path(self, task_id: str) -> Path:
        return self.directory / f"{safe_name(task_id)}.json"

    def _remove_leftover_temporaries(self) -> None:
        # A process killed between writing a temporary file and renaming it leaves one behind; the record it
        # was replacing is still there, whole.
        for leftover in self.directory.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)

    def _read(self, path: Path) -> PendingDelivery | None:
        try:
            return PendingDelivery.from_json(json.loads(path.read_bytes()))
        except (OSError, ValueError) as exc:
            _log.error("outbox file %s cannot be read (%s); moved aside as .corrupt", path.name, exc)
            with contextlib.suppress(OSError):
                path.replace(path.with_suffix(".corrupt"))
            return None

    def put(self, pending: PendingDelivery) -> None:
        """Write (or rewrite) a task's record atomically: a reader sees the old record or the new, never half."""
        if not pending.finished_ns:
            pending.finished_ns = self._clock_ns()
        data = json.dumps(pending.to_json(), separators=(",", ":")).encode("utf-8")
        target = self._path(pending.task_id)
        with self._lock:
            write_atomically(target, data)
            _fsync_directory(self.directory)
            self._index[target.stem] = (pending.finished_ns, pending.task_id)
            self._changed.notify_all()

    def remove(self, task_id: str) -> None:
        """Forget a task once everything it owed was delivered (or refused for good)."""
        path = self._path(task_id)
        with self._lock:
            path.unlink(missing_ok=True)
            _fsync_directory(self.directory)
            self._index.pop(path.stem, None)
            self._changed.notify_all()

    def oldest(self) -> PendingDelivery | None:
        """The record of the task that finished first, or None when nothing is pending."""
        with self._lock:
            while self._index:
                stem = min(self._index, key=lambda key: (*self._index[key], key))
                record = self._read(self.directory / f"{stem}.json")
                if record is not None:
                    return record
                del self._index[stem]
            return None

    def pending(self) -> list[PendingDelivery]:
        """Every record, oldest finished first."""
        with self._lock:
            stems = sorted(self._index, key=lambda key: (*self._index[key], key))
            found = [self._read(self.directory / f"{stem}.json") for stem in stems]
        return [record for record in found if record is not None]

    def task_ids(self) -> set[str]:
        """The tasks whose result has not been delivered yet."""
        with self._lock:
            return {task_id for _, task_id in self._index.values()}

    def __len__(self) -> int:
        with self._lock:
            return len(self._index)

    def wait_for_change(self, timeout_s: float) -> None:
        """Block until a record is written or removed, or `timeout_s` passed."""
        with self._changed:
            self._changed.wait(timeout_s)


def _fsync_directory(directory: Path) -> None:
    # Without it a rename may not survive a power cut on some filesystems, even though the file's data did.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
