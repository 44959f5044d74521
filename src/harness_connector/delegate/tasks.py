"""Running one task's script: its own workspace and environment, its output streamed, its time bounded.

The script runs under `bash` (or `sh`) in a new session, so the step and everything it starts share one process
group: a timeout or an abort signals the whole group (TERM, then KILL after a grace period), and background
processes a finished step left behind are killed with it, as they would be with the step's container. The group
is signalled while the script's own process is still an unreaped zombie (`waitid(WNOWAIT)`), so its id cannot
have been handed to an unrelated process. stdout lines are logged at INFO, stderr lines at WARN, which lets a
log view tint what the step wrote to stderr without mistaking it for a delegate error (ERROR is the delegate's).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from harness_connector.delegate.files import write_atomically
from harness_connector.delegate.outbox import safe_name
from harness_connector.delegate.process_groups import end_marked_group, process_start_time, signal_group
from harness_connector.delegate.protocol import TaskPayload, TaskStatus
from harness_connector.delegate.task_env import read_outputs, task_environment, valid_env_name, wrap_script
from harness_connector.delegate.task_logs import MAX_LINE_BYTES, LogLevel, cut_line

__all__ = [
    "SHELL_SCRIPT_FAILED",
    "LeftoverTask",
    "TaskOutcome",
    "TaskProcess",
    "end_leftover_tasks",
    "failure_message",
    "task_paths",
]

SHELL_SCRIPT_FAILED = "Shell Script execution failed. Please check execution logs."
_SHELLS = {"bash": "bash", "sh": "sh"}
_READER_JOIN_S = 5.0
# In a task's control directory while its script runs: which task, which process group, which delegate process.
_PROCESS_RECORD = "process.json"
# Every step process carries it (`task_environment` sets it last), so leftovers are known by it.
_TASK_MARKER = "HARNESS_TASK_ID"

LogSink = Callable[[LogLevel, str], None]


def failure_message(task_type: str, exit_code: int) -> str:
    """The error message Harness shows for a step whose script exited non-zero."""
    if task_type.upper() == "SHELL_SCRIPT":
        return SHELL_SCRIPT_FAILED
    return f"1 error occurred:\n\t* exit status {exit_code}"


def task_paths(workdir: Path, task_id: str) -> tuple[Path, Path]:
    """The task's workspace (`<workdir>/<task>`) and its control directory (script and outputs, kept apart)."""
    name = safe_name(task_id)
    return workdir / name, workdir / ".control" / name


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskOutcome:
    """How the script ended; the agent adds what the reports gave and sends it as a `TaskResult`."""

    status: TaskStatus
    started_at: int
    finished_at: int
    exit_code: int | None = None
    error_message: str | None = None
    output_variables: dict[str, str] = field(default_factory=dict)


def _exit_code(returncode: int) -> int:
    # A process killed by signal N reports -N; shells say 128 + N, which is what a step's author expects.
    return returncode if returncode >= 0 else 128 - returncode


def _pump(stream: IO[bytes], level: LogLevel, log: LogSink) -> None:
    """Log each line of a pipe; a line longer than 64 KiB is logged cut, and the rest of it skipped."""
    with stream:
        while raw := stream.readline(MAX_LINE_BYTES + 1):
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                log(level, cut_line(raw, was_cut=True))
                while raw and not raw.endswith(b"\n"):
                    raw = stream.readline(MAX_LINE_BYTES)
                continue
            log(level, cut_line(raw))


@dataclass(frozen=True, slots=True)
class LeftoverTask:
    """A task an earlier delegate process was running when it was killed, and how many of its processes it left."""

    task_id: str
    processes_ended: int


@dataclass(frozen=True, slots=True)
class _ProcessRecord:
    task_id: str
    pgid: int
    owner: int
    owner_started: int | None


def _write_process_record(control: Path, task_id: str, pgid: int) -> None:
    owner = os.getpid()
    record = {"taskId": task_id, "pgid": pgid, "owner": owner, "ownerStarted": process_start_time(owner)}
    write_atomically(control / _PROCESS_RECORD, json.dumps(record).encode())


