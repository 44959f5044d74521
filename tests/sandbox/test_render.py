from __future__ import annotations

from typing import Any

from harness_connector.domain.status import ExecutionStatus as S
from harness_connector.sandbox import log_keys
from harness_connector.sandbox.model import ExecutionRecord, StageRun, StepRun
from harness_connector.sandbox.render import execution_graph, layout, node_uid, summary

ACCOUNT = "acct0000000000000000AB"
T0 = 1_790_000_000_000


def step(
    identifier: str, status: S = S.SUCCESS, *, start: int = T0, end: int | None = T0 + 5_000, **kw: Any
) -> StepRun:
    return StepRun(
        identifier=identifier,
        name=identifier.title(),
        step_type=kw.pop("step_type", "Run"),
        status=status,
        start_ts=start if status is not S.NOT_STARTED else None,
        end_ts=end if status.is_terminal else None,
        **kw,
    )


def stage(identifier: str, stage_type: str, steps: list[StepRun], status: S = S.SUCCESS, **kw: Any) -> StageRun:
    module = {"CI": "ci", "Deployment": "cd"}.get(stage_type, "pms")
    started = status is not S.NOT_STARTED
    return StageRun(
        identifier=identifier,
        name=identifier.title(),
        stage_type=stage_type,
        module=module,
        status=status,
        start_ts=T0 if started else None,
        end_ts=T0 + 9_000 if status.is_terminal else None,
        steps=steps,
        **kw,
    )


def record(stages: list[StageRun], status: S = S.SUCCESS, **kw: Any) -> ExecutionRecord:
    return ExecutionRecord(
        plan_execution_id=kw.pop("plan_execution_id", "Wq3C1bKZTm2b4x7Gk0yJ1A"),
        org="default",
        project="payments",
        pipeline_id="build_and_deploy",
        pipeline_name="Build and deploy",
        run_sequence=42,
        status=status,
        start_ts=T0,
        end_ts=T0 + 20_000 if status.is_terminal else None,
        created_at=T0,
        stages=stages,
        **kw,
    )


def sample() -> ExecutionRecord:
    return record(
        [
            stage("build", "CI", [step("compile"), step("unit_tests")]),
            stage("lint", "Custom", [step("shellcheck", step_type="ShellScript")], parallel_group=1),
            stage(
                "scan",
                "Custom",
                [
                    step(
                        "trivy",
                        S.FAILED,
                        step_type="ShellScript",
                        failure_message="boom",
                        failure_types=["APPLICATION_ERROR"],
                    )
                ],
                S.FAILED,
                parallel_group=1,
                failure_message="boom",
                failure_types=["APPLICATION_ERROR"],
            ),
            stage(
                "deploy",
                "Deployment",
                [step("rollout", S.NOT_STARTED, step_type="K8sRollingDeploy")],
                S.NOT_STARTED,
                service_id="payments_api",
                environment_id="prod",
                environment_type="Production",
                infrastructure_id="prod_k8s",
                deployment_type="Kubernetes",
            ),
        ],
        S.FAILED,
        failure_message="boom",
        failure_types=["APPLICATION_ERROR"],
        tags={"team": "payments"},
        branch="main",
        commit_sha="a" * 40,
    )


def walk_layout(start: str | None, nodes: dict[str, Any]) -> list[str]:
    order: list[str] = []
    current = start
    while current is not None:
        node = nodes[current]
        children = node["edgeLayoutList"]["currentNodeChildren"]
        order += [nodes[child]["nodeIdentifier"] for child in children] or [node["nodeIdentifier"]]
        following = node["edgeLayoutList"]["nextIds"]
        current = following[0] if following else None
    return order


def test_node_ids_are_stable_and_start_with_the_execution_id_prefix() -> None:
    first, second = node_uid("Wq3C1bKZTm2b4x7Gk0yJ1A", "node", "x"), node_uid("Wq3C1bKZTm2b4x7Gk0yJ1A", "node", "x")
    assert first == second
    assert len(first) == 22
    assert first.startswith("Wq3C1bKZTm2")
    assert node_uid("Wq3C1bKZTm2b4x7Gk0yJ1A", "node", "y") != first


def test_layout_walks_from_the_starting_node_through_parallel_blocks_in_order() -> None:
    start, nodes = layout(sample())
    assert walk_layout(start, nodes) == ["build", "lint", "scan", "deploy"]
    parallel = [n for n in nodes.values() if n["nodeType"] == "parallel"]
    assert len(parallel) == 1
    assert parallel[0]["status"] == "Failed"
    assert all(n["nodeGroup"] == "STAGE" for n in nodes.values())


