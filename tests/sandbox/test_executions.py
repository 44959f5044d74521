from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

import harness_connector.sandbox.routes as sandbox_routes
from harness_connector.domain.status import ExecutionStatus as S
from harness_connector.errors import HarnessInvalidRequestError, HarnessNotFoundError
from harness_connector.harness.client import HarnessClient
from harness_connector.harness.logs import LogService
from harness_connector.harness.registry.model import RetryPolicy
from harness_connector.sandbox.model import ExecutionRecord, StageRun, StepRun
from harness_connector.sandbox.resources import create_resource
from harness_connector.sandbox.routes import executions, logs
from harness_connector.sandbox.runs import NO_DELEGATE

ORG, PROJECT = "default", "payments"
SCOPE = [("orgIdentifier", ORG), ("projectIdentifier", PROJECT)]
T0 = 1_790_000_000_000
MINUTE = 60_000

BUILD_YAML = """
pipeline:
  name: Build and test
  identifier: build_and_test
  orgIdentifier: default
  projectIdentifier: payments
  tags:
    team: payments
  properties:
    ci:
      codebase:
        connectorRef: github
        repoName: payments-api
        build: <+input>
  variables:
    - name: greeting
      type: String
      value: <+input>.default(hello)
  stages:
    - stage:
        name: Build
        identifier: build
        type: CI
        spec:
          cloneCodebase: true
          execution:
            steps:
              - step:
                  type: Run
                  name: Unit tests
                  identifier: unit_tests
                  spec:
                    shell: Sh
                    command: echo building
    - parallel:
        - stage:
            name: Lint
            identifier: lint
            type: Custom
            spec:
              execution:
                steps:
                  - step:
                      type: ShellScript
                      name: Lint
                      identifier: lint_step
                      spec:
                        shell: Bash
                        source:
                          type: Inline
                          spec:
                            script: echo linting
        - stage:
            name: Scan
            identifier: scan
            type: Custom
            spec:
              execution:
                steps:
                  - step:
                      type: ShellScript
                      name: Scan
                      identifier: scan_step
                      spec:
                        shell: Bash
                        source:
                          type: Inline
                          spec:
                            script: echo scanning
"""
BUILD_INPUTS = """
pipeline:
  identifier: build_and_test
  properties:
    ci:
      codebase:
        build:
          type: branch
          spec:
            branch: main
"""


def custom_pipeline(identifier: str, steps: str, *, stage_type: str = "Custom", extra_stage: str = "") -> str:
    return f"""
pipeline:
  name: {identifier.title()}
  identifier: {identifier}
  stages:
    - stage:
        name: Main
        identifier: main
        type: {stage_type}
        spec:
          execution:
            steps:
{steps}
{extra_stage}"""


def shell_step(identifier: str, script: str, selectors: str = "") -> str:
    return f"""              - step:
                  type: ShellScript
                  name: {identifier.title()}
                  identifier: {identifier}
                  spec:
                    shell: Bash
                    source:
                      type: Inline
                      spec:
                        script: {script}
{selectors}"""


RELEASE_YAML = custom_pipeline(
    "release",
    shell_step("prepare_step", "echo prepared"),
    extra_stage="""    - stage:
        name: Deploy
        identifier: deploy
        type: Custom
        spec:
          execution:
            steps:
              - step:
                  type: ShellScript
                  name: Deploy
                  identifier: deploy_step
                  spec:
                    shell: Bash
                    source:
                      type: Inline
                      spec:
                        script: <+input>
""",
)


def release_inputs(script: str) -> str:
    return f"""
pipeline:
  identifier: release
  stages:
    - stage:
        identifier: deploy
        type: Custom
        spec:
          execution:
            steps:
              - step:
                  identifier: deploy_step
                  type: ShellScript
                  spec:
                    source:
                      type: Inline
                      spec:
                        script: {script}
"""


APPROVAL_YAML = custom_pipeline(
    "gated_release",
    """              - step:
                  type: HarnessApproval
                  name: Sign off
                  identifier: sign_off
                  timeout: 1d
                  spec:
                    approvalMessage: Please review
                    includePipelineExecutionHistory: true
                    approvers:
                      userGroups: [release_managers]
                      minimumCount: 1
                      disallowPipelineExecutor: false""",
    stage_type="Approval",
    extra_stage="""    - stage:
        name: Ship
        identifier: ship
        type: Custom
        spec:
          execution:
            steps:
"""
    + shell_step("ship_step", "echo shipped"),
)


