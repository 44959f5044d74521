"""Execution records rendered as the pipeline service answers: summaries, `layoutNodeMap` and `executionGraph`.

Pure functions of an `ExecutionRecord`. Node ids are derived from the execution id and the node's FQN, so the same
record always renders the same ids, and each id starts with the execution id's first characters, which lets a
bare node id (`getExecutionNode`, approval instance ids) be traced back to its execution with one query.

Like Harness, the graph only holds nodes that started: stages still `NotStarted` appear in the layout map but not
in `executionGraph`. The layout map is stage level; step nodes appear only in the graph.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from typing import Any

from harness_connector.domain.status import ExecutionStatus
from harness_connector.sandbox import log_keys
from harness_connector.sandbox.model import ExecutionRecord, StageRun, StepRun

__all__ = [
    "ID_PREFIX_LEN",
    "execution_detail",
    "execution_graph",
    "failure_info",
    "layout",
    "node_uid",
    "stage_fqn",
    "stage_groups",
    "step_node_id",
    "step_units",
    "summary",
    "trigger_info",
    "ui_url",
]

S = ExecutionStatus
ID_PREFIX_LEN = 11
K8S_UNITS = ["Fetch Files", "Initialize", "Prepare", "Apply", "Wait For Steady State", "Wrap Up"]
_STAGE_STEP_TYPES = {"CI": "IntegrationStageStepPMS", "Deployment": "DEPLOYMENT_STAGE_STEP",
                     "Approval": "APPROVAL_STAGE", "Custom": "CUSTOM_STAGE"}  # fmt: skip
_UNIT_STATUS = {
    S.SUCCESS: "SUCCESS",
    S.FAILED: "FAILURE",
    S.ABORTED: "ABORTED",
    S.EXPIRED: "EXPIRED",
    S.SKIPPED: "SKIPPED",
}
_RETRYABLE = frozenset({S.FAILED, S.ABORTED, S.EXPIRED, S.APPROVAL_REJECTED, S.ERRORED})
_SUCCESSES = frozenset({S.SUCCESS, S.IGNORE_FAILED})


def node_uid(execution_id: str, *parts: str) -> str:
    """A stable 22-character node id that starts with the execution id's first `ID_PREFIX_LEN` characters."""
    digest = hashlib.sha256("\x1f".join((execution_id, *parts)).encode()).digest()
    tail = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    head = execution_id[:ID_PREFIX_LEN]
    return head + tail[: 22 - len(head)]


def stage_fqn(stage: StageRun) -> str:
    return f"pipeline.stages.{stage.identifier}"


def step_node_id(record: ExecutionRecord, stage: StageRun, step: StepRun) -> str:
    """A step's node execution id (also the id of a Harness approval step's approval instance)."""
    return node_uid(record.plan_execution_id, "node", log_keys.step_base_fqn(stage.identifier, step.identifier))


def stage_groups(stages: list[StageRun]) -> list[list[StageRun]]:
    """Stages in run order, consecutive stages sharing a `parallel_group` grouped together."""
    groups: list[list[StageRun]] = []
    for stage in stages:
        if groups and stage.parallel_group is not None and groups[-1][-1].parallel_group == stage.parallel_group:
            groups[-1].append(stage)
        else:
            groups.append([stage])
    return groups


def step_units(stage: StageRun, step: StepRun) -> list[str]:
    """The command units a step logs under: CD and custom steps log per unit, CI steps under their base key."""
    if stage.stage_type not in ("Deployment", "Custom") or step.step_type.endswith("Approval"):
        return []
    return list(K8S_UNITS) if step.step_type.startswith("K8s") else ["Execute"]


def failure_info(message: str | None, types: list[str], *, code: str = "GENERAL_ERROR") -> dict[str, Any]:
    """The `failureInfo` shape; the message is empty (never absent) for nodes that did not fail."""
    messages = [{"code": code, "level": "ERROR", "message": message, "exception": None, "failureTypes": list(types)}]
    return {"message": message or "", "failureTypeList": list(types), "responseMessages": messages if message else []}