def _read_process_record(path: Path) -> _ProcessRecord | None:
    try:
        raw = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    task_id, pgid, owner, owner_started = (raw.get(name) for name in ("taskId", "pgid", "owner", "ownerStarted"))
    if not isinstance(task_id, str) or not isinstance(pgid, int) or not isinstance(owner, int):
        return None
    return _ProcessRecord(task_id, pgid, owner, owner_started if isinstance(owner_started, int) else None)


def _owner_alive(record: _ProcessRecord) -> bool:
    """Whether the delegate process that ran the task still runs (then the task is its business, not ours)."""
    started = process_start_time(record.owner)
    if started is not None and record.owner_started is not None:
        return started == record.owner_started  # a different start time: the pid was reused
    try:
        os.kill(record.owner, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def end_leftover_tasks(workdir: Path, *, keep_workspaces: bool) -> list[LeftoverTask]:
    """End what the tasks of a killed earlier delegate process left running, and clear their directories.

    A task's control directory outlives its run only when the delegate died during it. The manager queues such a
    task again, and it must not meet its first attempt still writing to the workspace. Tasks whose delegate
    process is alive (another delegate sharing this work directory) are left alone.
    """
    try:
        controls = sorted((workdir / ".control").iterdir())
    except OSError:
        return []
    found: list[LeftoverTask] = []
    for control in controls:
        record = _read_process_record(control / _PROCESS_RECORD)
        if record is None or _owner_alive(record):
            continue
        ended = end_marked_group(record.pgid, _TASK_MARKER, record.task_id)
        shutil.rmtree(control, ignore_errors=True)
        if not keep_workspaces:
            shutil.rmtree(workdir / control.name, ignore_errors=True)
        found.append(LeftoverTask(record.task_id, ended))
    return found


def _has_exited(pid: int) -> bool:
    """Whether the child ended, without reaping it (so its pid, the group id, stays reserved)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


class TaskProcess:
    """One task's script, run once. `run` blocks until it ended; `abort` may be called from any thread."""

    def __init__(
        self,
        payload: TaskPayload,
        *,
        workdir: Path,
        base_env: Mapping[str, str],
        log: LogSink,
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
        kill_grace_s: float = 2.0,
        poll_s: float = 0.05,
    ) -> None:
        self.payload = payload
        self.workspace, self.control = task_paths(workdir, payload.delegate_task_id)
        self._base_env = base_env
        self._log = log
        self._clock_ms = clock_ms
        self._kill_grace_s = kill_grace_s
        self._poll_s = poll_s
        self._abort = threading.Event()
        self._abort_reason = ""
        self._abort_status: TaskStatus = "ABORTED"
        self._pid: int | None = None

    def abort(self, reason: str, *, status: TaskStatus = "ABORTED") -> None:
        """Kill the script's process group; the task ends with `status` (ABORTED, or INTERRUPTED when the delegate
        itself stops) and `reason` as its message."""
        self._abort_reason, self._abort_status = reason, status
        self._abort.set()

    def kill_now(self) -> None:
        """KILL the script's process group at once, from a signal handler: no lock, no waiting."""
        if self._pid is not None:
            signal_group(self._pid, signal.SIGKILL)

    def run(self) -> TaskOutcome:
        """Prepare the workspace, run the script, and say how it ended."""
        started = self._clock_ms()
        shell = _SHELLS.get(self.payload.shell.strip().lower())
        if shell is None:
            return self._error(started, f"shell {self.payload.shell!r} is not supported by this delegate (Bash, Sh)")
        if self._abort.is_set():
            return self._ended(started, self._abort_status, None, self._abort_reason)
        try:
            script = self._prepare()
            process = subprocess.Popen(
                [shell, str(script)],
                cwd=self.workspace,
                env=task_environment(self.payload, self._base_env, self.workspace, warn=self._warn),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except (OSError, ValueError) as exc:
            return self._error(started, f"cannot start the step's {shell}: {exc}")
        self._pid = process.pid
        try:
            self._record_process(process.pid)
            return self._supervise(process, started)
        finally:
            shutil.rmtree(self.control, ignore_errors=True)

    def _record_process(self, pgid: int) -> None:
        """Say which group runs the task, so a delegate started after this one was killed can end it."""
        try:
            _write_process_record(self.control, self.payload.delegate_task_id, pgid)
        except OSError as exc:
            self._warn(
                f"the task's process record could not be written ({exc}); if the delegate is killed now, "
                "the step's processes are not ended by its next start"
            )

    def _warn(self, text: str) -> None:
        self._log("WARN", text)

    def _prepare(self) -> Path:
        """A fresh workspace (a task run again after a restart starts clean) and the wrapped script."""
        shutil.rmtree(self.workspace, ignore_errors=True)
        self.workspace.mkdir(parents=True)
        shutil.rmtree(self.control, ignore_errors=True)
        self.control.mkdir(parents=True)
        for name in self.payload.output_variables:
            if not valid_env_name(name):
                self._warn(f"output variable {name!r} is not a valid shell name; it is not exported")
        script = self.control / "script.sh"
        wrapped = wrap_script(self.payload.script, self.payload.output_variables, self.control / "outputs")
        script.write_text(wrapped, encoding="utf-8")
        return script

    def _supervise(self, process: subprocess.Popen[bytes], started: int) -> TaskOutcome:
        assert process.stdout is not None and process.stderr is not None
        readers = [
            threading.Thread(target=_pump, args=(process.stdout, "INFO", self._log), daemon=True),
            threading.Thread(target=_pump, args=(process.stderr, "WARN", self._log), daemon=True),
        ]
        for reader in readers:
            reader.start()
        ending = self._wait(process)
        if ending is not None:
            self._terminate(process.pid)
        # Whatever the step left running in its group goes with it, before the leader is reaped.
        signal_group(process.pid, signal.SIGKILL)
        returncode = process.wait()
        for reader in readers:
            reader.join(_READER_JOIN_S)
        if ending == "TIMEOUT":
            limit_s = self.payload.timeout_ms / 1000
            return self._ended(started, "TIMEOUT", None, f"Timed out after {limit_s:g}s: the step was killed")
        if ending == "ABORTED":
            return self._ended(started, self._abort_status, None, self._abort_reason)
        code = _exit_code(returncode)
        outputs = read_outputs(self.control / "outputs", self.payload.output_variables)
        if code == 0:
            return self._ended(started, "SUCCESS", 0, None, outputs)
        return self._ended(started, "FAILURE", code, failure_message(self.payload.task_type, code), outputs)

    def _wait(self, process: subprocess.Popen[bytes]) -> TaskStatus | None:
        """Wait for the script to end; say TIMEOUT or ABORTED when it has to be killed instead."""
        timeout_s = self.payload.timeout_ms / 1000
        deadline = time.monotonic() + timeout_s if timeout_s > 0 else None
        while not _has_exited(process.pid):
            if deadline is not None and time.monotonic() >= deadline:
                return "TIMEOUT"
            if self._abort.wait(self._poll_s):
                return "ABORTED"
        return None

    def _terminate(self, pgid: int) -> None:
        """TERM the group, give the script `kill_grace_s` to end, then KILL the group."""
        signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + self._kill_grace_s
        while not _has_exited(pgid) and time.monotonic() < deadline:
            time.sleep(self._poll_s)
        signal_group(pgid, signal.SIGKILL)

    def _error(self, started: int, message: str) -> TaskOutcome:
        self._log("ERROR", message)
        return self._ended(started, "ERROR", None, message)

    def _ended(
        self,
        started: int,
        status: TaskStatus,
        exit_code: int | None,
        message: str | None,
        outputs: dict[str, str] | None = None,
    ) -> TaskOutcome:
        return TaskOutcome(
            status=status,
            started_at=started,
            finished_at=self._clock_ms(),
            exit_code=exit_code,
            error_message=message,
            output_variables=outputs or {},
        )
