"""The sandbox's delegate manager, driven over real HTTP the way a delegate agent drives it.

The JWT is signed here with the standard library, independently of the delegate package, so the manager is checked
against the protocol and not against its own client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from harness_connector.sandbox.resources import create_resource, find_resource, save_doc

ORG, PROJECT = "default", "payments"
MINUTE = 60_000


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(secret: str, account: str, now_s: int) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = _b64(json.dumps({"sub": account, "iss": "Harness Inc", "iat": now_s, "exp": now_s + 600}).encode())
    signature = hmac.new(secret.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{_b64(signature)}"


class Agent:
    """A minimal delegate: raw protocol calls, no retries."""

    def __init__(self, server: Any, token: str) -> None:
        self.server = server
        self.token = token
        self.http = httpx2.Client(base_url=server.base_url, timeout=40)
        self.delegate_id = ""

    def headers(self) -> dict[str, str]:
        now_s = self.server.ctx.clock() // 1000
        return {"authorization": f"Delegate {jwt(self.token, self.server.keys.account_id, now_s)}"}

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> httpx2.Response:
        query = {"accountId": self.server.keys.account_id, **params}
        return self.http.request(method, path, params=query, json=body, headers=self.headers())

    def register(
        self, name: str = "bridge-1", tags: tuple[str, ...] = ("avo-bridge",), running: tuple[str, ...] = ()
    ) -> Any:
        answer = self.call("POST", "/api/agent/delegates/register",
                           {"delegateName": name, "hostName": f"{name}-host", "tags": list(tags),
                            "runningTaskIds": list(running)})  # fmt: skip
        assert answer.status_code == 200, answer.text
        self.delegate_id = answer.json()["resource"]["delegateId"]
        return answer.json()["resource"]

    def events(self, wait: float = 0) -> list[dict[str, str]]:
        answer = self.call("GET", f"/api/agent/delegates/{self.delegate_id}/task-events", wait=wait)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["resource"])

    def acquire(self, task_id: str) -> httpx2.Response:
        return self.call("PUT", f"/api/agent/delegates/{self.delegate_id}/tasks/{task_id}/acquire")

    def finish(self, task_id: str, status: str = "SUCCESS", **extra: Any) -> Any:
        now = self.server.ctx.clock()
        body = {"status": status, "startedAt": now, "finishedAt": now, **extra}
        answer = self.call("POST", f"/api/agent/v2/tasks/{task_id}/delegates/{self.delegate_id}", body)
        assert answer.status_code == 200, answer.text
        return answer.json()["resource"]

    def heartbeat(self, running: tuple[str, ...] = ()) -> Any:
        answer = self.call("POST", "/api/agent/delegates/heartbeat-with-polling",
                           {"delegateId": self.delegate_id, "runningTaskIds": list(running)})  # fmt: skip
        assert answer.status_code == 200, answer.text
        return answer.json()["resource"]


@pytest.fixture
def new_agent(sandbox_server: Any) -> Iterator[Callable[[str], Agent]]:
    made: list[Agent] = []

    def make(token: str) -> Agent:
        made.append(Agent(sandbox_server, token))
        return made[-1]

    yield make
    for agent in made:
        agent.http.close()


def shell_step(identifier: str, script: str, extra: str = "") -> str:
    return f"""              - step:
                  type: ShellScript
                  name: {identifier}
                  identifier: {identifier}
                  timeout: 10m
                  spec:
                    shell: Bash
                    onDelegate: true
                    source:
                      type: Inline
                      spec:
                        script: {script}
                    environmentVariables:
                      - name: SUITE
                        type: String
                        value: smoke
                    outputVariables:
                      - name: verdict
                        type: String
                        value: VERDICT
                  delegateSelectors:
                    - avo-bridge
{extra}"""


def pipeline(identifier: str, steps: str, stage_extra: str = "") -> str:
    return f"""
