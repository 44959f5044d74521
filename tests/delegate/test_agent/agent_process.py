"""A real `harness-connector test-agent` process on a free loopback port, the profiles it serves, and the tiny
pytest suites those profiles run. Shared by the agent's HTTP tests and the `tests run` CLI tests."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import yaml

PYTEST = f"{shlex.quote(sys.executable)} -m pytest -q -p no:cacheprovider --junitxml=$TEST_REPORTS_DIR/junit.xml"

PASSING_TESTS = """
def test_adds():
    assert 1 + 1 == 2


def test_joins():
    assert "-".join("ab") == "a-b"
"""

MIXED_TESTS = """
def test_passes():
    assert True


def test_fails():
    assert 2 + 2 == 5, "arithmetic is broken"
"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<testsuite name="evil" tests="1"><testcase classname="evil" name="&lol9;"/></testsuite>
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without the connector's and the agent's own settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "PYTEST_"))}
    env.update(extra)
    return env


def write_profiles(root: Path, **extra: dict[str, Any]) -> Path:
    """Suites and a profiles file under `root`; `extra` adds or replaces profiles.

    `gated` runs until a file named after its execution id appears in `root/gates` (see `open_gate`), so a test
    decides when it ends without sleeping for a guessed time.
    """
    for name, source in (("passing", PASSING_TESTS), ("mixed", MIXED_TESTS)):
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / f"test_{name}.py").write_text(source, encoding="utf-8")
    (root / "gates").mkdir(exist_ok=True)
    (root / "evil.xml").write_text(BILLION_LAUGHS, encoding="utf-8")
    profiles: dict[str, Any] = {
        "passing": {"command": PYTEST, "workdir": "passing", "timeout": "1m"},
        "mixed": {"command": PYTEST, "workdir": "mixed", "timeout": "1m"},
        "missing": {"command": "no-such-test-runner --all", "timeout": 30},
        "sleeper": {"command": "sleep 30", "timeout": "1s"},
        "gated": {
            "command": 'echo 3/4 > "$TEST_PROGRESS_FILE"; until [ -e "$GATES/$AVO_EXECUTION_ID" ]; do sleep 0.05; done',
            "env": {"GATES": str(root / "gates")},
            "timeout": "2m",
        },
        "hostile": {
            "command": f"cp {shlex.quote(str(root / 'evil.xml'))} $TEST_REPORTS_DIR/evil.xml && {PYTEST}",
            "workdir": "passing",
            "timeout": "1m",
        },
    }
    profiles.update(extra)
    path = root / "profiles.yaml"
    path.write_text(yaml.safe_dump(profiles), encoding="utf-8")
    return path


def open_gate(root: Path, execution_id: str) -> None:
    (root / "gates" / execution_id).touch()


class Agent:
    """One test-agent process; `url` once it answers /health."""

    def __init__(self, config: Path, workdir: Path, *args: str, token: str | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        command = [sys.executable, "-m", "harness_connector", "test-agent", "--config", str(config)]
        command += ["--port", str(self.port), "--workdir", str(workdir), *args]
        if token:
            command += ["--token", token]
        self.log = workdir.parent / f"agent-{self.port}.log"
        workdir.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, env=environment(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the test agent exited: {self.log.read_text(errors='replace')}")
            try:
                if httpx2.get(f"{self.url}/health", headers=self.headers, timeout=1).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("the test agent did not come up in 60 s")

    def get(self, path: str, **params: str) -> httpx2.Response:
        return httpx2.get(f"{self.url}{path}", params=params, headers=self.headers, timeout=10)

    def post(self, path: str, body: Any) -> httpx2.Response:
        return httpx2.post(f"{self.url}{path}", json=body, headers=self.headers, timeout=60)

    def trigger(self, key: str) -> str:
        answer = self.post("/execAutomation", {"key": key, "executionType": "asynchronous"})
        assert answer.status_code == 200, answer.text
        execution_id: str = answer.json()["executionListId"]
        return execution_id

    def wait_for(
        self, execution_id: str, *, state: str = "Completed", progress: str | None = None, within_s: float = 30
    ) -> dict[str, Any]:
        """The status document once it shows `state` (and `progress`), or as it is after `within_s`."""
        deadline = time.monotonic() + within_s
        while True:
            document: dict[str, Any] = self.get("/runningStatus", executionListId=execution_id).json()
            reached = document["status"] == state and progress in (None, document["Completed"])
            if reached or time.monotonic() > deadline:
                return document
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: the agent gets no chance to tidy up, as in a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def running_agent(config: Path, workdir: Path, *args: str, token: str | None = None) -> Iterator[Agent]:
    agent = Agent(config, workdir, *args, token=token)
    try:
        yield agent
    finally:
        agent.stop()


def run_cli(*args: str, timeout_s: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    """`harness-connector ARGS` as a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "harness_connector", *args],
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def process_alive(pid: int) -> bool:
    """Whether `pid` runs (a killed process its new parent has not reaped yet is a zombie: dead for our purpose)."""
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().rpartition(") ")[2][:1] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


def process_dies(pid: int) -> bool:
    """Whether `pid` is gone within a few seconds (a SIGKILL is delivered asynchronously)."""
    deadline = time.monotonic() + 5
    while process_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
