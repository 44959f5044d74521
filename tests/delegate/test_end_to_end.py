"""The whole bridge with real processes: the sandbox server, a delegate and a test agent, each a `harness-connector`
subprocess on loopback. A pipeline (the sample in deploy/delegate/pipeline.yaml) runs a real pytest suite through
the test agent; its status, step log, ti-service results and, after a sync, history-store rows are checked. Then
the delegate and the sandbox are killed and restarted mid-run, and no result is lost.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from harness_connector.store import TestResultFilter, open_store

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "deploy" / "delegate" / "pipeline.yaml"
ORG, PROJECT = "default", "payments"
SUITE = """
import os
import time


def test_checkout_total():
    time.sleep(float(os.environ.get("SUITE_DELAY", "0")))
    assert 2 + 2 == 4


def test_refund_flow():
    assert os.environ.get("SUITE_MODE") != "broken", "refund flow broke"
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(what: str, check: Callable[[], Any], timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Process:
    """A `harness-connector` subprocess whose output goes to a file the test can show when it fails."""

    args: list[str]
    log: Path
    env: dict[str, str]
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with self.log.open("ab") as handle:  # the child keeps its own copy of the descriptor
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "harness_connector", *self.args],
                stdout=handle,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        self.popen = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Bridge:
    """The three processes and what a test needs to drive them."""

    tmp: Path
    env: dict[str, str]
    sandbox_port: int
    agent_port: int
    processes: dict[str, Process] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    def start_sandbox(self) -> None:
        args = ["sandbox", "--db", str(self.tmp / "sandbox.db"), "--port", str(self.sandbox_port), "--days", "1",
                "--seed", "11"]  # fmt: skip
        process = self.processes.setdefault("sandbox", Process(args, self.tmp / "sandbox.log", self.env)).start()
        _wait("the sandbox", lambda: _healthy(self.base_url), 120)
        for line in process.output().splitlines():
            if "=" in line and line.split("=", 1)[0].isupper():
                key, value = line.split("=", 1)
                self.keys[key] = value.strip()

    def start_delegate(self, name: str = "bridge-e2e", tags: str = "test-bridge") -> None:
        args = ["delegate", "--manager", self.base_url, "--token", self.keys["DELEGATE_TOKEN"], "--name", name,
                "--account", self.keys["HARNESS_ACCOUNT_ID"], "--tags", tags, "--workdir", str(self.tmp / "work"),
                "--state-dir", str(self.tmp / "delegate-state"), "--heartbeat-interval", "1",
                "--poll-wait", "2"]  # fmt: skip
        self.processes.setdefault("delegate", Process(args, self.tmp / "delegate.log", self.env)).start()
        _wait("the delegate to connect", lambda: self.delegate_connected(name))

    def start_agent(self) -> None:
        args = ["test-agent", "--config", str(self.tmp / "profiles.yaml"), "--port", str(self.agent_port),
                "--workdir", str(self.tmp / "agent-runs")]  # fmt: skip
        self.processes.setdefault("agent", Process(args, self.tmp / "agent.log", self.env)).start()
        _wait("the test agent", lambda: _healthy(f"http://127.0.0.1:{self.agent_port}"))

    def api(self, method: str, path: str, **kw: Any) -> Any:
        params = {
            "accountIdentifier": self.keys["HARNESS_ACCOUNT_ID"],
            "orgIdentifier": ORG,
            "projectIdentifier": PROJECT,
        }
        headers = {"x-api-key": self.keys["HARNESS_API_KEY"], **kw.pop("headers", {})}
        with httpx2.Client(base_url=self.base_url, timeout=30) as http:
            answer = http.request(method, path, params={**params, **kw.pop("params", {})}, headers=headers, **kw)
        assert answer.status_code == 200, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.headers.get("content-type", "").startswith("application/json") else answer.text

    def delegate_connected(self, name: str) -> bool:
        found = self.api("POST", "/ng/api/delegate-setup/listDelegates", json={"filterType": "Delegate"},
                         params={"orgIdentifier": "", "projectIdentifier": ""})  # fmt: skip
        return any(d["name"] == name and d["connected"] for d in found["resource"])

    def run(self, pipeline_yaml: str, profile: str) -> str:
        identifier = pipeline_yaml.split("identifier:", 1)[1].split()[0]
        existing = self.api("POST", "/pipeline/api/pipelines/list", json={"filterType": "PipelineSetup"})
        if identifier not in [p["identifier"] for p in existing["data"]["content"]]:
            self.api("POST", "/pipeline/api/pipelines/v2", content=pipeline_yaml,
                     headers={"content-type": "application/yaml"})  # fmt: skip
        inputs = (f"pipeline:\n  identifier: {identifier}\n  variables:\n"
                  f"    - name: test_agent_url\n      type: String\n      value: http://127.0.0.1:{self.agent_port}\n"
                  f"    - name: test_profile\n      type: String\n      value: {profile}\n")  # fmt: skip
        data = self.api("POST", f"/pipeline/api/pipeline/execute/{identifier}", content=inputs,
                        headers={"content-type": "application/yaml"})  # fmt: skip
        return str(data["data"]["planExecution"]["uuid"])

    def execution(self, execution_id: str) -> dict[str, Any]:
        data = self.api("GET", f"/pipeline/api/pipelines/execution/v2/{execution_id}",
                        params={"renderFullBottomGraph": "true"})["data"]  # fmt: skip
        return dict(data)

    def finished(self, execution_id: str, timeout_s: float = 120) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            data = self.execution(execution_id)
            return data if data["pipelineExecutionSummary"]["status"] not in ("Running", "NotStarted") else None

        return dict(_wait(f"execution {execution_id} to finish", done, timeout_s))

    def step_log(self, step: dict[str, Any]) -> str:
        # A Shell Script step logs under its command unit's key; a Run step under its base key.
        keys = [key for response in step.get("executableResponses") or [] for key in response["task"]["logKeys"]]
        query = {"accountID": self.keys["HARNESS_ACCOUNT_ID"], "key": (keys or [step["logBaseKey"]])[0]}
        return str(self.api("GET", "/log-service/blob", params=query))

    def step(self, data: dict[str, Any], identifier: str) -> dict[str, Any]:
        return next(n for n in data["executionGraph"]["nodeMap"].values() if n["identifier"] == identifier)