def trigger_info(record: ExecutionRecord) -> dict[str, Any]:
    extra = {"email": record.triggered_by_email} if record.triggered_by_email else {}
    return {
        "triggerType": record.trigger_type,
        "triggeredBy": {
            "uuid": node_uid(record.triggered_by, "user"),
            "identifier": record.triggered_by,
            "extraInfo": extra,
        },
        "isRerun": record.is_rerun,
    }


def ui_url(base_url: str, account_id: str, record: ExecutionRecord) -> str:
    return (
        f"{base_url}/ng/account/{account_id}/all/orgs/{record.org}/projects/{record.project}"
        f"/pipelines/{record.pipeline_id}/deployments/{record.plan_execution_id}/pipeline"
    )


def summary(record: ExecutionRecord, account_id: str) -> dict[str, Any]:
    """The `PipelineExecutionSummary` of a list row or of `pipelineExecutionSummary` in the detail."""
    starting, nodes = layout(record)
    stages, eid = record.stages, record.plan_execution_id
    return {
        "pipelineIdentifier": record.pipeline_id, "orgIdentifier": record.org, "projectIdentifier": record.project,
        "planExecutionId": eid, "name": record.pipeline_name, "yamlVersion": "0", "status": record.status.value,
        "tags": [{"key": key, "value": value} for key, value in record.tags.items()], "labels": [],
        "executionTriggerInfo": trigger_info(record),
        "executionErrorInfo": {"message": record.failure_message} if record.failure_message else None,
        "governanceMetadata": governance(record, account_id),
        "failureInfo": failure_info(record.failure_message, record.failure_types),
        "moduleInfo": _module_info(record), "layoutNodeMap": nodes, "modules": _modules(record),
        "startingNodeId": starting, "startTs": record.start_ts, "endTs": record.end_ts, "createdAt": record.created_at,
        "canRetry": record.status in _RETRYABLE, "canReExecute": True, "showRetryHistory": record.retry_of is not None,
        "isRetriedExecution": False, "runSequence": record.run_sequence,
        "successfulStagesCount": sum(s.status in _SUCCESSES for s in stages),
        "runningStagesCount": sum(_started(s) and not s.status.is_terminal for s in stages),
        "failedStagesCount": sum(s.status.is_failure or s.status is S.ABORTED for s in stages),
        "totalStagesCount": len(stages), "executionInputConfigured": False, "allowStageExecutions": False,
        "isStagesExecution": False, "stagesExecuted": [], "stagesExecutedNames": {}, "abortedBy": _aborted_by(record),
        "executionMode": "NORMAL", "storeType": "INLINE", "connectorRef": None, "gitDetails": None,
        # The sandbox writes standard log keys (accountId:.../level0:pipeline/...), so say so.
        "shouldUseSimplifiedKey": False, "notesExistForPlanExecutionId": False, "isDynamicExecution": False,
        "retryExecutionMetadata": {"parentExecutionId": record.retry_of or eid,
                                   "rootExecutionId": record.root_execution_id or eid},
    }  # fmt: skip


def governance(record: ExecutionRecord, account_id: str) -> dict[str, Any]:
    return {
        "id": "", "deny": False, "details": [], "message": "", "timestamp": record.created_at, "status": "pass",
        "accountId": account_id, "orgId": record.org, "projectId": record.project, "entity": record.pipeline_id,
        "type": "pipeline", "action": "onrun", "created": record.created_at,
    }  # fmt: skip


def _aborted_by(record: ExecutionRecord) -> dict[str, Any] | None:
    if record.aborted_by is None:
        return None
    return {"email": f"{record.aborted_by}@example.com", "userName": record.aborted_by, "createdAt": record.end_ts}


def _modules(record: ExecutionRecord) -> list[str]:
    return _unique([record.module, *(stage.module for stage in record.stages)])