pipeline:
  name: {identifier}
  identifier: {identifier}
  orgIdentifier: {ORG}
  projectIdentifier: {PROJECT}
  stages:
    - stage:
        name: Tests
        identifier: tests
        type: Custom
        spec:
          execution:
            steps:
{steps}{stage_extra}"""


def token_value(server: Any, name: str = "bridge-token") -> str:
    entity = create_resource(server.ctx, "delegate_token", body={"name": name})
    return str(entity.doc["value"])


def pms(server: Any, method: str, path: str, **kw: Any) -> Any:
    params = {"accountIdentifier": server.keys.account_id, "orgIdentifier": ORG, "projectIdentifier": PROJECT}
    with httpx2.Client(base_url=server.base_url, timeout=30) as http:
        answer = http.request(method, "/pipeline/api" + path, params={**params, **kw.pop("params", {})},
                              headers={"x-api-key": server.keys.admin_pat, **kw.pop("headers", {})}, **kw)  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def run(server: Any, identifier: str, text: str) -> str:
    create_resource(server.ctx, "pipeline", org=ORG, project=PROJECT, body=text)
    data = pms(
        server, "POST", f"/pipeline/execute/{identifier}", content="", headers={"content-type": "application/yaml"}
    )
    return str(data["planExecution"]["uuid"])


def steps(server: Any, execution_id: str) -> dict[str, dict[str, Any]]:
    data = pms(server, "GET", f"/pipelines/execution/v2/{execution_id}", params={"renderFullBottomGraph": "true"})
    nodes = data["executionGraph"]["nodeMap"].values()
    found = {n["identifier"]: n for n in nodes if ".steps." in n["baseFqn"]}
    found["__run__"] = data["pipelineExecutionSummary"]
    return found


def test_a_registered_agent_takes_a_step_streams_its_log_and_its_result_ends_the_step(
    sandbox_server: Any, new_agent: Callable[[str], Agent]
) -> None:
    agent = new_agent(token_value(sandbox_server))
    registered = agent.register()
    assert registered["status"] == "ENABLED" and registered["delegateId"]
    execution_id = run(
        sandbox_server,
        "bridge",
        pipeline("bridge", shell_step("trigger", "echo go") + shell_step("after", "echo next")),
    )
    (event,) = agent.events(wait=2)
    assert event["taskType"] == "SHELL_SCRIPT"
    payload = agent.acquire(event["delegateTaskId"]).json()["resource"]
    assert payload["script"] == "echo go" and payload["environment"] == {"SUITE": "smoke"}
    assert payload["outputVariables"] == ["VERDICT"] and payload["timeoutMs"] == 10 * MINUTE
    assert agent.acquire(event["delegateTaskId"]).status_code == 409  # taken once only
    lines = [{"level": "INFO", "out": "42 tests passed", "time": "2026-11-22T10:00:00.000Z"}]
    streamed = agent.call(
        "POST", "/log-service/stream", lines, accountID=sandbox_server.keys.account_id, key=payload["logKey"]
    )
    assert streamed.status_code == 200, streamed.text
    assert steps(sandbox_server, execution_id)["trigger"]["status"] == "Running"
    assert agent.finish(event["delegateTaskId"], outputVariables={"VERDICT": "Pass"}, exitCode=0) == {
        "accepted": True,
        "reason": "recorded",
    }
    # Delivered twice (the first answer was lost): the same answer, nothing changes.
    assert agent.finish(event["delegateTaskId"])["accepted"] is True
    graph = steps(sandbox_server, execution_id)
    assert graph["trigger"]["status"] == "Success"
    assert graph["trigger"]["delegateInfoList"][0]["name"] == "bridge-1"
    assert graph["trigger"]["outcomes"]["output"]["outputVariables"] == {"verdict": "Pass"}
    assert graph["after"]["status"] == "Running"  # the next step's task is queued at once
    (second,) = agent.events()
    agent.acquire(second["delegateTaskId"])
    agent.finish(second["delegateTaskId"], "FAILURE", exitCode=3)
    graph = steps(sandbox_server, execution_id)
    assert graph["after"]["status"] == "Failed"
    assert graph["after"]["failureInfo"]["failureTypeList"] == ["APPLICATION_ERROR"]
    assert graph["__run__"]["status"] == "Failed"
    with httpx2.Client(base_url=sandbox_server.base_url) as http:
        query = {"accountID": sandbox_server.keys.account_id, "key": payload["logKey"]}
        log = http.get("/log-service/blob", params=query, headers={"x-api-key": sandbox_server.keys.admin_pat})
    assert "42 tests passed" in log.text
    # Only what the delegate streamed, and the step's header: no script lines made up for a step it ran.
    assert "+ echo go" not in log.text and '"go"' not in log.text
    assert "Command completed with ExitCode" not in log.text


def test_no_live_delegate_with_the_selectors_fails_the_step_with_delegate_provisioning(
    sandbox_server: Any, new_agent: Callable[[str], Agent]
) -> None:
    agent = new_agent(token_value(sandbox_server))
    agent.register(tags=("other",))
    execution_id = run(sandbox_server, "bridge", pipeline("bridge", shell_step("trigger", "echo go")))
    graph = steps(sandbox_server, execution_id)
    assert graph["trigger"]["failureInfo"]["failureTypeList"] == ["DELEGATE_PROVISIONING"]
    assert graph["__run__"]["status"] == "Failed"
    assert agent.events() == []


def test_a_step_without_a_result_in_time_expires_and_the_agent_is_told_to_abort(
    sandbox_server: Any, new_agent: Callable[[str], Agent]
) -> None:
    agent = new_agent(token_value(sandbox_server))
    agent.register()
    execution_id = run(sandbox_server, "bridge", pipeline("bridge", shell_step("trigger", "sleep 999")))
    (event,) = agent.events()
    agent.acquire(event["delegateTaskId"])
    sandbox_server.ctx.clock.now_ms += 11 * MINUTE
    beat = agent.heartbeat(running=(event["delegateTaskId"],))
    assert beat["abortTaskIds"] == [event["delegateTaskId"]]
    graph = steps(sandbox_server, execution_id)
    assert graph["trigger"]["status"] == "Expired"
    assert graph["trigger"]["failureInfo"]["failureTypeList"] == ["TIMEOUT_ERROR"]
    late = agent.finish(event["delegateTaskId"], "ABORTED")
    assert late["accepted"] is False and "no longer waits" in late["reason"]


def test_a_restarted_agent_gets_back_the_tasks_it_lost(sandbox_server: Any, new_agent: Callable[[str], Agent]) -> None:
    agent = new_agent(token_value(sandbox_server))
    first = agent.register()
    execution_id = run(sandbox_server, "bridge", pipeline("bridge", shell_step("trigger", "echo go")))
    (event,) = agent.events()
    agent.acquire(event["delegateTaskId"])
    assert agent.events() == []
    again = agent.register()  # restarted: it runs nothing now
    assert again["delegateId"] == first["delegateId"]
    assert [e["delegateTaskId"] for e in agent.events()] == [event["delegateTaskId"]]
    agent.acquire(event["delegateTaskId"])
    agent.register(running=(event["delegateTaskId"],))  # a reconnect that kept its task does not lose it
    assert agent.events() == []
    agent.finish(event["delegateTaskId"])
    assert steps(sandbox_server, execution_id)["__run__"]["status"] == "Success"


def test_aborting_the_execution_cancels_its_task(sandbox_server: Any, new_agent: Callable[[str], Agent]) -> None:
    agent = new_agent(token_value(sandbox_server))
    agent.register()
    execution_id = run(sandbox_server, "bridge", pipeline("bridge", shell_step("trigger", "sleep 999")))
    (event,) = agent.events()
    agent.acquire(event["delegateTaskId"])
    pms(sandbox_server, "PUT", f"/pipeline/execute/interrupt/{execution_id}", params={"interruptType": "AbortAll"})
    assert agent.heartbeat(running=(event["delegateTaskId"],))["abortTaskIds"] == [event["delegateTaskId"]]
    assert steps(sandbox_server, execution_id)["__run__"]["status"] == "Aborted"


RETRY = """                  failureStrategies:
                    - onFailure:
                        errors: [AllErrors]
                        action:
                          type: Retry
                          spec:
                            retryCount: 2
                            retryIntervals: [1s]
                            onRetryFailure:
                              action:
                                type: Ignore
