"""Pipeline executions: the execution list and detail, running, rerunning, retrying and interrupting runs, and
Harness approvals, as the pipeline service (PMS) answers them.

Every read moves unfinished runs along the sandbox clock first (`runs.refresh`), so a client polling an
execution sees it progress exactly as it would against Harness.
"""

from __future__ import annotations

from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from harness_connector.domain.status import ExecutionStatus
from harness_connector.sandbox import render, runs
from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.envelopes import ApiError, ok, spring_page
from harness_connector.sandbox.model import ExecutionRecord, StageRun, StepRun
from harness_connector.sandbox.requests import json_body, require, spring_paging, yaml_body
from harness_connector.sandbox.routes._common import (
    actor_of,
    bool_param,
    filter_body,
    project_scope,
    route,
    scope_chain,
)
from harness_connector.sandbox.routes.delegates import delegate_selectors, is_connected
from harness_connector.sandbox.routes.runtime_inputs import runtime_input_template

__all__ = ["delegates_of", "routes"]

P = "/pipeline/api"
_NON_TERMINAL = [s.value for s in ExecutionStatus if not s.is_terminal]
_SORT_COLUMNS = {
    "startts": "start_ts", "endts": "end_ts", "createdat": "start_ts", "runsequence": "run_sequence",
    "status": "status", "pipelineidentifier": "pipeline", "name": "json_extract(doc, '$.pipeline_name')",
}  # fmt: skip
_APPROVAL_STATUS = {
    ExecutionStatus.APPROVAL_WAITING: "WAITING", ExecutionStatus.SUCCESS: "APPROVED",
    ExecutionStatus.APPROVAL_REJECTED: "REJECTED", ExecutionStatus.EXPIRED: "EXPIRED",
    ExecutionStatus.ABORTED: "ABORTED",
}  # fmt: skip
_HALF_YEAR_MS = 183 * 86_400_000


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The execution, run and approval endpoints."""
    execute = f"{P}/pipeline/execute"
    approvals = "/orgs/{org}/projects/{project}/approvals/execution/{executionId}"
    return [
        route(ctx, f"{P}/pipelines/execution/summary", "POST", list_executions),
        route(ctx, f"{P}/pipelines/execution/url", "POST", execution_url),
        route(ctx, f"{P}/pipelines/execution/v2/{{planExecutionId}}", "GET", get_execution_v2),
        route(ctx, f"{P}/pipelines/execution/{{planExecutionId}}/inputsetV2", "GET", execution_inputs),
        route(ctx, f"{P}/pipelines/execution/{{planExecutionId}}", "GET", get_execution),
        route(ctx, f"{P}/pipelines/getExecutionNode", "GET", execution_node),
        route(ctx, f"{execute}/rerun/{{originalExecutionId}}/{{identifier}}", "POST", rerun),
        # The SDK retries with POST; the official MCP server sends PUT .../retry/{planExecutionId}.
        route(ctx, f"{execute}/retry/{{identifier}}", "POST", retry),
        route(ctx, f"{execute}/retry/{{identifier}}", "PUT", retry),
        route(ctx, f"{execute}/interrupt/{{planExecutionId}}", "PUT", interrupt),
        route(ctx, f"{execute}/{{identifier}}/inputSetList", "POST", run_with_input_sets),
        route(ctx, f"{execute}/{{identifier}}", "POST", run),
        route(ctx, f"{P}/v1{approvals}", "GET", list_approvals),
        route(ctx, f"/v1{approvals}", "GET", list_approvals),
        route(ctx, f"{P}/approvals/{{approvalInstanceId}}/harness/activity", "POST", approval_activity),
    ]


# ---- reading ---------------------------------------------------------------------------------------------


def _not_found(execution_id: str) -> ApiError:
    return ApiError(
        "RESOURCE_NOT_FOUND",
        f"Plan Execution Summary does not exist or has been deleted for planExecutionId: {execution_id}",
    )


def delegates_of(ctx: SandboxContext) -> runs.DelegatesOf:
    """The connected delegates a scope can use (its own, its org's, the account's), as the delegate routes judge."""

    def of(org: str, project: str) -> list[runs.Delegate]:
        return [
            runs.Delegate(
                str(entity.doc.get("name") or entity.identifier),
                frozenset(delegate_selectors(entity)),
                live=bool(entity.doc.get("agent")),
            )
            for scope_org, scope_project in scope_chain(org, project)
            for entity in ctx.state.list_entities("delegate", org=scope_org, project=scope_project)
            if is_connected(ctx, entity)
        ]

    return of


def _load(ctx: SandboxContext, execution_id: str, org: str, project: str) -> ExecutionRecord:
    record = ctx.state.get_execution(execution_id)
    if record is None or (record.org, record.project) != (org, project):
        raise _not_found(execution_id)
    return runs.refresh(ctx.state, ctx.account_id, record, ctx.clock(), delegates_of(ctx))


async def list_executions(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    body = await filter_body(request, "PipelineExecution", required=False)
    page, size = spring_paging(request)
    unfinished = ",".join("?" * len(_NON_TERMINAL))
    rows = ctx.state.query(
        f"SELECT doc FROM executions WHERE org = ? AND project = ? AND status IN ({unfinished})",
        (org, project, *_NON_TERMINAL),
    )
    connected = delegates_of(ctx)
    for (doc,) in rows:
        runs.refresh(ctx.state, ctx.account_id, ExecutionRecord.model_validate_json(doc), ctx.clock(), connected)
    where, params = _filters(ctx, request, body, org, project)
    total = int(ctx.state.query(f"SELECT COUNT(*) FROM executions WHERE {where}", params)[0][0])
    order = _order(request.query_params.get("sort"))
    found = ctx.state.query(f"SELECT doc FROM executions WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                            (*params, size, page * size))  # fmt: skip
    items = [render.summary(ExecutionRecord.model_validate_json(doc), ctx.account_id) for (doc,) in found]
    return ok(spring_page(items, page=page, size=size, total=total))


def _statuses(values: list[Any]) -> set[str]:
    try:
        return {ExecutionStatus.parse(str(value)).value for value in values}
    except ValueError as exc:
        raise ApiError("INVALID_REQUEST", f"Invalid request: {exc}") from None


class _Where:
    """SQL conditions and their parameters, built up one filter at a time."""

    def __init__(self, org: str, project: str) -> None:
        self.clauses, self.params = ["org = ?", "project = ?"], [org, project]

    def add(self, clause: str, *values: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(values)

    @property
    def sql(self) -> str:
        return " AND ".join(self.clauses)


def _filters(
    ctx: SandboxContext, request: Request, body: dict[str, Any], org: str, project: str
) -> tuple[str, list[Any]]:
    query, where = request.query_params, _Where(org, project)
    for chosen in (query.getlist("status"), body.get("status") if isinstance(body.get("status"), list) else []):
        if chosen:
            statuses = sorted(_statuses(chosen))
            where.add(f"status IN ({','.join('?' * len(statuses))})", *statuses)
    for name, column in (("pipelineIdentifier", "pipeline"), ("branch", "branch")):
        if query.get(name):
            where.add(f"{column} = ?", query[name])
    if query.get("module"):
        where.add("(json_extract(doc, '$.module') = ? OR EXISTS (SELECT 1 FROM json_each(doc, '$.stages') "
                  "WHERE json_extract(value, '$.module') = ?))", query["module"], query["module"])  # fmt: skip
    if query.get("searchTerm"):
        term = f"%{query['searchTerm'].lower()}%"
        where.add("(lower(json_extract(doc, '$.pipeline_name')) LIKE ? OR lower(pipeline) LIKE ? OR EXISTS "
                  "(SELECT 1 FROM json_each(doc, '$.tags') WHERE lower(key) LIKE ? OR lower(value) LIKE ?))",
                  term, term, term, term)  # fmt: skip
    if bool_param(request, "myDeployments"):
        where.add("json_extract(doc, '$.triggered_by') = ?", actor_of(ctx, request).name)
    _body_filters(body, where)
    return where.sql, where.params


def _body_filters(body: dict[str, Any], where: _Where) -> None:
    """The PipelineExecution filter properties: pipelineName, timeRange and pipelineTags."""
    if isinstance(body.get("pipelineName"), str) and body["pipelineName"]:
        where.add("lower(json_extract(doc, '$.pipeline_name')) LIKE ?", f"%{body['pipelineName'].lower()}%")
    time_range: dict[str, Any] = body["timeRange"] if isinstance(body.get("timeRange"), dict) else {}
    if time_range.get("startTime") is not None:
        where.add("start_ts >= ?", int(time_range["startTime"]))
    if time_range.get("endTime") is not None:
        where.add("start_ts <= ?", int(time_range["endTime"]))
    for tag in body.get("pipelineTags") or []:
        if isinstance(tag, dict) and tag.get("key"):
            where.add(
                "json_extract(doc, '$.tags.' || json_quote(?)) IS ?", str(tag["key"]), str(tag.get("value") or "")
            )


def _order(sort: str | None) -> str:
    field, _, direction = (sort or "startTs,DESC").partition(",")
    column = _SORT_COLUMNS.get(field.strip().lower(), "start_ts")
    way = "ASC" if direction.strip().upper() == "ASC" else "DESC"
    return f"{column} {way}, run_sequence {way}, id"


async def get_execution_v2(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    record = _load(ctx, request.path_params["planExecutionId"], org, project)
    full, stage = bool_param(request, "renderFullBottomGraph"), request.query_params.get("stageNodeId")
    return ok(render.execution_detail(record, ctx.account_id, full=full, stage_node_id=stage))


async def get_execution(ctx: SandboxContext, request: Request) -> Response:
    """The older detail endpoint: no full bottom graph, only a stage's steps when asked for."""
    org, project = project_scope(request)
    record = _load(ctx, request.path_params["planExecutionId"], org, project)
    stage = request.query_params.get("stageNodeId")
    return ok(render.execution_detail(record, ctx.account_id, stage_node_id=stage))