@pytest.fixture(autouse=True)
def _serve_execution_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Until routes.ALL lists these modules, the sandbox built for these tests adds them (first, as they must be).
    extra = [factory for factory in (executions.routes, logs.routes) if factory not in sandbox_routes.ALL]
    monkeypatch.setattr(sandbox_routes, "ALL", [*extra, *sandbox_routes.ALL])


def connect(server: Any) -> HarnessClient:
    return HarnessClient(server.base_url, api_key=server.keys.admin_pat, max_retries=0)


async def pms(
    client: HarnessClient, method: str, path: str, *, params: list[tuple[str, str]] | None = None, **kw: Any
) -> Any:
    answer = await client.request(
        method, "/pipeline/api" + path, params=[*SCOPE, *(params or [])], retry=RetryPolicy.DO_NOT_RETRY, **kw
    )
    return answer.json()["data"] if answer.content else None


async def run_pipeline(client: HarnessClient, pipeline: str, inputs: str = "") -> str:
    data = await pms(client, "POST", f"/pipeline/execute/{pipeline}", content=inputs, content_type="application/yaml")
    assert data["planExecution"]["status"] == "RUNNING"
    return str(data["planExecution"]["uuid"])


async def detail(client: HarnessClient, execution_id: str, **params: str) -> Any:
    return await pms(client, "GET", f"/pipelines/execution/v2/{execution_id}", params=list(params.items()))


def add_pipeline(server: Any, text: str) -> None:
    create_resource(server.ctx, "pipeline", org=ORG, project=PROJECT, body=text)


def steps_of(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["identifier"]: node for node in graph["nodeMap"].values() if ".steps." in node["baseFqn"]}


def record(execution_id: str, sequence: int, start: int, status: S = S.SUCCESS, **kw: Any) -> ExecutionRecord:
    stage = StageRun(
        identifier="build",
        name="Build",
        stage_type="CI",
        module="ci",
        status=status,
        start_ts=start,
        end_ts=start + 5_000,
        steps=[
            StepRun(
                identifier="compile",
                name="Compile",
                step_type="Run",
                status=status,
                start_ts=start,
                end_ts=start + 5_000,
            )
        ],
    )
    return ExecutionRecord(
        plan_execution_id=execution_id,
        org=kw.pop("org", ORG),
        project=PROJECT,
        pipeline_id=kw.pop("pipeline", "api"),
        pipeline_name=kw.pop("name", "API build"),
        run_sequence=sequence,
        status=status,
        start_ts=start,
        end_ts=start + 5_000,
        created_at=start,
        stages=kw.pop("stages", [stage]),
        **kw,
    )


@pytest.fixture
def history(sandbox_server: Any) -> Iterator[list[ExecutionRecord]]:
    records = [
        record("exec0000000000000000001", 1, T0 - 50 * MINUTE, S.SUCCESS, branch="main"),
        record("exec0000000000000000002", 2, T0 - 40 * MINUTE, S.FAILED, branch="feature/x", tags={"team": "core"}),
        record("exec0000000000000000003", 3, T0 - 30 * MINUTE, S.SUCCESS, branch="main"),
        record("exec0000000000000000004", 1, T0 - 20 * MINUTE, S.ABORTED, pipeline="web", name="Web deploy"),
        record("exec0000000000000000005", 4, T0 - 10 * MINUTE, S.FAILED, branch="main"),
        record("exec0000000000000000006", 1, T0 - 5 * MINUTE, S.SUCCESS, org="other"),
    ]
    sandbox_server.ctx.state.put_executions(records)
    yield records


async def list_page(client: HarnessClient, body: dict[str, Any] | None = None, **params: Any) -> Any:
    pairs = [(k, str(v)) for k, values in params.items() for v in (values if isinstance(values, list) else [values])]
    return await pms(
        client,
        "POST",
        "/pipelines/execution/summary",
        params=pairs,
        json=body if body is not None else {"filterType": "PipelineExecution"},
    )


