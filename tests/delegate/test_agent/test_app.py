"""The test agent as a real process on loopback, driven over HTTP the way an Avo DevOps script drives Avo."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from lxml import etree

from tests.delegate.test_agent.agent_process import (
    Agent,
    open_gate,
    process_alive,
    process_dies,
    running_agent,
    write_profiles,
)

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("agent")


@pytest.fixture(scope="module")
def agent(root: Path) -> Iterator[Agent]:
    with running_agent(write_profiles(root), root / "work", "--concurrency", "4") as running:
        yield running


def test_health_lists_the_profiles(agent: Agent) -> None:
    health = agent.get("/health").json()
    assert health["status"] == "ok"
    assert health["profiles"] == ["gated", "hostile", "missing", "mixed", "passing", "sleeper"]


def test_an_asynchronous_trigger_answers_with_absolute_links_that_lead_to_the_results(agent: Agent) -> None:
    answer = agent.post("/execAutomation", {"key": "mixed", "executionType": "asynchronous"}).json()
    execution_id = answer["executionListId"]

    final = agent.wait_for(execution_id)
    report = httpx2.get(answer["reportLink"], timeout=10).json()
    junit = etree.fromstring(agent.get("/reports/junit", executionListId=execution_id).content)

    assert UUID.fullmatch(execution_id)
    assert answer["status"] == "pass"
    assert answer["error"] is None
    assert answer["runningStatusLink"] == f"{agent.url}/runningStatus?executionListId={execution_id}"
    assert answer["reportLink"] == f"{agent.url}/reports/devOpsReport?configurekey=mixed&executionListId={execution_id}"
    assert final["overallstatus"] == "Fail"
    assert final["Completed"] == "2/2"
    assert final["exitCode"] == 1
    assert final["summary"] == {"tests": 2, "passed": 1, "failed": 1, "errors": 0, "skipped": 0}
    assert final["startedAt"] <= final["endedAt"]
    assert [(case["name"], case["status"]) for case in report["testcases"]] == [
        ("test_passes", "passed"),
        ("test_fails", "failed"),
    ]
    assert "arithmetic is broken" in report["testcases"][1]["message"]
    assert junit.tag == "testsuites"
    assert (junit.get("tests"), junit.get("failures"), junit.get("errors")) == ("2", "1", "0")
    assert [case.get("name") for case in junit.iter("testcase")] == ["test_passes", "test_fails"]


def test_a_synchronous_trigger_answers_when_the_run_has_ended(agent: Agent) -> None:
    answer = agent.post("/execAutomation", {"key": "passing", "executionType": "synchronous"}).json()

    assert answer["status"] == "Completed"
    assert answer["overallstatus"] == "Pass"
    assert answer["summary"]["passed"] == 2
    assert answer["reportLink"].startswith(f"{agent.url}/reports/devOpsReport?configurekey=passing&")


def test_progress_shows_while_the_run_goes_and_the_junit_waits_for_the_end(agent: Agent, root: Path) -> None:
    execution_id = agent.trigger("gated")
    running = agent.wait_for(execution_id, state="Inprogress", progress="3/4")  # the runner's first act
    early = agent.get("/reports/junit", executionListId=execution_id)
    open_gate(root, execution_id)
    final = agent.wait_for(execution_id)

    assert running["Completed"] == "3/4"
    assert running["overallstatus"] is None
    assert running["endedAt"] is None
    assert early.status_code == 404
    assert early.json()["code"] == "NOT_COMPLETED"
    assert final["overallstatus"] == "Pass"
    assert final["message"] == "the runner exited with code 0 and reported no tests"
    assert agent.get("/reports/junit", executionListId=execution_id).json()["code"] == "NO_REPORTS"


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"{not json", 400, "the body is not JSON"),
        (b"[]", 400, "the body must be a JSON object"),
        (b'{"executionType": "asynchronous"}', 400, "the body has no 'key'"),
        (b'{"key": "passing", "executionType": "later"}', 400, "executionType must be"),
        (b'{"key": "nightly"}', 404, "no execution profile has the key 'nightly'"),
    ],
    ids=["not-json", "not-an-object", "no-key", "bad-type", "unknown-key"],
)
def test_a_request_that_cannot_run_fails_naming_the_keys_that_exist(
    agent: Agent, body: bytes, status: int, says: str
) -> None:
    answer = httpx2.post(f"{agent.url}/execAutomation", content=body, timeout=10)

    document = answer.json()
    assert answer.status_code == status
    assert document["status"] == "fail"
    assert says in document["error"]
    assert "gated, hostile, missing, mixed, passing, sleeper" in document["error"]
    assert document["runningStatusLink"] is None


@pytest.mark.parametrize("execution_id", ["0f0e0d0c-0000-4000-8000-000000000000", "../../etc/passwd", ""])
def test_an_unknown_execution_is_not_found(agent: Agent, execution_id: str) -> None:
    status = agent.get("/runningStatus", executionListId=execution_id)
    junit = agent.get("/reports/junit", executionListId=execution_id)

    assert status.status_code == junit.status_code == (400 if not execution_id else 404)
    assert status.json()["status"] == "fail"


def test_a_hostile_report_is_refused_and_the_agent_goes_on(agent: Agent) -> None:
    execution_id = agent.trigger("hostile")

    final = agent.wait_for(execution_id)
    junit = etree.fromstring(agent.get("/reports/junit", executionListId=execution_id).content)

    assert final["overallstatus"] == "Error"
    assert final["summary"]["passed"] == 2
    assert "1 report(s) refused: reports/evil.xml:2: refused before parsing" in final["message"]
    assert "billion laughs" in final["message"]
    assert [suite.get("name") for suite in junit.iter("testsuite")] == ["pytest"]
    assert agent.get("/health").json()["status"] == "ok"


def test_requests_naming_a_foreign_host_or_origin_are_refused(agent: Agent) -> None:
    foreign_host = httpx2.get(f"{agent.url}/health", headers={"Host": "attacker.example"}, timeout=10)
    foreign_origin = httpx2.post(
        f"{agent.url}/execAutomation", json={"key": "passing"}, headers={"Origin": "http://attacker.example"}
    )

    assert foreign_host.status_code == foreign_origin.status_code == 403
    assert "--token" in foreign_origin.json()["error"]


def test_runs_beyond_the_concurrency_wait_their_turn(tmp_path: Path) -> None:
    with running_agent(write_profiles(tmp_path), tmp_path / "work", "--concurrency", "1") as agent:
        first, second = agent.trigger("gated"), agent.trigger("gated")
        agent.wait_for(first, state="Inprogress")
        waiting = agent.get("/runningStatus", executionListId=second).json()
        open_gate(tmp_path, first)
        open_gate(tmp_path, second)
        done = [agent.wait_for(first), agent.wait_for(second)]

    assert waiting["status"] == "Queued"
    assert waiting["startedAt"] is None
    assert [document["overallstatus"] for document in done] == ["Pass", "Pass"]
    assert done[0]["endedAt"] <= done[1]["startedAt"]


def _child_pid(path: Path) -> int:
    """The pid a run wrote of the background process it started."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        text = path.read_text() if path.is_file() else ""
        if text.endswith("\n"):  # echo's whole line is there
            return int(text)
        time.sleep(0.02)
    raise AssertionError(f"the run did not write {path}")