def _step_processes(workdir: Path) -> set[int]:
    """The pids of the processes running a step of the delegate working in `workdir` (known by their workspace)."""
    marker = f"HARNESS_WORKSPACE={workdir}/".encode()
    found = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(item.startswith(marker) for item in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")):
                found.add(int(entry))
        except OSError:
            continue
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _healthy(base_url: str) -> bool:
    try:
        with httpx2.Client(timeout=2) as http:
            return http.get(f"{base_url}/health").status_code == 200
    except httpx2.HTTPError:
        return False


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_shop.py").write_text(SUITE)
    profiles = {
        "smoke": {"command": "python -m pytest -q -p no:cacheprovider --junitxml=$TEST_REPORTS_DIR/junit.xml",
                  "workdir": "suite", "timeout": "2m"},
        "slow-smoke": {"command": "python -m pytest -q -p no:cacheprovider --junitxml=$TEST_REPORTS_DIR/junit.xml",
                       "workdir": "suite", "timeout": "2m", "env": {"SUITE_DELAY": "6"}},
        "broken": {"command": "python -m pytest -q -p no:cacheprovider --junitxml=$TEST_REPORTS_DIR/junit.xml",
                   "workdir": "suite", "timeout": "2m", "env": {"SUITE_MODE": "broken"}},
    }  # fmt: skip
    (tmp_path / "profiles.yaml").write_text(json.dumps(profiles))  # JSON is YAML
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    running = Bridge(tmp_path, env, _free_port(), _free_port())
    try:
        running.start_sandbox()
        running.start_agent()
        running.start_delegate()
        yield running
    finally:
        for process in running.processes.values():
            process.stop(signal.SIGKILL)
        for name, process in running.processes.items():
            print(f"---- {name} ----\n{process.output()[-4000:]}")


def test_a_pipeline_runs_a_real_suite_through_the_bridge_and_its_results_reach_harness_and_the_store(
    bridge: Bridge,
) -> None:
    passed = bridge.finished(bridge.run(SAMPLE.read_text(), "smoke"))
    failed_id = bridge.run(SAMPLE.read_text(), "broken")
    failed = bridge.finished(failed_id)
    summary = passed["pipelineExecutionSummary"]
    assert summary["status"] == "Success", json.dumps(passed)[:3000]
    step = bridge.step(passed, "run_tests")
    assert step["delegateInfoList"][0]["name"] == "bridge-e2e"
    assert step["outcomes"]["output"]["outputVariables"]["TEST_STATUS"] == "Pass"
    assert failed["pipelineExecutionSummary"]["status"] == "Failed"
    assert bridge.step(failed, "run_tests")["failureInfo"]["failureTypeList"] == ["APPLICATION_ERROR"]
    # The step's log is in the log service, with the bridge's own lines.
    log = bridge.step_log(step)
    assert "started on delegate bridge-e2e" in log and "Pass" in log
    # The JUnit the step declared is in ti-service.
    cases = bridge.api("GET", "/ti-service/reports/test_cases", params={
        "accountId": bridge.keys["HARNESS_ACCOUNT_ID"], "orgId": ORG, "projectId": PROJECT,
        "pipelineId": "tests_through_the_bridge", "buildId": str(failed["pipelineExecutionSummary"]["runSequence"]),
        "report": "junit", "suite_name": "pytest", "status": "failed"})  # fmt: skip
    assert [c["name"] for c in cases["content"]] == ["test_refund_flow"]
    # After a sync, the store holds both runs' results.
    store_path = bridge.tmp / "history.duckdb"
    sync_env = {**bridge.env, "HARNESS_BASE_URL": bridge.base_url, "HARNESS_API_KEY": bridge.keys["HARNESS_API_KEY"]}
    synced = subprocess.run([sys.executable, "-m", "harness_connector", "sync", "--org", ORG, "--project", PROJECT,
                             "--since", "2d", "--db", str(store_path), "--json"], env=sync_env, capture_output=True,
                            text=True, timeout=300)  # fmt: skip
    assert synced.returncode == 0, synced.stderr
    store = open_store(store_path)
    try:
        page = store.test_results(TestResultFilter(execution_id=failed_id))
    finally:
        store.close()
    assert sorted((row.name, row.outcome.value) for row in page.items) == [
        ("test_checkout_total", "passed"),
        ("test_refund_flow", "failed"),
    ]


def test_killing_and_restarting_the_delegate_then_the_sandbox_mid_run_loses_no_result(bridge: Bridge) -> None:
    first = bridge.run(SAMPLE.read_text(), "slow-smoke")
    _wait(
        "the step to start on the delegate",
        lambda: bridge.step(bridge.execution(first), "run_tests")["status"] == "Running",
    )
    time.sleep(1.5)
    step_processes = _step_processes(bridge.tmp / "work")
    assert step_processes, "the step's processes were not found"
    bridge.processes["delegate"].stop(signal.SIGKILL)  # the task dies with it; its step's processes outlive it
    assert any(_running(pid) for pid in step_processes)
    bridge.processes["delegate"].start()  # ends them, registers again without the task: it is queued again, re-run
    delegate_log = bridge.processes["delegate"].output
    _wait("the lost step's processes to be ended", lambda: "were still running and were ended" in delegate_log())
    assert not any(_running(pid) for pid in step_processes)
    result = bridge.finished(first)
    assert result["pipelineExecutionSummary"]["status"] == "Success"
    log = bridge.step_log(bridge.step(result, "run_tests"))
    assert log.count("started on delegate bridge-e2e") == 2  # the lost attempt, then the one that finished

    second = bridge.run(SAMPLE.read_text(), "slow-smoke")
    _wait("the step to start", lambda: bridge.step(bridge.execution(second), "run_tests")["status"] == "Running")
    bridge.processes["sandbox"].stop(signal.SIGKILL)  # the manager disappears while the task runs
    time.sleep(10)  # the task ends meanwhile: its result waits in the delegate's outbox
    bridge.start_sandbox()
    result = bridge.finished(second)
    assert result["pipelineExecutionSummary"]["status"] == "Success"
    step = bridge.step(result, "run_tests")
    assert step["outcomes"]["output"]["outputVariables"]["TEST_STATUS"] == "Pass"
    # The result that waited in the outbox ended the step: the task was not run a second time.
    assert bridge.step_log(step).count("started on delegate bridge-e2e") == 1


def test_the_on_delegate_sample_runs_its_shell_script_step_on_the_delegate_and_exports_the_verdict(
    bridge: Bridge,
) -> None:
    result = bridge.finished(bridge.run((SAMPLE.parent / "pipeline-on-delegate.yaml").read_text(), "broken"))

    assert result["pipelineExecutionSummary"]["status"] == "Failed"
    step = bridge.step(result, "run_tests")
    assert step["delegateInfoList"][0]["name"] == "bridge-e2e"
    assert step["outcomes"]["output"]["outputVariables"]["TEST_STATUS"] == "Fail"
    log = bridge.step_log(step)
    assert "started on delegate bridge-e2e" in log and "Fail" in log


def test_a_pipeline_whose_selectors_match_no_delegate_fails_with_delegate_provisioning(bridge: Bridge) -> None:
    text = SAMPLE.read_text().replace("- test-bridge", "- gpu-runner")
    text = text.replace("identifier: tests_through_the_bridge", "identifier: tests_on_gpu", 1)
    result = bridge.finished(bridge.run(text, "smoke"))
    assert result["pipelineExecutionSummary"]["status"] == "Failed"
    assert bridge.step(result, "run_tests")["failureInfo"]["failureTypeList"] == ["DELEGATE_PROVISIONING"]