"""


def test_a_retry_strategy_runs_the_step_again_and_ignores_it_once_the_retries_are_spent(
    sandbox_server: Any, new_agent: Callable[[str], Agent]
) -> None:
    agent = new_agent(token_value(sandbox_server))
    agent.register()
    execution_id = run(
        sandbox_server,
        "bridge",
        pipeline("bridge", shell_step("trigger", "exit 1", RETRY) + shell_step("after", "echo next")),
    )
    attempts = []
    for _ in range(3):
        sandbox_server.ctx.clock.now_ms += 2_000  # past the retry interval
        (event,) = agent.events()
        attempts.append(agent.acquire(event["delegateTaskId"]).json()["resource"]["attempt"])
        agent.finish(event["delegateTaskId"], "FAILURE", exitCode=1)
    assert attempts == [1, 2, 3]
    graph = steps(sandbox_server, execution_id)
    assert graph["trigger"]["status"] == "IgnoreFailed"
    assert graph["after"]["status"] == "Running"


RETRY_ON_RESTART = RETRY.replace("errors: [AllErrors]", "errors: [DelegateRestart]").replace(
    "type: Ignore", "type: MarkAsFailure"
)


def test_a_task_its_delegate_stopped_during_fails_with_delegate_restart_which_a_strategy_can_retry(
    sandbox_server: Any, new_agent: Callable[[str], Agent]
) -> None:
    agent = new_agent(token_value(sandbox_server))
    agent.register()
    text = pipeline("bridge", shell_step("trigger", "sleep 60", RETRY_ON_RESTART))
    execution_id = run(sandbox_server, "bridge", text)
    (event,) = agent.events()
    agent.acquire(event["delegateTaskId"])
    agent.finish(event["delegateTaskId"], "INTERRUPTED", errorMessage="the delegate is shutting down")
    sandbox_server.ctx.clock.now_ms += 2_000  # past the retry interval
    (again,) = agent.events()
    assert again["delegateTaskId"] != event["delegateTaskId"]  # the second attempt, on any eligible delegate
    agent.acquire(again["delegateTaskId"])
    agent.finish(again["delegateTaskId"], "INTERRUPTED", errorMessage="the delegate is shutting down")
    sandbox_server.ctx.clock.now_ms += 2_000
    (third,) = agent.events()
    agent.acquire(third["delegateTaskId"])
    agent.finish(third["delegateTaskId"], "INTERRUPTED", errorMessage="the delegate is shutting down")

    graph = steps(sandbox_server, execution_id)
    assert graph["trigger"]["status"] == "Failed"
    assert graph["trigger"]["failureInfo"]["failureTypeList"] == ["DELEGATE_RESTART"]
    assert graph["trigger"]["failureInfo"]["message"] == "the delegate is shutting down"
    assert graph["__run__"]["status"] == "Failed"


def test_delegate_calls_need_a_valid_unrevoked_token(sandbox_server: Any, new_agent: Callable[[str], Agent]) -> None:
    assert (
        new_agent("not-a-token").call("POST", "/api/agent/delegates/register", {"delegateName": "x"}).status_code == 401
    )
    value = token_value(sandbox_server, "short-lived")
    agent = new_agent(value)
    agent.register()
    token = find_resource(sandbox_server.ctx, "delegate_token", "short-lived")
    assert token is not None
    save_doc(sandbox_server.ctx, token, {**token.doc, "status": "REVOKED"})
    refused = agent.call("POST", "/api/agent/delegates/heartbeat-with-polling", {"delegateId": agent.delegate_id})
    assert refused.status_code == 401
    assert refused.json()["code"] == "INVALID_TOKEN"


def test_the_long_poll_answers_as_soon_as_a_task_is_queued(
    sandbox_server: Any, new_agent: Callable[[str], Agent]
) -> None:
    agent = new_agent(token_value(sandbox_server))
    agent.register()
    started = time.monotonic()
    assert agent.events(wait=0.6) == []
    assert time.monotonic() - started >= 0.5


def test_the_payload_resolves_pipeline_variables_and_run_ids_and_keeps_unknown_expressions(
    sandbox_server: Any, new_agent: Callable[[str], Agent]
) -> None:
    agent = new_agent(token_value(sandbox_server))
    agent.register()
    text = pipeline(
        "bridge",
        shell_step("trigger", "'run <+pipeline.variables.profile> #<+pipeline.sequenceId> <+secrets.getValue(\"x\")>'"),
    )
    text = text.replace(
        "  stages:\n", "  variables:\n    - name: profile\n      type: String\n      value: smoke\n  stages:\n", 1
    )
    run(sandbox_server, "bridge", text)
    (event,) = agent.events()
    payload = agent.acquire(event["delegateTaskId"]).json()["resource"]
    assert payload["script"] == 'run smoke #1 <+secrets.getValue("x")>'


def strategy(errors: str, action: str) -> str:
    return f"""                  failureStrategies:
                    - onFailure:
                        errors: [{errors}]
                        action:
                          type: {action}
"""


def test_mark_as_success_and_abort_strategies_decide_how_the_run_goes_on(sandbox_server: Any) -> None:
    # No delegate is connected: both steps fail to find one, and their strategies take over.
    steps_yaml = shell_step("optional", "echo go", strategy("DelegateProvisioning", "MarkAsSuccess"))
    steps_yaml += shell_step("required", "echo go", strategy("AllErrors", "Abort"))
    steps_yaml += shell_step("never", "echo go")
    execution_id = run(sandbox_server, "bridge", pipeline("bridge", steps_yaml))
    graph = steps(sandbox_server, execution_id)
    assert graph["optional"]["status"] == "Success"
    assert graph["required"]["status"] == "Aborted"
    assert "never" not in graph or graph["never"]["status"] == "NotStarted"
    assert graph["__run__"]["status"] == "Aborted"
