"""Running one task's script: status and exit code, timeout and abort, output variables, environment, workspace."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from harness_connector.delegate.protocol import TaskPayload
from harness_connector.delegate.task_env import base_environment
from harness_connector.delegate.task_logs import MAX_LINE_BYTES
from harness_connector.delegate.tasks import SHELL_SCRIPT_FAILED, TaskOutcome, TaskProcess
from tests.delegate.manager_double import task_payload


class Lines:
    """A log sink that keeps (level, text) pairs."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, level: str, text: str) -> None:
        with self._lock:
            self.lines.append((level, text))

    def texts(self, level: str | None = None) -> list[str]:
        return [text for lvl, text in self.lines if level is None or lvl == level]


def make(tmp_path: Path, script: str, *, env: dict[str, str] | None = None, **fields: Any) -> tuple[TaskProcess, Lines]:
    lines = Lines()
    payload = TaskPayload.model_validate(task_payload("t1", script, **fields))
    base = env if env is not None else {"PATH": os.environ["PATH"]}
    process = TaskProcess(payload, workdir=tmp_path / "work", base_env=base, log=lines, kill_grace_s=0.5)
    return process, lines


def run(tmp_path: Path, script: str, **fields: Any) -> tuple[TaskOutcome, Lines, TaskProcess]:
    process, lines = make(tmp_path, script, **fields)
    return process.run(), lines, process


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a parent that may never reap it."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_exit_zero_is_success_with_the_lines_logged_in_order(tmp_path: Path) -> None:
    outcome, lines, _ = run(tmp_path, "echo one\necho two\nexit 0")

    assert (outcome.status, outcome.exit_code, outcome.error_message) == ("SUCCESS", 0, None)
    assert lines.texts("INFO") == ["one", "two"]
    assert outcome.started_at <= outcome.finished_at


def test_a_non_zero_exit_is_failure_with_the_ci_run_message(tmp_path: Path) -> None:
    outcome, _, _ = run(tmp_path, "exit 3")

    assert (outcome.status, outcome.exit_code) == ("FAILURE", 3)
    assert outcome.error_message == "1 error occurred:\n\t* exit status 3"


def test_a_shell_script_step_fails_with_harness_s_shell_script_message(tmp_path: Path) -> None:
    outcome, _, _ = run(tmp_path, "false", taskType="SHELL_SCRIPT")

    assert (outcome.status, outcome.exit_code, outcome.error_message) == ("FAILURE", 1, SHELL_SCRIPT_FAILED)


def test_stderr_lines_are_logged_as_warnings(tmp_path: Path) -> None:
    _, lines, _ = run(tmp_path, "echo out\necho err >&2")

    assert lines.texts("INFO") == ["out"]
    assert lines.texts("WARN") == ["err"]


def test_output_variables_are_captured_even_after_exit_1_and_keep_newlines(tmp_path: Path) -> None:
    script = 'VERSION=1.2.3\nNOTES="line one\nline two"\nEMPTY=\nexit 1'
    outcome, _, _ = run(tmp_path, script, outputVariables=["VERSION", "NOTES", "EMPTY", "NEVER_SET"])

    assert outcome.status == "FAILURE"
    assert outcome.output_variables == {"VERSION": "1.2.3", "NOTES": "line one\nline two", "EMPTY": ""}


def test_output_variables_are_captured_when_set_e_stops_the_script(tmp_path: Path) -> None:
    outcome, _, _ = run(tmp_path, "set -e\nRESULT=partial\nfalse\nRESULT=never", outputVariables=["RESULT"])

    assert (outcome.status, outcome.output_variables) == ("FAILURE", {"RESULT": "partial"})


def test_an_output_variable_that_is_not_a_shell_name_is_refused_with_a_warning(tmp_path: Path) -> None:
    outcome, lines, _ = run(tmp_path, "OK=1", outputVariables=["OK", "bad-name"])

    assert outcome.output_variables == {"OK": "1"}
    assert any("bad-name" in text for text in lines.texts("WARN"))


def test_the_script_runs_in_its_own_workspace_with_harness_variables(tmp_path: Path) -> None:
    script = 'pwd\necho "$HARNESS_WORKSPACE|$HARNESS_EXECUTION_ID|$HARNESS_STAGE_ID|$HARNESS_STEP_ID|$HARNESS_TASK_ID"'
    outcome, lines, process = run(tmp_path, script)

    workspace = tmp_path / "work" / "t1"
    assert outcome.status == "SUCCESS" and process.workspace == workspace
    assert lines.texts("INFO") == [str(workspace), f"{workspace}|exec-t1|test|step_t1|t1"]


