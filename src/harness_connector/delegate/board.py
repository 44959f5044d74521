"""The tasks a delegate holds: those being acquired and those running, within the slots it has.

A task id is on the board from the moment its acquisition starts until its result is in the outbox, and it
moves from one to the other under the board's lock, so the list the delegate sends the manager
(`runningTaskIds`, together with the outbox) never misses a task it holds: the manager queues again any task
the delegate stops mentioning.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness_connector.delegate.manager_api import ManagerApi
from harness_connector.delegate.outbox import Outbox, PendingDelivery
from harness_connector.delegate.protocol import TaskPayload, TaskResult, TaskStatus
from harness_connector.delegate.task_logs import LogStream
from harness_connector.delegate.task_run import run_task
from harness_connector.delegate.tasks import TaskProcess
from harness_connector.delegate.wire import WireError

__all__ = ["TaskBoard", "TaskSettings"]

_log = logging.getLogger("harness_connector.delegate")


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskSettings:
    """How the delegate runs tasks."""

    delegate_name: str
    workdir: Path
    base_env: Mapping[str, str]
    concurrency: int = 2
    kill_grace_s: float = 2.0
    keep_workspaces: bool = False


@dataclass(frozen=True, slots=True)
class _Running:
    process: TaskProcess
    thread: threading.Thread


class TaskBoard:
    """Slots, the tasks in them, and the hand-over of each finished task to the outbox."""

    def __init__(
        self,
        settings: TaskSettings,
        outbox: Outbox,
        *,
        make_api: Callable[[], ManagerApi],
        on_unauthorized: Callable[[WireError], None],
        on_finished: Callable[[], None],
    ) -> None:
        self.settings = settings
        self._outbox = outbox
        self._make_api = make_api
        self._on_unauthorized = on_unauthorized
        self._on_finished = on_finished
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._running: dict[str, _Running] = {}
        self._acquiring: set[str] = set()
        self._accepting = True

    def _free(self) -> int:
        return self.settings.concurrency - len(self._running) - len(self._acquiring)

    def held_task_ids(self) -> list[str]:
        """Running, being acquired, or finished with the result not yet delivered."""
        with self._lock:
            held = set(self._running) | self._acquiring
        return sorted(held | self._outbox.task_ids())

    def running_count(self) -> int:
        """How many tasks run now."""
        with self._lock:
            return len(self._running)

    def holds(self, task_id: str) -> bool:
        """Whether the task is already being acquired or run here."""
        with self._lock:
            return task_id in self._running or task_id in self._acquiring

    def wait_for_slot(self, timeout_s: float) -> int:
        """The free slots, waiting up to `timeout_s` for one when there is none."""
        with self._changed:
            if self._free() <= 0:
                self._changed.wait(timeout_s)
            return max(0, self._free()) if self._accepting else 0

    def reserve(self, task_id: str) -> bool:
        """Take a slot for a task about to be acquired; False when full or no longer accepting."""
        with self._lock:
            if not self._accepting or self._free() <= 0:
                return False
            self._acquiring.add(task_id)
            return True

    def release(self, task_id: str) -> None:
        """The acquisition is over (the task runs now, or it was not ours to take)."""
        with self._changed:
            self._acquiring.discard(task_id)
            self._changed.notify_all()

    def stop_accepting(self) -> None:
        """No more tasks: the delegate is stopping."""
        with self._lock:
            self._accepting = False

    def start(self, payload: TaskPayload) -> None:
        """Run an acquired task in its own thread."""
        api = self._make_api()
        logs = LogStream(lambda batch: api.send_logs(payload.log_key, batch), on_unauthorized=self._on_unauthorized)
        process = TaskProcess(
            payload,
            workdir=self.settings.workdir,
            base_env=self.settings.base_env,
            log=logs.write,
            kill_grace_s=self.settings.kill_grace_s,
        )
        thread = threading.Thread(
            target=self._execute, args=(payload, process, logs, api), name=f"task-{payload.delegate_task_id}"
        )
        thread.daemon = True
        with self._lock:
            self._running[payload.delegate_task_id] = _Running(process, thread)
        _log.info(
            "took task %s (%s): step %s of pipeline %s, execution %s",
            payload.delegate_task_id,
            payload.task_type,
            payload.step_identifier,
            payload.pipeline_identifier,
            payload.plan_execution_id,
        )
        thread.start()

    def _execute(self, payload: TaskPayload, process: TaskProcess, logs: LogStream, api: ManagerApi) -> None:
        task_id = payload.delegate_task_id
        try:
            record = run_task(
                payload,
                process,
                logs,
                delegate_name=self.settings.delegate_name,
                keep_workspace=self.settings.keep_workspaces,
            )
            self._outbox.put(record)
            _log.info(
                "task %s finished: %s (exit code %s)", task_id, record.result["status"], record.result.get("exitCode")
            )
        except Exception:
            _log.exception("task %s: its result could not be recorded", task_id)
        finally:
            api.close()
            with self._changed:
                self._running.pop(task_id, None)
                self._changed.notify_all()
            self._on_finished()

    def refuse(self, task_id: str, message: str) -> None:
        """Report ERROR for a task that cannot even be started (its payload is unreadable)."""
        _log.error("task %s: %s; reported as ERROR", task_id, message)
        now_ms = time.time_ns() // 1_000_000
        result = TaskResult(status="ERROR", errorMessage=message, startedAt=now_ms, finishedAt=now_ms)
        dumped = result.model_dump(by_alias=True, mode="json", exclude_none=True)
        self._outbox.put(PendingDelivery(task_id=task_id, log_key="", result=dumped))
        self._on_finished()

    def abort(self, task_ids: Iterable[str], reason: str, *, status: TaskStatus = "ABORTED") -> None:
        """Kill these tasks (those running here); each reports `status` with `reason`."""
        with self._lock:
            found = [(task_id, self._running[task_id]) for task_id in task_ids if task_id in self._running]
        for task_id, task in found:
            _log.info("aborting task %s: %s", task_id, reason)
            task.process.abort(reason, status=status)

    def wait_idle(self, timeout_s: float) -> list[str]:
        """Wait up to `timeout_s` for running tasks to end; return those still running."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while self._running and (remaining := deadline - time.monotonic()) > 0:
                self._changed.wait(remaining)
            return list(self._running)

    def join(self, task_ids: Iterable[str], timeout_s: float) -> None:
        """Wait for these tasks' threads (their results reach the outbox before they end)."""
        with self._lock:
            threads = [self._running[task_id].thread for task_id in task_ids if task_id in self._running]
        for thread in threads:
            thread.join(timeout_s)

    def kill_all_now(self) -> None:
        """KILL every running task's process group; safe in a signal handler (takes no lock)."""
        for task in list(self._running.values()):
            task.process.kill_now()