def _module_info(record: ExecutionRecord) -> dict[str, Any]:
    info: dict[str, Any] = {}
    modules = _modules(record)
    if "ci" in modules:
        info["ci"] = _ci_info(record)
    if "cd" in modules:
        cd = [s for s in record.stages if s.stage_type == "Deployment"]
        info["cd"] = {
            "__recast": "io.harness.cdng.pipeline.executions.beans.CDPipelineModuleInfo", "envGroupIdentifiers": [],
            "envIdentifiers": _unique(s.environment_id for s in cd),
            "environmentTypes": _unique(s.environment_type for s in cd),
            "infrastructureIdentifiers": _unique(s.infrastructure_id for s in cd),
            "infrastructureNames": _unique(s.infrastructure_id for s in cd),
            "infrastructureTypes": _unique("KubernetesDirect" for s in cd if s.infrastructure_id),
            "serviceDefinitionTypes": _unique(s.deployment_type for s in cd),
            "serviceIdentifiers": _unique(s.service_id for s in cd), "freezeIdentifiers": [],
        }  # fmt: skip
    if "pms" in modules:
        approvals = [s.name for s in record.stages if s.stage_type == "Approval"]
        info["pms"] = {
            "__recast": "io.harness.pms.plan.execution.PmsPipelineModuleInfo",
            "approvalStageNames": approvals,
            "hasApprovalStage": bool(approvals),
        }
    return info


def _ci_info(record: ExecutionRecord) -> dict[str, Any]:
    commits = []
    if record.commit_sha:
        user, email = record.triggered_by, record.triggered_by_email or ""
        commits.append(
            {"id": record.commit_sha, "message": record.commit_message or "", "link": "", "ownerName": user,
             "ownerId": user, "ownerEmail": email, "timeStamp": record.created_at}
        )  # fmt: skip
    is_pr = record.pr_number is not None
    execution_info: dict[str, Any] = {
        "event": "pullRequest" if is_pr else "branch",
        "author": {"name": record.triggered_by},
    }
    if is_pr:
        execution_info["pullRequest"] = {
            "id": record.pr_number, "sourceBranch": record.branch, "targetBranch": record.target_branch,
            "title": record.commit_message or "", "commits": commits, "state": "open",
        }  # fmt: skip
    else:
        execution_info["branch"] = {"commits": commits}
    return {
        "__recast": "io.harness.ci.plan.creator.execution.CIPipelineModuleInfo", "branch": record.branch,
        "buildType": "PR" if is_pr else "branch", "prNumber": record.pr_number, "repoName": record.repo,
        "isPrivateRepo": False, "ciExecutionInfoDTO": execution_info,
    }  # fmt: skip


def _unique(values: Any) -> list[str]:
    out: list[str] = []
    for value in values:
        if value and value not in out:
            out.append(value)
    return out


def _started(stage: StageRun) -> bool:
    return stage.status is not S.NOT_STARTED


def _aggregate(statuses: list[ExecutionStatus]) -> ExecutionStatus:
    """A parallel block's status: its first unfinished member's, else its first failed member's, else success."""
    started = [status for status in statuses if status is not S.NOT_STARTED]
    unfinished = [status for status in started if not status.is_terminal]
    failed = [status for status in started if status not in _SUCCESSES]
    if not started:
        return S.NOT_STARTED
    return (unfinished or failed or [S.SUCCESS])[0]


def layout(record: ExecutionRecord) -> tuple[str | None, dict[str, Any]]:
    """(startingNodeId, layoutNodeMap): stages chained by `nextIds`, parallel blocks as `parallel` nodes."""
    eid = record.plan_execution_id
    nodes: dict[str, Any] = {}
    heads: list[str] = []
    for index, group in enumerate(stage_groups(record.stages)):
        members = [_layout_stage(record, stage) for stage in group]
        for member in members:
            nodes[member["nodeUuid"]] = member
        if len(group) == 1:
            heads.append(members[0]["nodeUuid"])
            continue
        uid = node_uid(eid, "plan", f"pipeline.stages.parallel{index}")
        heads.append(uid)
        nodes[uid] = {
            "nodeType": "parallel", "nodeGroup": "STAGE", "nodeIdentifier": f"parallel{uid}", "name": "parallel",
            "nodeUuid": uid, "status": _aggregate([s.status for s in group]).value, "module": None,
            "moduleInfo": {}, "startTs": _min(s.start_ts for s in group), "endTs": _group_end(group),
            "edgeLayoutList": {"currentNodeChildren": [m["nodeUuid"] for m in members], "nextIds": []},
            "isRollbackStageNode": False,
        }  # fmt: skip
    for current, following in itertools.pairwise(heads):
        nodes[current]["edgeLayoutList"]["nextIds"] = [following]
    return (heads[0] if heads else None), nodes