def test_layout_stage_nodes_carry_harness_fields_and_not_started_stages_have_no_execution_id() -> None:
    _, nodes = layout(sample())
    by_id = {n["nodeIdentifier"]: n for n in nodes.values()}
    assert by_id["build"]["nodeType"] == "CI"
    assert by_id["build"]["module"] == "ci"
    assert "nodeExecutionId" in by_id["build"]
    assert by_id["scan"]["failureInfo"] == {"message": "boom"}
    assert by_id["scan"]["failureInfoDTO"]["failureTypeList"] == ["APPLICATION_ERROR"]
    deploy = by_id["deploy"]
    assert deploy["status"] == "NotStarted"
    assert "nodeExecutionId" not in deploy
    assert deploy["moduleInfo"]["cd"]["serviceInfo"]["identifier"] == "payments_api"


def test_summary_uses_display_statuses_tag_lists_and_stage_counts() -> None:
    data = summary(sample(), ACCOUNT)
    assert data["status"] == "Failed"
    assert data["tags"] == [{"key": "team", "value": "payments"}]
    assert (data["successfulStagesCount"], data["failedStagesCount"], data["totalStagesCount"]) == (2, 1, 4)
    assert data["runningStagesCount"] == 0
    assert data["failureInfo"]["message"] == "boom"
    assert data["executionErrorInfo"] == {"message": "boom"}
    assert data["canRetry"] is True
    assert data["shouldUseSimplifiedKey"] is False
    assert data["modules"] == ["ci", "pms", "cd"]
    assert data["moduleInfo"]["ci"]["branch"] == "main"
    assert data["moduleInfo"]["cd"]["environmentTypes"] == ["Production"]
    assert data["executionTriggerInfo"]["triggeredBy"]["identifier"] == "sandbox.user"
    assert data["retryExecutionMetadata"]["rootExecutionId"] == data["planExecutionId"]


def test_graph_without_full_render_holds_only_the_pipeline_and_started_stages() -> None:
    graph = execution_graph(sample(), ACCOUNT)
    identifiers = sorted(n["identifier"] for n in graph["nodeMap"].values())
    assert identifiers == ["build", "lint", "parallel1", "pipeline", "scan"]
    assert graph["nodeMap"][graph["rootNodeId"]]["identifier"] == "pipeline"
    assert graph["representationStrategy"] == "camelCase"


def test_full_graph_holds_started_steps_with_log_keys_and_chained_adjacency() -> None:
    graph = execution_graph(sample(), ACCOUNT, full=True)
    steps = {n["identifier"]: n for n in graph["nodeMap"].values() if ".steps." in n["baseFqn"]}
    assert sorted(steps) == ["compile", "shellcheck", "trivy", "unit_tests"]  # rollout never started
    compile_node = steps["compile"]
    assert compile_node["baseFqn"] == "pipeline.stages.build.spec.execution.steps.compile"
    assert compile_node["logBaseKey"] == log_keys.step_log_key(
        ACCOUNT, "default", "payments", "build_and_deploy", 42, "build", "compile"
    )
    assert compile_node["executableResponses"][0]["task"]["logKeys"] == [compile_node["logBaseKey"]]
    assert graph["nodeAdjacencyListMap"][compile_node["uuid"]]["nextIds"] == [steps["unit_tests"]["uuid"]]
    section = next(n for n in graph["nodeMap"].values() if n["baseFqn"] == "pipeline.stages.build.spec.execution")
    assert graph["nodeAdjacencyListMap"][section["uuid"]]["children"] == [compile_node["uuid"]]


def test_cd_steps_log_per_command_unit_with_uppercase_unit_progress() -> None:
    graph = execution_graph(sample(), ACCOUNT, full=True)
    trivy = next(n for n in graph["nodeMap"].values() if n["identifier"] == "trivy")
    task = trivy["executableResponses"][0]["task"]
    assert task["units"] == ["Execute"]
    assert task["logKeys"] == [trivy["logBaseKey"] + "-commandUnit:Execute"]
    assert trivy["unitProgresses"][0]["status"] == "FAILURE"
    assert trivy["failureInfo"]["failureTypeList"] == ["APPLICATION_ERROR"]
    assert trivy["failureInfo"]["responseMessages"][0]["message"] == "boom"


def test_retried_steps_carry_retry_interrupts_in_their_history() -> None:
    run = record([stage("build", "CI", [step("flaky", retries=2)])])
    node = next(n for n in execution_graph(run, ACCOUNT, full=True)["nodeMap"].values() if n["identifier"] == "flaky")
    assert [entry["interruptType"] for entry in node["interruptHistories"]] == ["RETRY", "RETRY"]


def test_stage_node_id_expands_only_that_stage() -> None:
    run = sample()
    _, nodes = layout(run)
    scan_plan_id = next(n["nodeUuid"] for n in nodes.values() if n["nodeIdentifier"] == "scan")
    graph = execution_graph(run, ACCOUNT, stage_node_id=scan_plan_id)
    steps = sorted(n["identifier"] for n in graph["nodeMap"].values() if ".steps." in n["baseFqn"])
    assert steps == ["trivy"]
    stage_node = next(n for n in graph["nodeMap"].values() if n["identifier"] == "scan")
    assert stage_node["setupId"] == scan_plan_id
