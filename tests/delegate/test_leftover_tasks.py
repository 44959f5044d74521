"""What a killed delegate left running: a real delegate-like process runs a task and is SIGKILLed; the next start
ends the task's processes and clears its directories, and leaves alone what belongs to a delegate still alive."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness_connector.delegate.process_groups import process_start_time
from harness_connector.delegate.protocol import TaskPayload
from harness_connector.delegate.tasks import LeftoverTask, TaskProcess, end_leftover_tasks, task_paths
from tests.delegate.manager_double import task_payload
from tests.delegate.test_tasks import alive

# Runs one task as the delegate does, in a process the test can kill.
_RUN_ONE_TASK = """
import os, sys
from pathlib import Path
from harness_connector.delegate.protocol import TaskPayload
from harness_connector.delegate.tasks import TaskProcess
payload = TaskPayload.model_validate_json(sys.argv[1])
TaskProcess(payload, workdir=Path(sys.argv[2]), base_env={"PATH": os.environ["PATH"]}, log=lambda *a: None).run()
"""


def _wait_for(what: str, check: Callable[[], object], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _script(pid_file: Path) -> str:
    # A background child and a foreground one, as a test runner and its browser would be.
    return f"sleep 60 &\necho $! > {pid_file}\nsleep 60"


@pytest.fixture
def killed_delegate(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A task whose delegate process was SIGKILLed mid-run: the work directory and the step's background pid."""
    workdir, pid_file = tmp_path / "work", tmp_path / "bg.pid"
    payload = task_payload("task-7", _script(pid_file))
    delegate = subprocess.Popen([sys.executable, "-c", _RUN_ONE_TASK, json.dumps(payload), str(workdir)])
    _wait_for("the step to start", lambda: pid_file.is_file() and pid_file.read_text().strip())
    _wait_for("the process record", lambda: (task_paths(workdir, "task-7")[1] / "process.json").is_file())
    delegate.kill()
    delegate.wait()
    step_child = int(pid_file.read_text())
    yield workdir, step_child
    if alive(step_child):
        os.kill(step_child, signal.SIGKILL)


def test_the_next_start_ends_the_processes_a_killed_delegate_s_task_left_and_clears_its_directories(
    killed_delegate: tuple[Path, int],
) -> None:
    workdir, step_child = killed_delegate
    assert alive(step_child)  # the step outlived its delegate

    leftovers = end_leftover_tasks(workdir, keep_workspaces=False)

    assert [left.task_id for left in leftovers] == ["task-7"]
    assert leftovers[0].processes_ended >= 2  # the shell, its background child and its foreground one
    _wait_for("the step's child to die", lambda: not alive(step_child), 5)
    workspace, control = task_paths(workdir, "task-7")
    assert not workspace.exists() and not control.exists()
    assert end_leftover_tasks(workdir, keep_workspaces=False) == []  # nothing twice


def test_a_kept_workspace_survives_the_clean_up(killed_delegate: tuple[Path, int]) -> None:
    workdir, _ = killed_delegate

    end_leftover_tasks(workdir, keep_workspaces=True)

    workspace, control = task_paths(workdir, "task-7")
    assert workspace.is_dir() and not control.exists()


def test_a_task_of_a_delegate_that_is_still_running_is_left_alone(tmp_path: Path) -> None:
    workdir, pid_file = tmp_path / "work", tmp_path / "bg.pid"
    payload = TaskPayload.model_validate(task_payload("task-8", _script(pid_file)))
    process = TaskProcess(payload, workdir=workdir, base_env={"PATH": os.environ["PATH"]}, log=lambda *a: None)
    runner = threading.Thread(target=process.run)
    runner.start()
    try:
        _wait_for("the step to start", lambda: pid_file.is_file() and pid_file.read_text().strip())
        _wait_for("the process record", lambda: (process.control / "process.json").is_file())

        assert end_leftover_tasks(workdir, keep_workspaces=False) == []

        assert alive(int(pid_file.read_text()))
        assert process.workspace.is_dir() and process.control.is_dir()
    finally:
        process.abort("test over")
        runner.join(10)


def _plant(workdir: Path, task_id: str, record: object) -> Path:
    control = task_paths(workdir, task_id)[1]
    control.mkdir(parents=True)
    (control / "process.json").write_text(json.dumps(record))
    return control


def test_a_recycled_owner_pid_is_not_taken_for_the_delegate_that_ran_the_task(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    leader = subprocess.Popen(["sleep", "60"], env={"HARNESS_TASK_ID": "task-9"}, start_new_session=True)
    try:
        # The record names this very process as the owner, but with another start time: the pid was reused.
        started = process_start_time(os.getpid())
        assert started is not None
        _plant(workdir, "task-9", {"taskId": "task-9", "pgid": leader.pid, "owner": os.getpid(),
                                   "ownerStarted": started + 1})  # fmt: skip

        assert end_leftover_tasks(workdir, keep_workspaces=False) == [LeftoverTask("task-9", 1)]
        assert leader.wait(timeout=5) == -signal.SIGKILL
    finally:
        if leader.poll() is None:
            leader.kill()
            leader.wait()


def test_a_process_without_the_task_s_marker_is_never_killed_even_in_the_recorded_group(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    stranger = subprocess.Popen(["sleep", "60"], env={"HARNESS_TASK_ID": "another-task"}, start_new_session=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    try:
        _plant(workdir, "task-10", {"taskId": "task-10", "pgid": stranger.pid, "owner": dead.pid})

        assert end_leftover_tasks(workdir, keep_workspaces=False) == [LeftoverTask("task-10", 0)]
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


@pytest.mark.parametrize("record", ["not json", json.dumps({"taskId": "t", "pgid": "12"}), json.dumps([1, 2])])
def test_an_unreadable_process_record_is_left_alone(tmp_path: Path, record: str) -> None:
    workdir = tmp_path / "work"
    control = task_paths(workdir, "task-11")[1]
    control.mkdir(parents=True)
    (control / "process.json").write_text(record)

    assert end_leftover_tasks(workdir, keep_workspaces=False) == []
    assert control.is_dir()


def test_a_work_directory_with_no_control_directory_has_no_leftovers(tmp_path: Path) -> None:
    assert end_leftover_tasks(tmp_path / "missing", keep_workspaces=False) == []