def _layout_stage(record: ExecutionRecord, stage: StageRun) -> dict[str, Any]:
    eid, fqn = record.plan_execution_id, stage_fqn(stage)
    failure = failure_info(stage.failure_message, stage.failure_types)
    node: dict[str, Any] = {
        "nodeType": stage.stage_type, "nodeGroup": "STAGE", "nodeIdentifier": stage.identifier, "name": stage.name,
        "nodeUuid": node_uid(eid, "plan", fqn), "status": stage.status.value, "module": stage.module,
        "moduleInfo": _stage_module_info(stage), "startTs": stage.start_ts, "endTs": stage.end_ts,
        "edgeLayoutList": {"currentNodeChildren": [], "nextIds": []}, "failureInfo": {"message": failure["message"]},
        "failureInfoDTO": failure, "isRollbackStageNode": False, "barrierFound": False,
        "executionInputConfigured": False,
    }  # fmt: skip
    if _started(stage):
        node["nodeExecutionId"] = node_uid(eid, "node", fqn)
        node["nodeRunInfo"] = {"whenCondition": "<+OnPipelineSuccess>", "evaluatedCondition": True, "expressions": []}
    return node


def _stage_module_info(stage: StageRun) -> dict[str, Any]:
    if stage.stage_type != "Deployment":
        return {}
    artifacts: dict[str, Any] = {"sidecars": []}
    if stage.artifact:
        image, _, tag = stage.artifact.partition(":")
        artifacts["primary"] = {"imagePath": image, "tag": tag or "latest", "type": "DockerRegistry"}
    return {
        "cd": {
            "__recast": "io.harness.cdng.pipeline.executions.beans.CDStageModuleInfo",
            "serviceInfo": {"identifier": stage.service_id, "displayName": stage.service_id,
                            "deploymentType": stage.deployment_type, "gitOpsEnabled": False, "artifacts": artifacts},
            "infraExecutionSummary": {"identifier": stage.environment_id, "name": stage.environment_id,
                                      "type": stage.environment_type, "infrastructureName": stage.infrastructure_id,
                                      "infrastructureIdentifier": stage.infrastructure_id},
        }
    }  # fmt: skip


def _min(values: Any) -> int | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _group_end(group: list[StageRun]) -> int | None:
    if any(not s.status.is_terminal for s in group if _started(s)) or not any(_started(s) for s in group):
        return None
    return max((s.end_ts or 0) for s in group)


def execution_detail(
    record: ExecutionRecord, account_id: str, *, full: bool = False, stage_node_id: str | None = None
) -> dict[str, Any]:
    return {
        "pipelineExecutionSummary": summary(record, account_id),
        "executionGraph": execution_graph(record, account_id, full=full, stage_node_id=stage_node_id),
        "childGraph": None,
    }