def test_a_run_cut_off_by_an_agent_crash_ends_in_error_after_a_restart_and_finished_results_survive(
    tmp_path: Path,
) -> None:
    config = write_profiles(
        tmp_path,
        long={"command": 'sleep 60 & echo $! > "$TEST_REPORTS_DIR/child.pid"; wait', "timeout": "5m"},
    )
    work = tmp_path / "work"
    crashed = Agent(config, work, "--concurrency", "2")
    try:
        finished = crashed.trigger("mixed")
        crashed.wait_for(finished)
        cut_off = crashed.trigger("long")
        crashed.wait_for(cut_off, state="Inprogress")
        child = _child_pid(work / "executions" / cut_off / "reports" / "child.pid")
    finally:
        crashed.kill()
    assert process_alive(child)  # the run outlived its agent

    with running_agent(config, work) as restarted:
        after: dict[str, Any] = restarted.get("/runningStatus", executionListId=cut_off).json()
        junit = restarted.get("/reports/junit", executionListId=finished)

        assert after["status"] == "Completed"
        assert after["overallstatus"] == "Error"
        assert after["message"] == "the test agent restarted while this ran; trigger it again"
        assert junit.status_code == 200
        assert etree.fromstring(junit.content).get("failures") == "1"
        assert process_dies(child)


def test_stopping_the_agent_aborts_what_runs_and_kills_its_processes(tmp_path: Path) -> None:
    config = write_profiles(
        tmp_path,
        long={"command": 'sleep 60 & echo $! > "$TEST_REPORTS_DIR/child.pid"; wait', "timeout": "5m"},
    )
    work = tmp_path / "work"
    agent = Agent(config, work)
    execution_id = agent.trigger("long")
    agent.wait_for(execution_id, state="Inprogress")
    child = _child_pid(work / "executions" / execution_id / "reports" / "child.pid")
    agent.process.send_signal(signal.SIGTERM)
    agent.process.wait(timeout=20)

    with running_agent(config, work) as restarted:
        after = restarted.get("/runningStatus", executionListId=execution_id).json()

    assert after["overallstatus"] == "Aborted"
    assert after["message"] == "the test agent stopped while this ran; no tests reported"
    assert process_dies(child)