def test_the_environment_is_the_safe_base_plus_the_step_s_own_and_never_the_delegate_s_secrets(
    tmp_path: Path,
) -> None:
    delegate_env = {
        "PATH": os.environ["PATH"],
        "HOME": "/home/someone",
        "DELEGATE_TOKEN": "must-not-leak",
        "AWS_SECRET_ACCESS_KEY": "nor-this",
    }
    process, lines = make(
        tmp_path,
        'echo "${DELEGATE_TOKEN-unset}|${AWS_SECRET_ACCESS_KEY-unset}|$HOME|$GREETING|$HARNESS_BUILD_ID"',
        env=base_environment(delegate_env),
        environment={"GREETING": "hello"},
    )

    outcome = process.run()

    assert outcome.status == "SUCCESS"
    assert lines.texts("INFO") == ["unset|unset|/home/someone|hello|7"]


def test_a_step_s_variable_cannot_override_the_harness_ids(tmp_path: Path) -> None:
    outcome, lines, _ = run(tmp_path, 'echo "$HARNESS_STEP_ID"', environment={"HARNESS_STEP_ID": "spoofed"})
    assert outcome.status == "SUCCESS"
    assert lines.texts("INFO") == ["step_t1"]


def test_a_timeout_kills_the_whole_process_group_including_a_child(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    script = f"sleep 30 &\necho $! > {pid_file}\nwait"
    started = time.monotonic()
    outcome, _, _ = run(tmp_path, script, timeoutMs=700)

    assert time.monotonic() - started < 10
    assert outcome.status == "TIMEOUT" and outcome.exit_code is None
    assert outcome.error_message is not None and "0.7s" in outcome.error_message
    child = int(pid_file.read_text(encoding="utf-8"))
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    outcome, _, _ = run(tmp_path, "trap '' TERM\nwhile true; do sleep 0.1; done", timeoutMs=300)
    assert outcome.status == "TIMEOUT"


def test_background_processes_a_finished_step_left_behind_are_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "bg.pid"
    outcome, _, _ = run(tmp_path, f"sleep 30 > /dev/null 2>&1 &\necho $! > {pid_file}\nexit 0")

    assert outcome.status == "SUCCESS"
    child = int(pid_file.read_text(encoding="utf-8"))
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_abort_kills_the_script_and_reports_aborted_with_the_reason(tmp_path: Path) -> None:
    process, lines = make(tmp_path, "echo started\nsleep 30")
    timer = threading.Timer(0.5, process.abort, args=("aborted by the manager",))
    timer.start()
    outcome = process.run()

    assert (outcome.status, outcome.error_message) == ("ABORTED", "aborted by the manager")
    assert lines.texts("INFO") == ["started"]


def test_a_line_longer_than_64_kib_is_cut_and_the_next_line_still_arrives(tmp_path: Path) -> None:
    outcome, lines, _ = run(tmp_path, "head -c 200000 /dev/zero | tr '\\0' x\necho\necho after")

    assert outcome.status == "SUCCESS"
    long_line, after = lines.texts("INFO")
    assert long_line.startswith("x" * MAX_LINE_BYTES) and long_line.endswith("[line cut at 64 KiB]")
    assert after == "after"


def test_an_unsupported_shell_is_an_error_and_nothing_runs(tmp_path: Path) -> None:
    outcome, lines, process = run(tmp_path, "Write-Host hi", shell="PowerShell")

    assert outcome.status == "ERROR"
    assert outcome.error_message is not None and "PowerShell" in outcome.error_message
    assert lines.texts("ERROR") == [outcome.error_message]
    assert not process.workspace.exists()


def test_a_shell_that_cannot_start_is_an_error(tmp_path: Path) -> None:
    outcome, _, _ = run(tmp_path, "echo hi", env={"PATH": str(tmp_path / "nowhere")})

    assert outcome.status == "ERROR"
    assert outcome.error_message is not None and "cannot start" in outcome.error_message


def test_a_task_run_again_starts_from_a_clean_workspace(tmp_path: Path) -> None:
    first, _, _ = run(tmp_path, "echo left > leftover.txt")
    second, lines, _ = run(tmp_path, "ls -A")

    assert first.status == second.status == "SUCCESS"
    assert lines.texts("INFO") == []


@pytest.mark.parametrize("shell", ["Bash", "Sh"], ids=["bash", "sh"])
def test_both_shells_run_and_export_outputs(tmp_path: Path, shell: str) -> None:
    outcome, _, _ = run(tmp_path, "A=1\nexit 2", shell=shell, outputVariables=["A"])
    assert (outcome.status, outcome.exit_code, outcome.output_variables) == ("FAILURE", 2, {"A": "1"})