class _Graph:
    """Collects nodes and adjacency while walking a record."""

    def __init__(self, record: ExecutionRecord, account_id: str) -> None:
        self.record, self.account = record, account_id
        self.nodes: dict[str, Any] = {}
        self.edges: dict[str, Any] = {}

    def key(self, stage: StageRun | None = None, step: StepRun | None = None) -> str:
        r = self.record
        if stage is None:
            prefix = log_keys.run_prefix(self.account, r.org, r.project, r.pipeline_id, r.run_sequence)
            return f"{prefix}/level0:pipeline"
        if step is None:
            return log_keys.stage_log_key(
                self.account, r.org, r.project, r.pipeline_id, r.run_sequence, stage.identifier
            )
        return log_keys.step_log_key(
            self.account, r.org, r.project, r.pipeline_id, r.run_sequence, stage.identifier, step.identifier
        )

    def add(self, fqn: str, name: str, identifier: str, step_type: str, status: ExecutionStatus, **fields: Any) -> str:
        eid = self.record.plan_execution_id
        uid = node_uid(eid, "node", fqn)
        node: dict[str, Any] = {
            "uuid": uid, "setupId": node_uid(eid, "plan", fqn), "name": name, "identifier": identifier,
            "baseFqn": fqn, "outcomes": {}, "stepParameters": {}, "startTs": None, "endTs": None,
            "stepType": step_type, "status": status.value, "failureInfo": failure_info(None, []), "skipInfo": None,
            "nodeRunInfo": None, "executableResponses": [], "unitProgresses": [], "progressData": None,
            "delegateInfoList": [], "interruptHistories": [], "stepDetails": None, "strategyMetadata": None,
            "executionInputConfigured": False, "logBaseKey": "",
        }  # fmt: skip
        node.update(fields)
        self.nodes[uid] = node
        self.edges[uid] = {"children": [], "nextIds": []}
        return uid

    def chain(self, parent: str, children: list[str]) -> None:
        if children:
            self.edges[parent]["children"] = [children[0]]
        for current, following in itertools.pairwise(children):
            self.edges[current]["nextIds"] = [following]


def execution_graph(
    record: ExecutionRecord, account_id: str, *, full: bool = False, stage_node_id: str | None = None
) -> dict[str, Any]:
    """The `executionGraph`: the pipeline node and started stages; steps of every stage when `full`, or of the
    stage `stage_node_id` names (its plan node id, node execution id or identifier)."""
    graph = _Graph(record, account_id)
    root = graph.add(
        "pipeline", record.pipeline_name, "pipeline", "PIPELINE_SECTION", record.status,
        startTs=record.start_ts, endTs=record.end_ts, logBaseKey=graph.key(),
        failureInfo=failure_info(record.failure_message, record.failure_types),
    )  # fmt: skip
    heads: list[str] = []
    for index, group in enumerate(stage_groups(record.stages)):
        started = [stage for stage in group if _started(stage)]
        members = [_stage_node(graph, stage, _expanded(record, stage, full, stage_node_id)) for stage in started]
        if len(group) > 1 and members:
            fork = graph.add(
                f"pipeline.stages.parallel{index}", "parallel", f"parallel{index}", "NG_FORK",
                _aggregate([s.status for s in started]), startTs=_min(s.start_ts for s in started),
                endTs=_group_end(group),
            )  # fmt: skip
            graph.edges[fork]["children"] = members
            heads.append(fork)
        else:
            heads.extend(members)
    graph.chain(root, heads)
    return {
        "rootNodeId": root,
        "nodeMap": graph.nodes,
        "nodeAdjacencyListMap": graph.edges,
        "executionMetadata": {
            "planExecutionId": record.plan_execution_id,
            "pipelineIdentifier": record.pipeline_id,
            "runSequence": record.run_sequence,
            "triggerInfo": trigger_info(record),
        },
        "representationStrategy": "camelCase",
    }


def _expanded(record: ExecutionRecord, stage: StageRun, full: bool, stage_node_id: str | None) -> bool:
    if full:
        return True
    if not stage_node_id:
        return False
    fqn, eid = stage_fqn(stage), record.plan_execution_id
    return stage_node_id in (stage.identifier, node_uid(eid, "plan", fqn), node_uid(eid, "node", fqn))


