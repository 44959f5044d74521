from __future__ import annotations

from typing import Any

from harness_connector.services.diagnose_graph import rank_failures, stage_summaries

Json = dict[str, Any]
BASE = "accountId:a/orgId:o/projectId:p/pipelineId:deploy/runSequence:4/level0:pipeline/level1:stages"


def _failure(message: str | None, *types: str) -> Json:
    entries = [{"code": "GENERAL_ERROR", "level": "ERROR", "message": "Step failed", "failureTypes": []}]
    if message:
        entries.append({"code": "GENERAL_ERROR", "level": "ERROR", "message": message, "failureTypes": list(types)})
    return {"message": "Step failed" if message else "", "failureTypeList": list(types), "responseMessages": entries}


def _node(fqn: str, status: str, start: int | None, **fields: Any) -> Json:
    identifier = fqn.rsplit(".", 1)[-1]
    return {"uuid": fqn, "identifier": identifier, "name": identifier, "baseFqn": fqn, "status": status,
            "startTs": start, "stepType": fields.pop("stepType", "ShellScript"), "failureInfo": _failure(None),
            "logBaseKey": f"{BASE}/{fqn}", **fields}  # fmt: skip


def _detail(nodes: list[Json]) -> Json:
    layout = {
        "u_deploy": {"nodeType": "Deployment", "nodeGroup": "STAGE", "nodeIdentifier": "deploy", "name": "Deploy",
                     "status": "Failed", "startTs": 1000, "endTs": 9000,
                     "edgeLayoutList": {"currentNodeChildren": [], "nextIds": ["u_verify"]},
                     "failureInfoDTO": _failure("Helm upgrade timed out", "TIMEOUT_ERROR")},
        "u_verify": {"nodeType": "Custom", "nodeGroup": "STAGE", "nodeIdentifier": "verify", "name": "Verify",
                     "status": "NotStarted", "edgeLayoutList": {"currentNodeChildren": [], "nextIds": []}},
    }  # fmt: skip
    summary = {"pipelineIdentifier": "deploy", "planExecutionId": "E1", "status": "Failed",
               "startingNodeId": "u_deploy", "layoutNodeMap": layout}  # fmt: skip
    return {"pipelineExecutionSummary": summary, "executionGraph": {"nodeMap": {n["uuid"]: n for n in nodes}}}


def _nodes() -> list[Json]:
    steps = "pipeline.stages.deploy.spec.execution.steps"
    units = [{"unitName": "Fetch Files", "status": "SUCCESS"}, {"unitName": "Wait For Steady State",
             "status": "FAILURE"}]  # fmt: skip
    keys = [f"{BASE}/helm-commandUnit:Fetch Files", f"{BASE}/helm-commandUnit:Wait For Steady State"]
    return [
        _node("pipeline", "Failed", 900, stepType="PIPELINE_SECTION", failureInfo=_failure("Helm upgrade timed out")),
        _node("pipeline.stages.deploy", "Failed", 1000, stepType="DEPLOYMENT_STAGE_STEP",
              failureInfo=_failure("Helm upgrade timed out")),
        _node(f"{steps}.smoke", "Skipped", 5000),
        _node(f"{steps}.gated", "Skipped", 5100, nodeRunInfo={"whenCondition": "<+pipeline.variables.run> == 'yes'"}),
        _node(f"{steps}.notify", "Aborted", 4000),
        # The step group repeats its child's failure; the leaf is what counts.
        _node(f"{steps}.rollout", "Failed", 1900, stepType="STEP_GROUP",
              failureInfo=_failure("Helm upgrade timed out")),
        _node(f"{steps}.rollout.steps.helm", "Failed", 2000, stepType="K8sRollingDeploy",
              failureInfo=_failure("Helm upgrade timed out", "TIMEOUT_ERROR"), unitProgresses=units,
              executableResponses=[{"task": {"logKeys": keys}}], delegateInfoList=[{"name": "k8s-east"}],
              interruptHistories=[{"interruptType": "RETRY"}]),
        _node("pipeline.stages.deploy.spec.execution.rollbackSteps.undo", "Failed", 6000,
              failureInfo=_failure("rollback failed: release not found")),
    ]  # fmt: skip


def test_ranking_follows_start_times_not_the_order_of_the_node_map() -> None:
    forward = [(r.failure.stage, r.failure.step, r.failure.role) for r in rank_failures(_detail(_nodes()))]
    backward = [(r.failure.stage, r.failure.step, r.failure.role) for r in rank_failures(_detail(_nodes()[::-1]))]
    assert forward == backward
    assert forward == [
        ("deploy", "helm", "root_cause"),
        ("deploy", "notify", "downstream"),
        ("deploy", "undo", "downstream"),
        ("deploy", "smoke", "downstream"),
        ("deploy", "gated", "downstream"),
        ("verify", None, "downstream"),
    ]


def test_a_failure_carries_the_deepest_message_types_delegate_retries_and_the_failed_units_log_key() -> None:
    ranked = rank_failures(_detail(_nodes()))
    root = ranked[0]
    assert root.failure.message == "Helm upgrade timed out"
    assert root.failure.failure_types == ["TIMEOUT_ERROR"]
    assert root.failure.delegate == "k8s-east"
    assert root.failure.retries == 1
    assert root.node.log_keys[0].endswith("helm-commandUnit:Wait For Steady State")
    reasons = {r.failure.step: r.failure.reason for r in ranked}
    assert reasons["smoke"] == "skipped because step 'helm' failed earlier in stage 'deploy'"
    assert reasons["gated"] == "skipped by its own run condition, not by a failure"
    assert reasons["undo"].startswith("rollback after step 'helm' of stage 'deploy' failed")
    assert reasons[None] == "did not run because stage 'deploy' failed"


def test_a_stage_that_failed_without_a_failed_step_is_its_own_root_cause() -> None:
    failure = _failure("No eligible delegate(s) in account to execute task", "DELEGATE_PROVISIONING")
    nodes = [_node("pipeline.stages.deploy", "Failed", 1000, stepType="DEPLOYMENT_STAGE_STEP", failureInfo=failure)]
    (root, verify) = rank_failures(_detail(nodes))
    assert (root.failure.stage, root.failure.step, root.failure.role) == ("deploy", None, "root_cause")
    assert root.failure.failure_types == ["DELEGATE_PROVISIONING"]
    assert verify.failure.stage == "verify"


def test_stages_are_listed_in_layout_order_with_their_failure() -> None:
    stages = stage_summaries(_detail([])["pipelineExecutionSummary"])
    assert [(s.id, s.status, s.duration_s, s.failure) for s in stages] == [
        ("deploy", "Failed", 8.0, "Helm upgrade timed out"),
        ("verify", "NotStarted", None, None),
    ]
