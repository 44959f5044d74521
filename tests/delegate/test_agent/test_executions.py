"""The queue and its verdicts: how a process's end and its reports become an overall status, and what happens to
runs an agent leaves behind when it stops or dies."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness_connector.delegate.test_agent.executions import Executions, UnknownProfile, judge
from harness_connector.delegate.test_agent.profiles import Profile
from harness_connector.delegate.test_agent.reports import RunReport
from harness_connector.delegate.test_agent.runner import RunOutcome
from harness_connector.delegate.test_agent.store import ExecutionRecord, ExecutionStore, Summary

PASSED = Summary(tests=3, passed=3)
FAILED = Summary(tests=3, passed=2, failed=1)


ALL_PASSED = "3 tests: 3 passed, 0 failed, 0 errors, 0 skipped"
ONE_FAILED = "3 tests: 2 passed, 1 failed, 0 errors, 0 skipped"
NONE = "no tests reported"


@pytest.mark.parametrize(
    ("outcome", "summary", "refused", "verdict"),
    [
        (RunOutcome(exit_code=0), PASSED, [], ("Pass", ALL_PASSED)),
        (RunOutcome(exit_code=1), FAILED, [], ("Fail", f"{ONE_FAILED}; exit code 1")),
        (RunOutcome(exit_code=0), FAILED, [], ("Fail", f"{ONE_FAILED}; exit code 0")),
        (RunOutcome(exit_code=2), PASSED, [], ("Fail", f"{ALL_PASSED}, but the runner exited with code 2")),
        (
            RunOutcome(exit_code=127),
            Summary(),
            [],
            ("Error", "the runner exited with code 127 (command not found) and reported no tests; last output: boom"),
        ),
        (RunOutcome(exit_code=0), Summary(), [], ("Pass", "the runner exited with code 0 and reported no tests")),
        (
            RunOutcome(exit_code=0),
            PASSED,
            ["x.xml:2: refused"],
            ("Error", f"{ALL_PASSED}, but not every report could be read; 1 report(s) refused: x.xml:2: refused"),
        ),
        (
            RunOutcome(signal_name="SIGKILL"),
            Summary(),
            [],
            ("Error", f"the runner was killed by SIGKILL; {NONE}; last output: boom"),
        ),
        (
            RunOutcome(signal_name="SIGTERM", timed_out=True),
            FAILED,
            [],
            ("Timeout", f"killed after the profile's timeout of 90s; {ONE_FAILED}"),
        ),
        (
            RunOutcome(signal_name="SIGTERM", aborted=True),
            Summary(),
            [],
            ("Aborted", f"the test agent stopped while this ran; {NONE}"),
        ),
        (RunOutcome(spawn_error="command not found: x"), Summary(), [], ("Error", "command not found: x")),
    ],
    ids=[
        "pass",
        "fail",
        "fail-exit-0",
        "fail-exit-only",
        "crash",
        "no-tests",
        "refused",
        "signal",
        "timeout",
        "aborted",
        "spawn",
    ],
)
def test_the_overall_status_comes_from_the_exit_and_the_reports(
    outcome: RunOutcome, summary: Summary, refused: list[str], verdict: tuple[str, str]
) -> None:
    report = RunReport(summary=summary, refused=refused)

    assert judge(outcome, report, tail="boom", timeout_s=90) == verdict


def _clock() -> datetime:
    return datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def _executions(tmp_path: Path, **profiles: Profile) -> Executions:
    env = {"PATH": os.environ["PATH"]}
    return Executions(profiles=profiles, store=ExecutionStore(tmp_path / "agent"), base_env=env, clock=_clock)


def test_runs_an_earlier_agent_left_unfinished_are_closed_with_the_reason_on_start(tmp_path: Path) -> None:
    store = ExecutionStore(tmp_path / "agent")
    ids = ["00000000-0000-4000-8000-00000000000" + str(n) for n in range(3)]
    queued_at = "2026-11-22T09:00:00.000Z"
    store.save(ExecutionRecord(executionListId=ids[0], key="unit", queuedAt=queued_at))
    store.save(ExecutionRecord(executionListId=ids[1], key="unit", queuedAt=queued_at, status="Inprogress", pid=1))
    done = ExecutionRecord(
        executionListId=ids[2], key="unit", queuedAt=queued_at, status="Completed", overallstatus="Pass"
    )
    store.save(done)
    executions = _executions(tmp_path)

    closed = executions.start()
    executions.stop()

    records = [executions.get(execution_id) for execution_id in ids]
    assert sorted(closed) == ids[:2]
    assert [(r.status, r.overall_status, r.message) for r in records if r is not None] == [
        ("Completed", "Error", "the test agent restarted before this started; trigger it again"),
        ("Completed", "Error", "the test agent restarted while this ran; trigger it again"),
        ("Completed", "Pass", None),
    ]
    assert store.load(ids[1]) == records[1]
    assert records[1] is not None and records[1].ended_at == "2026-11-22T10:00:00.000Z"


def test_stopping_aborts_the_running_run_and_closes_the_queued_ones(tmp_path: Path) -> None:
    executions = _executions(tmp_path, wait=Profile(command="sleep 30", workdir=tmp_path))
    executions.start()
    running, queued = executions.submit("wait"), executions.submit("wait")
    while (record := executions.get(running.execution_list_id)) is not None and record.status != "Inprogress":
        executions.wait(running.execution_list_id, 0.01)

    executions.stop()

    first, second = executions.get(running.execution_list_id), executions.get(queued.execution_list_id)
    assert first is not None and second is not None
    assert (first.overall_status, first.message) == (
        "Aborted",
        "the test agent stopped while this ran; no tests reported",
    )
    assert (second.overall_status, second.message) == ("Aborted", "the test agent stopped before this started")
    assert executions.counts() == {"queued": 0, "running": 0}


def test_an_unknown_key_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    executions = _executions(tmp_path, unit=Profile(command="true", workdir=tmp_path))

    with pytest.raises(UnknownProfile):
        executions.submit("nightly")

    assert list((tmp_path / "agent" / "executions").iterdir()) == []