@pytest.mark.anyio
async def test_execution_list_is_newest_first_in_spring_pages(sandbox_server: Any, history: Any) -> None:
    async with connect(sandbox_server) as client:
        first = await list_page(client, page=0, size=2)
        last = await list_page(client, page=2, size=2)
    assert [row["runSequence"] for row in first["content"]] == [4, 1]
    assert first["content"][0]["planExecutionId"] == "exec0000000000000000005"
    assert (first["totalElements"], first["totalPages"], first["number"], first["size"]) == (5, 3, 0, 2)
    assert [row["planExecutionId"] for row in last["content"]] == ["exec0000000000000000001"]
    assert last["last"] is True


@pytest.mark.anyio
async def test_execution_list_filters_status_case_insensitively_and_by_pipeline_and_branch(
    sandbox_server: Any, history: Any
) -> None:
    async with connect(sandbox_server) as client:
        failed = await list_page(client, status="failed")
        either = await list_page(client, status=["FAILED", "Aborted"])
        web = await list_page(client, pipelineIdentifier="web")
        main = await list_page(client, branch="main", status="Success")
    assert [row["status"] for row in failed["content"]] == ["Failed", "Failed"]
    assert either["totalElements"] == 3
    assert [row["name"] for row in web["content"]] == ["Web deploy"]
    assert [row["runSequence"] for row in main["content"]] == [3, 1]


@pytest.mark.anyio
async def test_execution_list_applies_the_filter_body(sandbox_server: Any, history: Any) -> None:
    base = {"filterType": "PipelineExecution"}
    window = {"startTime": T0 - 45 * MINUTE, "endTime": T0 - 15 * MINUTE}
    async with connect(sandbox_server) as client:
        in_window = await list_page(client, {**base, "timeRange": window})
        by_name = await list_page(client, {**base, "pipelineName": "web"})
        by_status = await list_page(client, {**base, "status": ["Failed"]})
        by_tag = await list_page(client, {**base, "pipelineTags": [{"key": "team", "value": "core"}]})
        searched = await list_page(client, searchTerm="core")
    assert [row["runSequence"] for row in in_window["content"]] == [1, 3, 2]
    assert [row["pipelineIdentifier"] for row in by_name["content"]] == ["web"]
    assert by_status["totalElements"] == 2
    assert [row["planExecutionId"] for row in by_tag["content"]] == ["exec0000000000000000002"]
    assert searched["totalElements"] == 1


@pytest.mark.anyio
async def test_execution_list_without_filter_type_is_a_400_and_bad_status_too(sandbox_server: Any) -> None:
    async with connect(sandbox_server) as client:
        with pytest.raises(HarnessInvalidRequestError) as missing:
            await list_page(client, {"status": ["Failed"]})
        with pytest.raises(HarnessInvalidRequestError) as bad_status:
            await list_page(client, status="Exploded")
    assert missing.value.code == "INVALID_REQUEST"
    assert "filterType" in missing.value.message
    assert bad_status.value.status_code == 400


def test_pms_errors_are_failure_bodies_with_the_request_correlation_id(sandbox_server: Any) -> None:
    keys = sandbox_server.keys
    response = httpx2.get(
        f"{sandbox_server.base_url}/pipeline/api/pipelines/execution/v2/nope",
        params={"accountIdentifier": keys.account_id, "orgIdentifier": ORG, "projectIdentifier": PROJECT},
        headers={"x-api-key": keys.admin_pat},
    )
    body = response.json()
    assert response.status_code == 404
    assert (body["status"], body["code"]) == ("ERROR", "RESOURCE_NOT_FOUND")
    assert body["message"] == "Plan Execution Summary does not exist or has been deleted for planExecutionId: nope"
    assert body["correlationId"] == response.headers["x-correlation-id"]
    assert body["responseMessages"][0]["level"] == "ERROR"


@pytest.mark.anyio
async def test_an_execution_of_another_project_is_not_found(sandbox_server: Any, history: Any) -> None:
    async with connect(sandbox_server) as client:
        with pytest.raises(HarnessNotFoundError):
            await detail(client, "exec0000000000000000006")


