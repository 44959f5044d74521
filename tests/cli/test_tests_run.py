"""`harness-connector tests run` as a pipeline step runs it: a separate process against a real test agent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from harness_connector.cli import app
from tests.delegate.test_agent.agent_process import Agent, free_port, open_gate, run_cli, running_agent, write_profiles

PROGRESS = re.compile(r"^\[\d\d:\d\d\] (Queued|Inprogress|Completed) \d+/\d+$", re.MULTILINE)
EXECUTION = re.compile(r"^execution ([0-9a-f-]{36}) started for key '([^']+)'$", re.MULTILINE)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bridge")


@pytest.fixture(scope="module")
def agent(root: Path) -> Iterator[Agent]:
    with running_agent(write_profiles(root), root / "work", "--concurrency", "4") as running:
        yield running


def _tests_run(agent: Agent, key: str, *args: str) -> tuple[int, str, str]:
    done = run_cli("tests", "run", "--server", agent.url, "--key", key, "--poll-interval", "0.1", *args)
    return done.returncode, done.stdout, done.stderr


def _env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines())


def test_a_passing_run_exits_0_and_writes_its_junit_and_output_variables(agent: Agent, tmp_path: Path) -> None:
    junit, env_file = tmp_path / "out" / "junit.xml", tmp_path / "test.env"

    code, out, _ = _tests_run(agent, "passing", "--junit", str(junit), "--env-file", str(env_file))

    variables = _env_file(env_file)
    document = etree.parse(str(junit)).getroot()
    match = EXECUTION.search(out)
    assert code == 0
    assert match is not None and match.group(2) == "passing"
    progress = [line for line in out.splitlines() if line.startswith("[")]
    assert all(PROGRESS.fullmatch(line) for line in progress)
    assert progress[-1].endswith("] Completed 2/2")
    assert len({line[8:] for line in progress}) == len(progress)  # a line only when something changed
    assert variables == {
        "TEST_STATUS": "Pass",
        "TEST_EXECUTION_ID": match.group(1),
        "TEST_REPORT_LINK": f"{agent.url}/reports/devOpsReport?configurekey=passing&executionListId={match.group(1)}",
        "TEST_PASSED": "2",
        "TEST_FAILED": "0",
        "TEST_TOTAL": "2",
    }
    assert all(f"{name}={value}" in out.splitlines() for name, value in variables.items())
    assert [case.get("name") for case in document.iter("testcase")] == ["test_adds", "test_joins"]


def test_a_failing_test_exits_1_and_its_failure_is_in_the_junit(agent: Agent, tmp_path: Path) -> None:
    junit, env_file = tmp_path / "junit.xml", tmp_path / "test.env"

    code, out, _ = _tests_run(agent, "mixed", "--junit", str(junit), "--env-file", str(env_file))

    failures = etree.parse(str(junit)).getroot().findall(".//testcase/failure")
    assert code == 1
    assert "Fail: 2 tests: 1 passed, 1 failed, 0 errors, 0 skipped; exit code 1" in out
    assert _env_file(env_file)["TEST_STATUS"] == "Fail"
    assert (_env_file(env_file)["TEST_PASSED"], _env_file(env_file)["TEST_FAILED"]) == ("1", "1")
    assert len(failures) == 1
    assert "arithmetic is broken" in (failures[0].get("message") or "")


def test_an_unknown_key_exits_2_with_the_servers_message(agent: Agent) -> None:
    code, out, err = _tests_run(agent, "nightly")

    assert code == 2
    assert out == ""
    assert "no execution profile has the key 'nightly'" in err
    assert "keys on this agent: gated, hostile, missing, mixed, passing, sleeper" in err


def test_a_runner_that_cannot_start_ends_in_error_with_a_junit_that_says_why(agent: Agent, tmp_path: Path) -> None:
    junit, env_file = tmp_path / "junit.xml", tmp_path / "test.env"

    code, out, _ = _tests_run(agent, "missing", "--junit", str(junit), "--env-file", str(env_file))

    errors = etree.parse(str(junit)).getroot().findall(".//testcase/error")
    assert code == 1
    assert _env_file(env_file)["TEST_STATUS"] == "Error"
    assert "Error: the runner exited with code 127 (command not found) and reported no tests" in out
    assert len(errors) == 1
    assert "no-such-test-runner: command not found" in (errors[0].text or "")


def test_a_run_over_its_profile_timeout_is_killed_and_reported_as_timeout(agent: Agent, tmp_path: Path) -> None:
    env_file = tmp_path / "test.env"

    code, out, _ = _tests_run(agent, "sleeper", "--env-file", str(env_file))

    assert code == 1
    assert "Timeout: killed after the profile's timeout of 1s; no tests reported" in out
    assert _env_file(env_file)["TEST_STATUS"] == "Timeout"


def test_the_bridge_timeout_stops_waiting_and_exits_3(agent: Agent, root: Path, tmp_path: Path) -> None:
    env_file = tmp_path / "test.env"

    code, out, err = _tests_run(agent, "gated", "--timeout", "1.5", "--env-file", str(env_file))

    execution_id = _env_file(env_file)["TEST_EXECUTION_ID"]
    still = agent.get("/runningStatus", executionListId=execution_id).json()
    open_gate(root, execution_id)
    assert code == 3
    assert "--timeout of 1.5s reached: stopped waiting" in err
    assert "Inprogress 3/4" in out
    assert _env_file(env_file)["TEST_STATUS"] == "Inprogress"
    assert still["status"] == "Inprogress"


def test_no_wait_starts_the_run_prints_its_links_and_exits_0(agent: Agent) -> None:
    code, out, _ = _tests_run(agent, "passing", "--no-wait")

    match = EXECUTION.search(out)
    assert code == 0
    assert match is not None
    assert f"status: {agent.url}/runningStatus?executionListId={match.group(1)}" in out
    assert "TEST_STATUS=Queued" in out
    assert PROGRESS.findall(out) == []
    assert agent.wait_for(match.group(1))["overallstatus"] == "Pass"


def test_an_unreachable_server_exits_4_after_the_retry_budget() -> None:
    port = free_port()  # nothing listens there

    done = run_cli(
        "tests", "run", "--server", f"http://127.0.0.1:{port}", "--key", "passing", HARNESS_TESTS_RETRY_BUDGET="2"
    )

    assert done.returncode == 4
    assert done.stderr.count("retrying in") == 2  # after 0.5 s and 1 s; the next wait, 2 s, would pass the budget
    assert "gave up after" in done.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--server", "ftp://agent:8790"), "--server must be an http(s) URL"),
        (("--server", "http://127.0.0.1:1", "--timeout", "soon"), "--timeout: 'soon' is not a duration"),
    ],
    ids=["bad-url", "bad-timeout"],
)
def test_a_usage_error_exits_2_before_any_request(args: tuple[str, ...], says: str) -> None:
    # In-process: nothing is sent, so a separate process would only add its start-up time.
    done = CliRunner().invoke(app, ["tests", "run", "--key", "passing", *args])

    assert done.exit_code == 2
    assert says in done.stderr


def test_a_token_protected_agent_needs_the_token(tmp_path: Path) -> None:
    config = write_profiles(tmp_path)
    with running_agent(config, tmp_path / "work", token="s3cret-test-token") as agent:
        refused = run_cli("tests", "run", "--server", agent.url, "--key", "passing")
        accepted = run_cli(
            "tests", "run", "--server", agent.url, "--key", "passing", "--poll-interval", "0.1",
            HARNESS_TEST_AGENT_TOKEN="s3cret-test-token",
        )  # fmt: skip

    assert refused.returncode == 2
    assert "Authorization: Bearer" in refused.stderr
    assert accepted.returncode == 0
    assert "TEST_STATUS=Pass" in accepted.stdout