async def execution_inputs(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    record = _load(ctx, request.path_params["planExecutionId"], org, project)
    entity = ctx.state.get_entity("pipeline", record.pipeline_id, org=org, project=project)
    text = str(entity.doc.get("yaml") or "") if entity else ""
    pipeline = _pipeline_of(text)
    data: dict[str, Any] = {
        "inputSetYaml": record.input_set_yaml,
        "inputSetTemplateYaml": runtime_input_template(text) if pipeline else "",
        "inputSetDetails": [],
    }
    if bool_param(request, "resolveExpressions") and pipeline:
        try:
            values = runs.input_values(yaml.safe_load(record.input_set_yaml or "") or {})
            data["resolvedYaml"] = yaml.safe_dump({"pipeline": runs.resolve_inputs(pipeline, values)}, sort_keys=False)
        except (ApiError, yaml.YAMLError):
            data["resolvedYaml"] = None
    return ok(data)


def _by_node_id(ctx: SandboxContext, node_id: str) -> list[ExecutionRecord]:
    """Executions whose node ids could include `node_id` (node ids start with their execution id's prefix)."""
    rows = ctx.state.query(
        "SELECT doc FROM executions WHERE substr(?, 1, min(length(id), ?)) = substr(id, 1, ?)",
        (node_id, render.ID_PREFIX_LEN, render.ID_PREFIX_LEN),
    )
    return [ExecutionRecord.model_validate_json(doc) for (doc,) in rows]


async def execution_node(ctx: SandboxContext, request: Request) -> Response:
    node_id = require(request, "nodeExecutionId")
    org, project = request.query_params.get("orgIdentifier"), request.query_params.get("projectIdentifier")
    for candidate in _by_node_id(ctx, node_id):
        if project and (candidate.org, candidate.project) != (org, project):
            continue
        record = runs.refresh(ctx.state, ctx.account_id, candidate, ctx.clock(), delegates_of(ctx))
        node = render.execution_graph(record, ctx.account_id, full=True)["nodeMap"].get(node_id)
        if node is not None:
            return ok(node)
    raise ApiError("RESOURCE_NOT_FOUND", f"Node Execution with id [{node_id}] is not present or deleted")


async def execution_url(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    record = _load(ctx, require(request, "planExecutionId"), org, project)
    return ok(render.ui_url(ctx.base_url, ctx.account_id, record))


# ---- running ---------------------------------------------------------------------------------------------


def _pipeline_of(text: str) -> dict[str, Any] | None:
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    root = parsed.get("pipeline") if isinstance(parsed, dict) else None
    return root if isinstance(root, dict) else None


def _input_sets(ctx: SandboxContext, org: str, project: str, pipeline_id: str, refs: list[str]) -> list[Any]:
    """The runtime-input documents of saved input sets, overlays expanded in order."""
    docs: list[Any] = []
    for ref in refs:
        entity = ctx.state.get_entity("input_set", ref, org=org, project=project, parent=pipeline_id)
        if entity is None:
            raise ApiError("INVALID_REQUEST", f"InputSet with the given ID: {ref} does not exist or has been deleted")
        parsed: Any = _yaml_doc(str(entity.doc.get("yaml") or "")) or {}
        overlay = parsed.get("overlayInputSet") if isinstance(parsed, dict) else None
        if isinstance(overlay, dict):
            docs += _input_sets(
                ctx, org, project, pipeline_id, [str(r) for r in overlay.get("inputSetReferences") or []]
            )
        else:
            docs.append(parsed)
    return docs


def _environment_type(ctx: SandboxContext, env_id: str, org: str, project: str) -> str:
    for scope_org, scope_project in ((org, project), (org, ""), ("", "")):
        entity = ctx.state.get_entity("environment", env_id, org=scope_org, project=scope_project)
        if entity is None:
            continue
        # Stored either as the JSON body (maybe wrapped in "environment") or as YAML under "yaml".
        parsed = yaml.safe_load(str(entity.doc.get("yaml") or "")) if entity.doc.get("yaml") else None
        for doc in (entity.doc, entity.doc.get("environment"), parsed, (parsed or {}).get("environment")):
            if isinstance(doc, dict) and doc.get("type"):
                return "Production" if str(doc["type"]).lower() == "production" else "PreProduction"
    return "PreProduction"


def _start(
    ctx: SandboxContext, request: Request, pipeline_id: str, docs: list[Any], input_yaml: str, *,
    is_rerun: bool = False, retry_of: ExecutionRecord | None = None, retry_from: list[str] | None = None,
    run_all: bool = True,
) -> ExecutionRecord:  # fmt: skip
    """Start a run of the stored pipeline with the runtime inputs of `docs` (later documents win)."""
    org, project = project_scope(request)
    entity = ctx.state.get_entity("pipeline", pipeline_id, org=org, project=project)
    if entity is None:
        raise ApiError("RESOURCE_NOT_FOUND", f"Pipeline [{pipeline_id}] under Project[{project}], Organization "
                       f"[{org}] doesn't exist or has been deleted.")  # fmt: skip
    pipeline = _pipeline_of(str(entity.doc.get("yaml") or ""))
    if pipeline is None:
        raise ApiError("INVALID_YAML_ERROR", f"Pipeline [{pipeline_id}] has no valid YAML to run")
    resolved = runs.resolve_inputs(pipeline, runs.input_values(*docs))
    actor, now = actor_of(ctx, request), ctx.clock()
    email = f"{actor.name}@example.com" if actor.principal_type == "USER" else None
    record = runs.plan_run(resolved, org=org, project=project, execution_id=runs.new_execution_id(), run_sequence=0,
                           now_ms=now, triggered_by=(actor.name, email), input_yaml=input_yaml)  # fmt: skip
    record.pipeline_id, record.is_rerun = pipeline_id, is_rerun
    for stage in record.stages:
        if stage.environment_id:
            stage.environment_type = _environment_type(ctx, stage.environment_id, org, project)
    if retry_of is not None:
        record.stages = runs.retry_stages(retry_of, record.stages, retry_from or [], run_all)
        record.retry_of = retry_of.plan_execution_id
        record.root_execution_id = retry_of.root_execution_id or retry_of.plan_execution_id
    return runs.start(ctx.state, ctx.account_id, record, now, delegates_of(ctx))


def _yaml_doc(text: str) -> Any:
    try:
        return yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as exc:
        raise ApiError("INVALID_REQUEST", f"Invalid yaml: {exc}".replace("\n", " ")) from None


def _plan_execution(ctx: SandboxContext, request: Request, record: ExecutionRecord) -> dict[str, Any]:
    eid, actor = record.plan_execution_id, actor_of(ctx, request)
    plan_id = render.node_uid(eid, "plan")
    return {
        "planExecution": {
            "uuid": eid, "createdAt": record.created_at, "planId": plan_id,
            "setupAbstractions": {"accountId": ctx.account_id, "orgIdentifier": record.org,
                                  "projectIdentifier": record.project},
            "validUntil": record.created_at + _HALF_YEAR_MS, "status": "RUNNING", "startTs": record.start_ts,
            "endTs": None,
            "metadata": {
                "runSequence": record.run_sequence, "triggerInfo": render.trigger_info(record),
                "pipelineIdentifier": record.pipeline_id, "executionUuid": eid,
                "principalInfo": {"principal": actor.name, "principalType": actor.principal_type,
                                  "shouldValidateRbac": False},
                "moduleType": record.module,
                "retryInfo": {"isRetry": record.retry_of is not None, "parentRetryId": record.retry_of or "",
                              "rootExecutionId": record.root_execution_id or eid},
            },
            "governanceMetadata": render.governance(record, ctx.account_id),
            "lastUpdatedAt": record.created_at, "version": 0, "nodeType": "PLAN", "nodeId": plan_id,
        },
        "gitDetails": {"objectId": None, "branch": None, "repoIdentifier": None, "rootFolder": None,
                       "filePath": None, "repoName": None, "commitId": None, "fileUrl": None, "repoUrl": None},
    }  # fmt: skip


async def run(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    pipeline_id = request.path_params["identifier"]
    text, inputs = await yaml_body(request, allow_empty=True)
    refs = [ref for value in request.query_params.getlist("inputSetIdentifiers") for ref in value.split(",") if ref]
    docs = [*_input_sets(ctx, org, project, pipeline_id, refs), inputs]
    return ok(_plan_execution(ctx, request, _start(ctx, request, pipeline_id, docs, text)))


async def run_with_input_sets(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    pipeline_id = request.path_params["identifier"]
    body = await json_body(request)
    refs = body.get("inputSetReferences") if isinstance(body, dict) else None
    if not isinstance(refs, list) or not refs:
        raise ApiError("INVALID_REQUEST", "inputSetReferences: must not be empty")
    docs = _input_sets(ctx, org, project, pipeline_id, [str(ref) for ref in refs])
    last = str(body.get("lastYamlToMerge") or "")
    docs.append(_yaml_doc(last))
    return ok(_plan_execution(ctx, request, _start(ctx, request, pipeline_id, docs, last)))


async def rerun(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    original = _load(ctx, request.path_params["originalExecutionId"], org, project)
    text, inputs = await yaml_body(request, allow_empty=True)
    if inputs is None:
        text, inputs = original.input_set_yaml, _yaml_doc(original.input_set_yaml)
    record = _start(ctx, request, request.path_params["identifier"], [inputs], text, is_rerun=True)
    return ok(_plan_execution(ctx, request, record))


async def retry(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    identifier = request.path_params["identifier"]
    execution_id = request.query_params.get("planExecutionId")
    if not execution_id:
        # PUT .../retry/{planExecutionId} (the official server) names the execution in the path instead.
        if ctx.state.get_execution(identifier) is None:
            raise ApiError("INVALID_REQUEST", "planExecutionId: must not be null")
        execution_id = identifier
    original = _load(ctx, execution_id, org, project)
    if original.status not in (ExecutionStatus.FAILED, ExecutionStatus.ABORTED, ExecutionStatus.EXPIRED,
                               ExecutionStatus.APPROVAL_REJECTED, ExecutionStatus.ERRORED):  # fmt: skip
        raise ApiError("INVALID_REQUEST", f"Execution {execution_id} ended {original.status.value}: only failed, "
                       "aborted, expired or rejected executions can be retried")  # fmt: skip
    text, inputs = await yaml_body(request, allow_empty=True)
    if inputs is None:
        text, inputs = original.input_set_yaml, _yaml_doc(original.input_set_yaml)
    stages = [s for value in request.query_params.getlist("retryStages") for s in value.split(",") if s]
    record = _start(ctx, request, original.pipeline_id, [inputs], text, retry_of=original, retry_from=stages,
                    run_all=bool_param(request, "runAllStages", default=True))  # fmt: skip
    return ok(_plan_execution(ctx, request, record))


async def interrupt(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    kind = require(request, "interruptType")
    before = _load(ctx, request.path_params["planExecutionId"], org, project)
    now = ctx.clock()
    after, name = runs.interrupt(before, kind, now, actor_of(ctx, request).name)
    delegates = delegates_of(ctx)(org, project)
    if name == "Resume":
        after = runs.resume(after, now, delegates)
    runs.settle(ctx.state, ctx.account_id, before, after, now, delegates)
    eid = before.plan_execution_id
    return ok({"id": render.node_uid(eid, "interrupt", str(now)), "type": name, "planExecutionId": eid})


# ---- approvals -------------------------------------------------------------------------------------------


def _approvals(record: ExecutionRecord) -> list[tuple[StageRun, StepRun, str]]:
    """The started Harness approval steps of a run, with their approval instance ids (their node ids)."""
    return [
        (stage, step, render.step_node_id(record, stage, step))
        for stage in record.stages
        for step in stage.steps
        if step.step_type == "HarnessApproval" and step.status is not ExecutionStatus.NOT_STARTED
    ]


def _approval_details(step: StepRun) -> dict[str, Any]:
    activities = []
    if step.output_variables:
        user = step.output_variables.get("approvedBy", "")
        comments = step.output_variables.get("comments", "")
        activities.append({"user": {"name": user, "email": f"{user}@example.com"}, "comments": comments,
                           "action": step.output_variables.get("action"), "approvedAt": step.end_ts})  # fmt: skip
    return {
        "approvalMessage": step.spec.get("approvalMessage", ""),
        "includePipelineExecutionHistory": bool(step.spec.get("includePipelineExecutionHistory")),
        "approvers": step.spec.get("approvers") or {},
        "approvalActivities": activities,
        "approverInputs": step.spec.get("approverInputs") or [],
    }


def _deadline(step: StepRun) -> int:
    return (step.start_ts or 0) + runs.duration_ms(step.timeout)


async def list_approvals(ctx: SandboxContext, request: Request) -> Response:
    path = request.path_params
    record = _load(ctx, path["executionId"], path["org"], path["project"])
    query = request.query_params
    items = []
    for _, step, uid in _approvals(record):
        status = _APPROVAL_STATUS.get(step.status, "FAILED")
        if query.get("approval_status") and query["approval_status"].upper() != status:
            continue
        if query.get("approval_type") and query["approval_type"] != step.step_type:
            continue
        if query.get("node_execution_id") and query["node_execution_id"] != uid:
            continue
        items.append({"id": uid, "type": step.step_type, "status": status, "deadline": _deadline(step),
                      "created": step.start_ts, "updated": step.end_ts or step.start_ts,
                      "error_message": step.failure_message or "", "details": _approval_details(step)})  # fmt: skip
    return JSONResponse(items)


async def approval_activity(ctx: SandboxContext, request: Request) -> Response:
    approval_id = request.path_params["approvalInstanceId"]
    body = await json_body(request)
    action = str(body.get("action", "")).upper() if isinstance(body, dict) else ""
    if action not in ("APPROVE", "REJECT"):
        raise ApiError("INVALID_REQUEST", "action: must be APPROVE or REJECT")
    for candidate in _by_node_id(ctx, approval_id):
        before = runs.refresh(ctx.state, ctx.account_id, candidate, ctx.clock(), delegates_of(ctx))
        if not any(uid == approval_id for _, _, uid in _approvals(before)):
            continue
        actor, now = actor_of(ctx, request), ctx.clock()
        if not actor.may_write(before.org, before.project):
            raise ApiError("NG_ACCESS_DENIED", f"Missing permission to approve in project {before.project}")
        by = actor.name
        decided = runs.decide_approval(before, approval_id, approve=action == "APPROVE", by=by,
                                       comments=str(body.get("comments") or ""), now_ms=now)  # fmt: skip
        delegates = delegates_of(ctx)(before.org, before.project)
        after = runs.settle(ctx.state, ctx.account_id, before, decided, now, delegates)
        step = next(step for _, step, uid in _approvals(after) if uid == approval_id)
        return ok({"id": approval_id, "type": step.step_type, "status": _APPROVAL_STATUS.get(step.status, "FAILED"),
                   "deadline": _deadline(step), "details": _approval_details(step), "createdAt": step.start_ts,
                   "lastModifiedAt": step.end_ts, "errorMessage": step.failure_message})  # fmt: skip
    raise ApiError("RESOURCE_NOT_FOUND", f"Approval instance with id [{approval_id}] does not exist")