@pytest.mark.anyio
async def test_detail_graph_is_walkable_and_its_step_log_keys_are_served(sandbox_server: Any) -> None:
    add_pipeline(sandbox_server, BUILD_YAML)
    async with connect(sandbox_server) as client:
        execution_id = await run_pipeline(client, "build_and_test", BUILD_INPUTS)
        sandbox_server.ctx.clock.now_ms += 10 * MINUTE
        data = await detail(client, execution_id, renderFullBottomGraph="true")
        summary = data["pipelineExecutionSummary"]
        nodes, current, walked = summary["layoutNodeMap"], summary["startingNodeId"], []
        while current:
            node = nodes[current]
            walked += [nodes[c]["nodeIdentifier"] for c in node["edgeLayoutList"]["currentNodeChildren"]] or [
                node["nodeIdentifier"]
            ]
            current = (node["edgeLayoutList"]["nextIds"] or [None])[0]
        steps = steps_of(data["executionGraph"])
        service = LogService(client)
        texts = {}
        for identifier, node in steps.items():
            key = node["executableResponses"][0]["task"]["logKeys"][0]
            texts[identifier] = [line.text async for line in service.stream_step_log(key)]
    assert summary["status"] == "Success"
    assert walked == ["build", "lint", "scan"]
    assert sorted(steps) == ["lint_step", "scan_step", "unit_tests"]
    assert all(node["status"] == "Success" and node["logBaseKey"] for node in steps.values())
    assert "+ echo building" in texts["unit_tests"]
    assert "linting" in texts["lint_step"]
    assert texts["scan_step"][-1] == "Command completed with ExitCode (0)"
    assert summary["moduleInfo"]["ci"]["branch"] == "main"
    assert summary["tags"] == [{"key": "team", "value": "payments"}]


@pytest.mark.anyio
async def test_a_run_is_running_then_succeeds_as_the_clock_moves(sandbox_server: Any) -> None:
    add_pipeline(sandbox_server, BUILD_YAML)
    async with connect(sandbox_server) as client:
        execution_id = await run_pipeline(client, "build_and_test", BUILD_INPUTS)
        running = await detail(client, execution_id)
        sandbox_server.ctx.clock.now_ms += 10 * MINUTE
        done = await detail(client, execution_id)
        listed = await list_page(client, pipelineIdentifier="build_and_test")
    summary = running["pipelineExecutionSummary"]
    assert (summary["status"], summary["runSequence"], summary["endTs"]) == ("Running", 1, None)
    assert summary["runningStagesCount"] == 1
    assert summary["executionTriggerInfo"]["triggeredBy"]["identifier"] == "sandbox-admin"
    assert steps_of(running["executionGraph"]) == {}  # without renderFullBottomGraph only stages
    assert done["pipelineExecutionSummary"]["status"] == "Success"
    assert done["pipelineExecutionSummary"]["endTs"] > summary["startTs"]
    assert listed["content"][0]["status"] == "Success"


@pytest.mark.anyio
async def test_a_missing_runtime_input_is_a_400_naming_it_and_defaults_fill_the_rest(sandbox_server: Any) -> None:
    add_pipeline(sandbox_server, BUILD_YAML)
    add_pipeline(sandbox_server, RELEASE_YAML)
    async with connect(sandbox_server) as client:
        with pytest.raises(HarnessInvalidRequestError) as codebase:
            await run_pipeline(client, "build_and_test")
        with pytest.raises(HarnessInvalidRequestError) as script:
            await run_pipeline(client, "release", "pipeline:\n  identifier: release\n")
        with pytest.raises(HarnessNotFoundError):
            await run_pipeline(client, "no_such_pipeline")
        execution_id = await run_pipeline(client, "build_and_test", BUILD_INPUTS)
        inputs = await pms(client, "GET", f"/pipelines/execution/{execution_id}/inputsetV2")
    assert codebase.value.code == "INVALID_REQUEST"
    assert codebase.value.message == "Value not provided for required variable: pipeline.properties.ci.codebase.build"
    assert "spec.execution.steps.deploy_step.spec.source.spec.script" in script.value.message
    assert inputs["inputSetYaml"] == BUILD_INPUTS
    assert "build: <+input>" in inputs["inputSetTemplateYaml"]


