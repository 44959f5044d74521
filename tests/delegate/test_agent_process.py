"""The delegate as a real process against the manager double: a whole step, restarts, outages, signals, a 401."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness_connector.delegate.outbox import Outbox, PendingDelivery
from tests.delegate.manager_double import ACCOUNT, TOKEN, ManagerDouble, free_port, running_manager

TINY_SUITE = """cat > test_tiny.py <<'PY'
def test_passes():
    print("fine")

def test_fails():
    assert 1 + 1 == 3
PY
echo "running the suite"
{python} -m pytest -q -p no:cacheprovider -o addopts= --junitxml=reports/junit.xml test_tiny.py
"""


@pytest.fixture
def manager() -> Iterator[ManagerDouble]:
    with running_manager() as started:
        yield started


class Delegate:
    """`harness-connector delegate` in a child process, its log in a file."""

    def __init__(self, manager: ManagerDouble, home: Path, *options: str) -> None:
        self.log_path = home / f"delegate-{time.monotonic_ns()}.log"
        self.state_dir = home / "state"
        env = {k: v for k, v in os.environ.items() if k not in ("ACCOUNT_ID", "DELEGATE_NAME", "DELEGATE_TAGS")}
        env.update(DELEGATE_TOKEN=TOKEN, MANAGER_HOST_AND_PORT=manager.url)
        command = [
            sys.executable,
            "-c",
            "from harness_connector.cli.delegate import main; main()",
            "--name",
            "d1",
            "--account",
            ACCOUNT,
            "--workdir",
            str(home / "work"),
            "--state-dir",
            str(self.state_dir),
            "--heartbeat-interval",
            "0.3",
            "--poll-wait",
            "1",
            "--max-backoff",
            "0.5",
            *options,
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout_s: float = 20) -> int:
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the delegate did not exit; its log:\n{self.log()}") from None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        text = self.log()
        assert TOKEN not in text and "Delegate ey" not in text, "the token or a JWT was logged"


@pytest.fixture
def delegates(tmp_path: Path) -> Iterator[list[Delegate]]:
    started: list[Delegate] = []
    yield started
    for delegate in started:
        delegate.close()


def start(delegates: list[Delegate], manager: ManagerDouble, home: Path, *options: str) -> Delegate:
    delegate = Delegate(manager, home, *options)
    delegates.append(delegate)
    return delegate


def health(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as answer:
        body: dict[str, Any] = json.loads(answer.read())
        return body


def test_a_pytest_step_sends_its_logs_test_cases_and_failure_and_a_shell_step_its_outputs(
    manager: ManagerDouble, delegates: list[Delegate], tmp_path: Path
) -> None:
    manager.queue("t1", TINY_SUITE.format(python=sys.executable), reportPaths=["reports/*.xml"])
    manager.queue("t2", 'echo "deploying"\nVERSION=2.4.1', taskType="SHELL_SCRIPT", outputVariables=["VERSION"])
    port = free_port()
    delegate = start(delegates, manager, tmp_path, "--tags", "linux, e2e", "--health-port", str(port))

    manager.wait_for(lambda: manager.tasks["t1"].results and manager.tasks["t2"].results, 25, "both results")
    assert health(port) == {"status": "ok", "connected": True, "runningTasks": 0, "queuedResults": 0}
    delegate.signal(signal.SIGTERM)
    assert delegate.wait() == 0

    (failed,) = manager.results("t1")
    assert {k: failed[k] for k in ("status", "exitCode", "errorMessage", "outputVariables", "reportsUploaded")} == {
        "status": "FAILURE",
        "exitCode": 1,
        "errorMessage": "1 error occurred:\n\t* exit status 1",
        "outputVariables": {},
        "reportsUploaded": 1,
    }
    (passed,) = manager.results("t2")
    assert (passed["status"], passed["exitCode"], passed["outputVariables"]) == ("SUCCESS", 0, {"VERSION": "2.4.1"})

    ((query, rows),) = manager.reports
    assert query == {
        "orgId": "default",
        "projectId": "payments",
        "pipelineId": "build",
        "buildId": "7",
        "stageId": "test",
        "stepId": "step_t1",
        "report": "junit",
    }
    statuses = {row["name"]: row["result"]["status"] for row in rows}
    assert statuses == {"test_passes": "passed", "test_fails": "failed"}
    assert "assert" in next(row["result"]["message"] for row in rows if row["name"] == "test_fails")

    log = manager.log_text("t1")
    assert log[0] == "Task t1 started on delegate d1" and log[-1] == "Task t1 finished with exit code 1"
    assert "running the suite" in log and any("1 failed, 1 passed" in line for line in log)
    assert manager.log_text("t2") == [
        "Task t2 started on delegate d1",
        "deploying",
        "Task t2 finished with exit code 0",
    ]

    (registration,) = manager.registrations
    assert (registration["delegateName"], registration["tags"], registration["runningTaskIds"]) == (
        "d1",
        ["linux", "e2e"],
        [],
    )
    assert manager.unregistered == ["dlg-1"]
    assert not (tmp_path / "work" / "t1").exists(), "workspaces are removed once their task ended"


def test_a_delegate_killed_mid_task_registers_again_without_it_and_runs_it_again(
    manager: ManagerDouble, delegates: list[Delegate], tmp_path: Path
) -> None:
    manager.queue("t1", "echo attempt\nsleep 1\necho done")
    first = start(delegates, manager, tmp_path)
    manager.wait_for(lambda: "attempt" in manager.log_text("t1"), 20, "the task to start")

    first.signal(signal.SIGKILL)
    first.wait()
    start(delegates, manager, tmp_path)
    manager.wait_for(lambda: manager.tasks["t1"].results, 20, "the result")

    assert [r["runningTaskIds"] for r in manager.registrations] == [[], []]
    assert manager.tasks["t1"].acquired == 2
    (result,) = manager.results("t1")
    assert result["status"] == "SUCCESS"


def test_a_result_waits_in_the_outbox_while_the_manager_is_away_and_arrives_when_it_is_back(
    manager: ManagerDouble, delegates: list[Delegate], tmp_path: Path
) -> None:
    manager.queue("t1", "echo working\nsleep 1\necho finished\nexit 4")
    port = free_port()
    delegate = start(delegates, manager, tmp_path, "--health-port", str(port))
    manager.wait_for(lambda: "working" in manager.log_text("t1"), 20, "the task to start")

    manager.stop()
    outbox_file = delegate.state_dir / "outbox" / "t1.json"
    manager.wait_for(outbox_file.exists, 20, "the result to reach the outbox")
    manager.wait_for(lambda: not health(port)["connected"], 10, "the delegate to notice the manager is away")
    assert health(port) == {"status": "ok", "connected": False, "runningTasks": 0, "queuedResults": 1}

    manager.start()
    manager.wait_for(lambda: manager.tasks["t1"].results, 20, "the result")
    manager.wait_for(lambda: not outbox_file.exists(), 10, "the outbox to empty")

    (result,) = manager.results("t1")
    assert (result["status"], result["exitCode"]) == ("FAILURE", 4)
    assert manager.log_text("t1") == [
        "Task t1 started on delegate d1",
        "working",
        "finished",
        "Task t1 finished with exit code 4",
    ]
    assert manager.registrations[-1]["runningTaskIds"] == ["t1"], "a result in the outbox is still held"
    assert "reconnected" in delegate.log()


def test_results_left_in_the_outbox_by_an_earlier_life_are_delivered_before_new_tasks_are_taken(
    manager: ManagerDouble, delegates: list[Delegate], tmp_path: Path
) -> None:
    manager.queue("t0", "echo earlier")
    manager.assign("t0", "d1")
    lines = [{"level": "INFO", "out": "from the earlier life", "time": "2026-11-22T10:00:00.000Z"}]
    result = {"status": "SUCCESS", "exitCode": 0, "startedAt": 1, "finishedAt": 2, "reportsUploaded": 0}
    Outbox(tmp_path / "state").put(PendingDelivery(task_id="t0", log_key="logs/t0", result=result, log_batches=[lines]))
    manager.queue("t1", "echo new")

    start(delegates, manager, tmp_path)
    manager.wait_for(lambda: manager.tasks["t1"].results, 20, "the new task's result")

    assert manager.registrations[0]["runningTaskIds"] == ["t0"], "a result in the outbox is still held"
    assert manager.events == ["register", "result t0", "acquire t1", "result t1"]
    assert manager.results("t0") == [result]
    assert manager.log_text("t0") == ["from the earlier life"]
    assert manager.tasks["t0"].acquired == 1


def test_sigterm_lets_the_running_task_finish_delivers_its_result_and_unregisters(
    manager: ManagerDouble, delegates: list[Delegate], tmp_path: Path
) -> None:
    manager.queue("t1", "echo begin\nsleep 1\necho end")
    delegate = start(delegates, manager, tmp_path)
    manager.wait_for(lambda: "begin" in manager.log_text("t1"), 20, "the task to start")

    delegate.signal(signal.SIGTERM)
    manager.queue("t2", "echo too late")
    assert delegate.wait() == 0

    (result,) = manager.results("t1")
    assert result["status"] == "SUCCESS"
    assert "end" in manager.log_text("t1")
    assert manager.unregistered == ["dlg-1"]
    assert manager.tasks["t2"].status == "QUEUED"


def test_tasks_the_manager_gives_up_on_are_reported_aborted_those_the_grace_period_outlives_interrupted(
    manager: ManagerDouble, delegates: list[Delegate], tmp_path: Path
) -> None:
    manager.queue("t1", "echo one\nsleep 30")
    manager.queue("t2", "echo two\nsleep 30")
    delegate = start(delegates, manager, tmp_path, "--grace", "0.5")
    manager.wait_for(lambda: "one" in manager.log_text("t1") and "two" in manager.log_text("t2"), 20, "both tasks")

    manager.abort("t1")
    manager.wait_for(lambda: manager.tasks["t1"].results, 10, "the aborted result")
    delegate.signal(signal.SIGTERM)
    assert delegate.wait() == 0

    assert [(r["status"], r["errorMessage"]) for r in manager.results("t1")] == [("ABORTED", "aborted by the manager")]
    assert [(r["status"], r["errorMessage"]) for r in manager.results("t2")] == [
        ("INTERRUPTED", "the delegate is shutting down")
    ]
    assert "Task t2 was interrupted: the delegate is shutting down" in manager.log_text("t2")


def test_a_second_signal_stops_at_once_and_kills_the_running_task(
    manager: ManagerDouble, delegates: list[Delegate], tmp_path: Path
) -> None:
    pid_file = tmp_path / "task.pid"
    manager.queue("t1", f"echo $$ > {pid_file}\necho started\nsleep 30")
    delegate = start(delegates, manager, tmp_path)
    manager.wait_for(lambda: "started" in manager.log_text("t1"), 20, "the task to start")

    delegate.signal(signal.SIGTERM)
    manager.wait_for(lambda: "taking no new tasks" in delegate.log(), 10, "the first signal to be handled")
    delegate.signal(signal.SIGTERM)

    assert delegate.wait(5) == 128 + signal.SIGTERM
    assert manager.results("t1") == []
    task_pid = int(pid_file.read_text(encoding="utf-8"))
    manager.wait_for(lambda: not Path(f"/proc/{task_pid}").exists() or _zombie(task_pid), 5, "the task to die")


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_revoked_token_stops_the_delegate_with_a_message_that_says_so(
    manager: ManagerDouble, delegates: list[Delegate], tmp_path: Path
) -> None:
    delegate = start(delegates, manager, tmp_path)
    manager.wait_for(lambda: manager.registrations, 20, "the registration")

    manager.revoked = True

    assert delegate.wait() == 1
    assert "refused the delegate token (401 INVALID_TOKEN): it was revoked" in delegate.log()


def test_the_concurrency_limit_keeps_a_task_queued_until_a_slot_frees(
    manager: ManagerDouble, delegates: list[Delegate], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    wait_for_gate = f"echo started\nuntil [ -e {gate} ]; do sleep 0.05; done"
    for task_id in ("t1", "t2", "t3"):
        manager.queue(task_id, wait_for_gate)
    delegate = start(delegates, manager, tmp_path, "--concurrency", "2")
    manager.wait_for(lambda: sum(t.status == "ASSIGNED" for t in manager.tasks.values()) == 2, 20, "two tasks")
    time.sleep(2)  # several polls later, the third is still left for another delegate

    assert sorted(t.status for t in manager.tasks.values()) == ["ASSIGNED", "ASSIGNED", "QUEUED"]
    gate.touch()
    manager.wait_for(lambda: all(t.status == "DONE" for t in manager.tasks.values()), 30, "all three tasks")
    assert [r["status"] for task_id in ("t1", "t2", "t3") for r in manager.results(task_id)] == ["SUCCESS"] * 3
    delegate.signal(signal.SIGTERM)
    assert delegate.wait() == 0
