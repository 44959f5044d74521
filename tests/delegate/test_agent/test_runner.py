"""Runs as processes: timeouts end the whole process group, failures to start and signals are named, and an
orphaned run is found by its marker, never by its pid alone."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness_connector.delegate.test_agent.profiles import Profile
from harness_connector.delegate.test_agent.runner import RunOutcome, end_orphans, log_tail, run_command
from tests.delegate.test_agent.agent_process import process_dies


def _run(tmp_path: Path, command: str | tuple[str, ...], *, timeout_s: float = 10) -> tuple[RunOutcome, list[int]]:
    started: list[int] = []
    outcome = run_command(
        Profile(command=command, workdir=tmp_path),
        env={"PATH": os.environ["PATH"], "AVO_EXECUTION_ID": "run-1"},
        log_path=tmp_path / "output.log",
        timeout_s=timeout_s,
        stop=threading.Event(),
        on_started=started.append,
    )
    return outcome, started


def test_a_run_over_its_timeout_is_ended_with_everything_it_started(tmp_path: Path) -> None:
    outcome, started = _run(tmp_path, "sleep 30 & echo $! > child.pid; wait", timeout_s=0.5)

    child = int((tmp_path / "child.pid").read_text())
    assert outcome == RunOutcome(signal_name="SIGTERM", timed_out=True)
    assert len(started) == 1
    assert process_dies(child)


def test_a_background_process_left_behind_by_a_finished_run_is_ended(tmp_path: Path) -> None:
    outcome, _ = _run(tmp_path, "sleep 30 & echo $! > child.pid; echo done")

    assert outcome == RunOutcome(exit_code=0)
    assert process_dies(int((tmp_path / "child.pid").read_text()))
    assert log_tail(tmp_path / "output.log") == "done"


@pytest.mark.parametrize(
    ("command", "outcome"),
    [
        (("no-such-program-xyz", "--all"), RunOutcome(spawn_error="command not found: no-such-program-xyz")),
        ("kill -KILL $$", RunOutcome(signal_name="SIGKILL")),
        ("echo broken >&2; exit 3", RunOutcome(exit_code=3)),
    ],
    ids=["not-found", "signal", "exit-code"],
)
def test_how_a_run_ended_is_told_apart(tmp_path: Path, command: str | tuple[str, ...], outcome: RunOutcome) -> None:
    assert _run(tmp_path, command)[0] == outcome


@pytest.fixture
def sessions() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


def test_only_processes_carrying_the_runs_marker_are_ended_as_orphans(
    sessions: list[subprocess.Popen[bytes]],
) -> None:
    def start(**env: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(["sleep", "30"], env={"PATH": os.environ["PATH"], **env}, start_new_session=True)
        sessions.append(process)
        return process

    marked, unmarked, other_run = start(AVO_EXECUTION_ID="run-1"), start(), start(AVO_EXECUTION_ID="run-2")

    assert end_orphans("run-1", unmarked.pid) == 0
    assert end_orphans("run-1", other_run.pid) == 0
    assert end_orphans("run-1", None) == 0
    assert end_orphans("run-1", marked.pid) == 1
    assert marked.wait(timeout=5) == -signal.SIGKILL
    assert unmarked.poll() is None and other_run.poll() is None