@pytest.mark.anyio
async def test_retry_reuses_the_successful_stages_and_reruns_from_the_failed_one(sandbox_server: Any) -> None:
    add_pipeline(sandbox_server, RELEASE_YAML)
    clock = sandbox_server.ctx.clock
    async with connect(sandbox_server) as client:
        failed_id = await run_pipeline(client, "release", release_inputs("exit 1"))
        clock.now_ms += 10 * MINUTE
        failed = await detail(client, failed_id, renderFullBottomGraph="true")
        retry = await pms(
            client,
            "POST",
            "/pipeline/execute/retry/release",
            params=[("planExecutionId", failed_id), ("retryStages", "deploy")],
            content=release_inputs("echo fixed"),
            content_type="application/yaml",
        )
        retry_id = retry["planExecution"]["uuid"]
        started = await detail(client, retry_id)
        clock.now_ms += 10 * MINUTE
        finished = await detail(client, retry_id)
    failure = failed["pipelineExecutionSummary"]
    assert failure["status"] == "Failed"
    assert failure["failureInfo"]["message"] == "Shell Script execution failed. Please check execution logs."
    assert steps_of(failed["executionGraph"])["deploy_step"]["failureInfo"]["failureTypeList"] == ["APPLICATION_ERROR"]
    assert retry["planExecution"]["metadata"]["retryInfo"]["isRetry"] is True
    layout = {n["nodeIdentifier"]: n for n in started["pipelineExecutionSummary"]["layoutNodeMap"].values()}
    old_layout = {n["nodeIdentifier"]: n for n in failure["layoutNodeMap"].values()}
    assert layout["main"]["status"] == "Success"
    assert layout["main"]["startTs"] == old_layout["main"]["startTs"]  # reused, not run again
    assert layout["deploy"]["status"] == "Running"
    summary = finished["pipelineExecutionSummary"]
    assert summary["status"] == "Success"
    assert summary["retryExecutionMetadata"] == {"parentExecutionId": failed_id, "rootExecutionId": failed_id}
    assert summary["showRetryHistory"] is True


@pytest.mark.anyio
async def test_retry_sent_as_put_with_the_execution_in_the_path_works_and_successes_cannot_retry(
    sandbox_server: Any,
) -> None:
    add_pipeline(sandbox_server, RELEASE_YAML)
    async with connect(sandbox_server) as client:
        failed_id = await run_pipeline(client, "release", release_inputs("exit 3"))
        sandbox_server.ctx.clock.now_ms += 10 * MINUTE
        await detail(client, failed_id)
        retry = await pms(client, "PUT", f"/pipeline/execute/retry/{failed_id}")
        sandbox_server.ctx.clock.now_ms += 10 * MINUTE
        ok_id = await run_pipeline(client, "release", release_inputs("echo fine"))
        sandbox_server.ctx.clock.now_ms += 10 * MINUTE
        await detail(client, ok_id)
        with pytest.raises(HarnessInvalidRequestError):
            await pms(client, "POST", "/pipeline/execute/retry/release", params=[("planExecutionId", ok_id)])
    assert retry["planExecution"]["metadata"]["retryInfo"]["parentRetryId"] == failed_id


@pytest.mark.anyio
async def test_rerun_is_a_new_run_marked_as_a_rerun_with_the_original_inputs(sandbox_server: Any) -> None:
    add_pipeline(sandbox_server, BUILD_YAML)
    async with connect(sandbox_server) as client:
        first = await run_pipeline(client, "build_and_test", BUILD_INPUTS)
        rerun = await pms(
            client,
            "POST",
            f"/pipeline/execute/rerun/{first}/build_and_test",
            content="",
            content_type="application/yaml",
        )
        data = await detail(client, rerun["planExecution"]["uuid"])
    summary = data["pipelineExecutionSummary"]
    assert summary["executionTriggerInfo"]["isRerun"] is True
    assert summary["runSequence"] == 2
    assert summary["moduleInfo"]["ci"]["branch"] == "main"