def _stage_node(graph: _Graph, stage: StageRun, expand: bool) -> str:
    fqn = stage_fqn(stage)
    params = {"identifier": stage.identifier, "name": stage.name, "type": stage.stage_type}
    uid = graph.add(
        fqn, stage.name, stage.identifier, _STAGE_STEP_TYPES.get(stage.stage_type, "CUSTOM_STAGE"), stage.status,
        startTs=stage.start_ts, endTs=stage.end_ts, logBaseKey=graph.key(stage), stepParameters=params,
        failureInfo=failure_info(stage.failure_message, stage.failure_types),
        nodeRunInfo={"whenCondition": "<+OnPipelineSuccess>", "evaluatedCondition": True, "expressions": []},
    )  # fmt: skip
    if not expand:
        return uid
    section_type = "NG_EXECUTION" if stage.stage_type in ("CI", "Approval") else "NG_SECTION_WITH_ROLLBACK_INFO"
    section = graph.add(
        f"{fqn}.spec.execution", "Execution", "execution", section_type, stage.status,
        startTs=stage.start_ts, endTs=stage.end_ts, logBaseKey=f"{graph.key(stage)}/level3:spec/level4:execution",
    )  # fmt: skip
    graph.edges[uid]["children"] = [section]
    steps = [_step_node(graph, stage, step) for step in stage.steps if step.status is not S.NOT_STARTED]
    graph.chain(section, steps)
    return uid


def _step_node(graph: _Graph, stage: StageRun, step: StepRun) -> str:
    record, eid = graph.record, graph.record.plan_execution_id
    fqn, key = log_keys.step_base_fqn(stage.identifier, step.identifier), graph.key(stage, step)
    units = step_units(stage, step)
    task_id = node_uid(eid, "task", fqn)
    keys = [f"{key}{log_keys.UNIT_SEPARATOR}{unit}" for unit in units] or [key]
    if step.step_type.endswith("Approval"):
        executable: dict[str, Any] = {
            "async": {"callbackIds": [task_id], "logKeys": keys, "units": units, "timeout": 0}
        }
    else:
        executable = {"task": {"taskId": task_id, "taskCategory": "DELEGATE_TASK_V2", "logKeys": keys,
                               "units": units, "taskName": f"{step.step_type} Task"}}  # fmt: skip
    unit_status = _UNIT_STATUS.get(step.status, "RUNNING")
    progresses = [
        {
            "unitName": unit,
            "status": unit_status,
            "startTime": str(step.start_ts or 0),
            "endTime": str(step.end_ts or 0),
        }
        for unit in units
    ]
    delegates = []
    if step.delegate:
        delegates = [{"id": node_uid(step.delegate, "delegate"), "name": step.delegate, "taskId": task_id,
                      "taskName": f"{step.step_type} Task"}]  # fmt: skip
    # A failure strategy's retries show as RETRY interrupts; an abort as the ABORT_ALL that ended the step.
    interrupts: list[dict[str, Any]] = [
        {"interruptId": node_uid(eid, "retry", fqn, str(n)), "tookEffectAt": step.start_ts, "interruptType": "RETRY",
         "interruptConfig": {"issuedBy": {"retryIssuer": {"retryCount": n}}}}
        for n in range(1, step.retries + 1)
    ]  # fmt: skip
    if step.status is S.ABORTED and record.aborted_by:
        issuer = {"issuedBy": {"manualIssuer": {"identifier": record.aborted_by}}}
        interrupts.append({"interruptId": node_uid(eid, "interrupt"), "tookEffectAt": step.end_ts,
                           "interruptType": "ABORT_ALL", "interruptConfig": issuer})  # fmt: skip
    params: dict[str, Any] = {"identifier": step.identifier, "name": step.name, "timeout": step.timeout,
                              "type": step.step_type, "spec": step.spec}  # fmt: skip
    if step.delegate_selectors:
        params["delegateSelectors"] = step.delegate_selectors
    outputs = {"output": {"outputVariables": dict(step.output_variables)}} if step.output_variables else {}
    return graph.add(
        fqn, step.name, step.identifier, step.step_type, step.status, startTs=step.start_ts, endTs=step.end_ts,
        logBaseKey=key, stepParameters=params, outcomes=outputs, executableResponses=[executable],
        unitProgresses=progresses, delegateInfoList=delegates, interruptHistories=interrupts,
        failureInfo=failure_info(step.failure_message, step.failure_types),
    )  # fmt: skip