@pytest.mark.anyio
async def test_abort_ends_a_run_aborted_and_a_finished_run_refuses_interrupts(sandbox_server: Any) -> None:
    add_pipeline(sandbox_server, BUILD_YAML)
    async with connect(sandbox_server) as client:
        execution_id = await run_pipeline(client, "build_and_test", BUILD_INPUTS)
        answer = await pms(
            client, "PUT", f"/pipeline/execute/interrupt/{execution_id}", params=[("interruptType", "ABORTALL")]
        )
        sandbox_server.ctx.clock.now_ms += 10 * MINUTE
        data = await detail(client, execution_id, renderFullBottomGraph="true")
        with pytest.raises(HarnessInvalidRequestError) as again:
            await pms(client, "PUT", f"/pipeline/execute/interrupt/{execution_id}", params=[("interruptType", "Abort")])
    assert answer == {"id": answer["id"], "type": "AbortAll", "planExecutionId": execution_id}
    summary = data["pipelineExecutionSummary"]
    assert summary["status"] == "Aborted"
    assert summary["abortedBy"]["userName"] == "sandbox-admin"
    assert steps_of(data["executionGraph"])["unit_tests"]["status"] == "Aborted"
    assert "finished" in again.value.message


@pytest.mark.anyio
async def test_pause_holds_the_next_step_until_resume(sandbox_server: Any) -> None:
    steps = shell_step("first", "echo one") + "\n" + shell_step("second", "echo two")
    add_pipeline(sandbox_server, custom_pipeline("two_steps", steps))
    clock = sandbox_server.ctx.clock
    async with connect(sandbox_server) as client:
        execution_id = await run_pipeline(client, "two_steps")
        await pms(client, "PUT", f"/pipeline/execute/interrupt/{execution_id}", params=[("interruptType", "Pause")])
        pausing = await detail(client, execution_id)
        clock.now_ms += 10 * MINUTE
        paused = await detail(client, execution_id, renderFullBottomGraph="true")
        await pms(client, "PUT", f"/pipeline/execute/interrupt/{execution_id}", params=[("interruptType", "resume")])
        resumed = await detail(client, execution_id, renderFullBottomGraph="true")
        clock.now_ms += 10 * MINUTE
        done = await detail(client, execution_id)
    assert pausing["pipelineExecutionSummary"]["status"] == "Pausing"
    assert paused["pipelineExecutionSummary"]["status"] == "Paused"
    assert sorted(steps_of(paused["executionGraph"])) == ["first"]
    second = steps_of(resumed["executionGraph"])["second"]
    assert (second["status"], second["startTs"]) == ("Running", clock.now_ms - 10 * MINUTE)
    assert done["pipelineExecutionSummary"]["status"] == "Success"


async def approvals(client: HarnessClient, execution_id: str) -> Any:
    answer = await client.request(
        "GET", f"/pipeline/api/v1/orgs/{ORG}/projects/{PROJECT}/approvals/execution/{execution_id}"
    )
    return answer.json()


@pytest.mark.anyio
async def test_an_approval_waits_until_approved_then_the_run_continues(sandbox_server: Any) -> None:
    add_pipeline(sandbox_server, APPROVAL_YAML)
    async with connect(sandbox_server) as client:
        execution_id = await run_pipeline(client, "gated_release")
        sandbox_server.ctx.clock.now_ms += 10 * MINUTE
        waiting = await detail(client, execution_id)
        pending = await approvals(client, execution_id)
        decided = await pms(
            client,
            "POST",
            f"/approvals/{pending[0]['id']}/harness/activity",
            json={"action": "APPROVE", "comments": "ship it"},
        )
        sandbox_server.ctx.clock.now_ms += 10 * MINUTE
        done = await detail(client, execution_id, renderFullBottomGraph="true")
        after = await approvals(client, execution_id)
        with pytest.raises(HarnessInvalidRequestError):
            await pms(client, "POST", f"/approvals/{pending[0]['id']}/harness/activity", json={"action": "REJECT"})
    assert waiting["pipelineExecutionSummary"]["status"] == "ApprovalWaiting"
    assert [(a["type"], a["status"]) for a in pending] == [("HarnessApproval", "WAITING")]
    assert pending[0]["details"]["approvalMessage"] == "Please review"
    assert pending[0]["id"] == steps_of(done["executionGraph"])["sign_off"]["uuid"]
    assert decided["status"] == "APPROVED"
    assert done["pipelineExecutionSummary"]["status"] == "Success"
    assert after[0]["details"]["approvalActivities"][0]["comments"] == "ship it"


@pytest.mark.anyio
async def test_a_rejected_approval_ends_the_run_rejected(sandbox_server: Any) -> None:
    add_pipeline(sandbox_server, APPROVAL_YAML)
    async with connect(sandbox_server) as client:
        execution_id = await run_pipeline(client, "gated_release")
        pending = await approvals(client, execution_id)
        await pms(client, "POST", f"/approvals/{pending[0]['id']}/harness/activity", json={"action": "reject"})
        data = await detail(client, execution_id, renderFullBottomGraph="true")
        with pytest.raises(HarnessNotFoundError):
            await pms(client, "POST", "/approvals/nope0000000000000000000/harness/activity", json={"action": "APPROVE"})
    assert data["pipelineExecutionSummary"]["status"] == "ApprovalRejected"
    assert steps_of(data["executionGraph"])["sign_off"]["failureInfo"]["failureTypeList"] == ["APPROVAL_REJECTION"]
    assert "ship_step" not in steps_of(data["executionGraph"])


SELECTORS = """                    delegateSelectors:
                      - avo-bridge"""


@pytest.mark.anyio
async def test_steps_whose_selectors_match_no_connected_delegate_fail_with_delegate_provisioning(
    sandbox_server: Any,
) -> None:
    add_pipeline(sandbox_server, custom_pipeline("bridge", shell_step("trigger", "echo go", SELECTORS)))
    create_resource(sandbox_server.ctx, "delegate", body={"name": "old", "tags": ["avo-bridge"], "connected": False})
    async with connect(sandbox_server) as client:
        failed_id = await run_pipeline(client, "bridge")
        failed = await detail(client, failed_id, renderFullBottomGraph="true")
        create_resource(sandbox_server.ctx, "delegate", body={"name": "avo-1", "tags": ["avo-bridge"]})
        ok_id = await run_pipeline(client, "bridge")
        sandbox_server.ctx.clock.now_ms += 10 * MINUTE
        ok = await detail(client, ok_id, renderFullBottomGraph="true")
    step = steps_of(failed["executionGraph"])["trigger"]
    assert failed["pipelineExecutionSummary"]["status"] == "Failed"
    assert step["failureInfo"]["message"] == NO_DELEGATE
    assert step["failureInfo"]["failureTypeList"] == ["DELEGATE_PROVISIONING"]
    assert failed["pipelineExecutionSummary"]["failureInfo"]["failureTypeList"] == ["DELEGATE_PROVISIONING"]
    assert ok["pipelineExecutionSummary"]["status"] == "Success"
    assert steps_of(ok["executionGraph"])["trigger"]["delegateInfoList"][0]["name"] == "avo-1"


@pytest.mark.anyio
async def test_single_nodes_and_execution_urls_are_served(sandbox_server: Any) -> None:
    add_pipeline(sandbox_server, BUILD_YAML)
    async with connect(sandbox_server) as client:
        execution_id = await run_pipeline(client, "build_and_test", BUILD_INPUTS)
        data = await detail(client, execution_id, renderFullBottomGraph="true")
        node_id = steps_of(data["executionGraph"])["unit_tests"]["uuid"]
        node = await pms(client, "GET", "/pipelines/getExecutionNode", params=[("nodeExecutionId", node_id)])
        url = await pms(client, "POST", "/pipelines/execution/url", params=[("planExecutionId", execution_id)])
        legacy = await pms(client, "GET", f"/pipelines/execution/{execution_id}")
        with pytest.raises(HarnessNotFoundError):
            await pms(client, "GET", "/pipelines/getExecutionNode", params=[("nodeExecutionId", "x" * 22)])
    assert node["identifier"] == "unit_tests"
    assert url.endswith(f"/pipelines/build_and_test/deployments/{execution_id}/pipeline")
    assert legacy["pipelineExecutionSummary"]["planExecutionId"] == execution_id
