"""Executions toolset: pipeline runs and what hangs off them — step logs, the inputs a run used, approvals.

Starting, rerunning, retrying and interrupting runs are actions here, since each of them yields or changes an
execution.
"""

from __future__ import annotations

from harness_connector.harness.registry._conventions import HIGH_WRITE, INTERRUPT, READ, V1_PATH, operations
from harness_connector.harness.registry.model import (
    PATH_SCOPE,
    BodyKind,
    Envelope,
    FieldSpec,
    Operation,
    PagingStyle,
    ResourceType,
    Scope,
    ScopeParams,
)

__all__ = ["RESOURCE_TYPES", "TOOLSET"]

TOOLSET = "executions"

# The SDK names this query parameter moduleType; the official server sends `module`, which the execute
# endpoints do not read. We follow the SDK, and keep the argument name `module` that callers know.
_MODULE = {"moduleType": "module"}
_RUN_PATH = {"pipelineIdentifier": "pipeline_id"}
_EXECUTION_PATH = {"planExecutionId": "execution_id"}

EXECUTION = ResourceType(
    name="execution",
    display_name="Pipeline Execution",
    toolset=TOOLSET,
    description=(
        "One run of a pipeline, with its status, stages and failure; actions start, rerun, retry and interrupt runs."
    ),
    scope=Scope.PROJECT,
    identifier_fields=("execution_id",),
    operations=operations(
        Operation(
            name="list",
            method="POST",
            path="/pipeline/api/pipelines/execution/summary",
            policy=READ,
            description="List executions, newest first; the body may add pipelineName, timeRange{startTime,endTime}.",
            query_params={
                "searchTerm": "search_term",
                "pipelineIdentifier": "pipeline_id",
                "status": "status",
                "branch": "branch",
                "module": "module",
                "myDeployments": "my_deployments",
            },
            body=BodyKind.JSON,
            static_body={"filterType": "PipelineExecution"},
            paging=PagingStyle.SPRING_PAGE,
        ),
        Operation(
            name="get",
            method="GET",
            path="/pipeline/api/pipelines/execution/v2/{planExecutionId}",
            policy=READ,
            description=(
                "Get an execution's summary and graph; render_full_bottom_graph=true includes every stage's steps "
                "and their log keys."
            ),
            path_params=_EXECUTION_PATH,
            query_params={"renderFullBottomGraph": "render_full_bottom_graph", "stageNodeId": "stage_node_id"},
        ),
        Operation(
            name="run",
            method="POST",
            path="/pipeline/api/pipeline/execute/{pipelineIdentifier}",
            policy=HIGH_WRITE,
            description=(
                "Run a pipeline; the body is the runtime-input YAML (empty when the pipeline has no runtime inputs)."
            ),
            path_params=_RUN_PATH,
            query_params={**_MODULE, "inputSetIdentifiers": "input_set_ids", "branch": "branch"},
            # Always sent, even as "": without a body Harness ignores inputSetIdentifiers.
            body=BodyKind.YAML,
        ),
        Operation(
            name="run_with_input_sets",
            method="POST",
            path="/pipeline/api/pipeline/execute/{pipelineIdentifier}/inputSetList",
            policy=HIGH_WRITE,
            description="Run a pipeline with saved input sets: body {inputSetReferences: [...], lastYamlToMerge?}.",
            path_params=_RUN_PATH,
            query_params={**_MODULE, "branch": "branch"},
            body=BodyKind.JSON,
            required=("body",),
        ),
        Operation(
            name="rerun",
            method="POST",
            path="/pipeline/api/pipeline/execute/rerun/{originalExecutionId}/{pipelineIdentifier}",
            policy=HIGH_WRITE,
            description="Run a pipeline again as a new execution of an earlier one; the body is runtime-input YAML.",
            path_params={"originalExecutionId": "execution_id", **_RUN_PATH},
            query_params=_MODULE,
            body=BodyKind.YAML,
        ),
        # Harness's SDK retries with POST .../retry/{pipelineIdentifier}?planExecutionId=; the official server
        # sends PUT .../retry/{planExecutionId}. We follow the SDK.
        Operation(
            name="retry",
            method="POST",
            path="/pipeline/api/pipeline/execute/retry/{pipelineIdentifier}",
            policy=HIGH_WRITE,
            description=(
                "Retry a failed execution from the given stages (retry_stages), or all of them (run_all_stages)."
            ),
            path_params=_RUN_PATH,
            query_params={
                **_MODULE,
                "planExecutionId": "execution_id",
                "retryStages": "retry_stages",
                "runAllStages": "run_all_stages",
            },
            body=BodyKind.YAML,
            required=("execution_id",),
        ),
        Operation(
            name="interrupt",
            method="PUT",
            path="/pipeline/api/pipeline/execute/interrupt/{planExecutionId}",
            policy=INTERRUPT,
            description=(
                "Abort, pause or resume a running execution: interrupt_type AbortAll, Abort, Pause, Resume, "
                "StageRollback, ExpireAll or Retry."
            ),
            path_params=_EXECUTION_PATH,
            # Only the query parameter counts: a body carrying the type makes the call fail.
            query_params={"interruptType": "interrupt_type"},
            required=("interrupt_type",),
        ),
    ),
    fields=(
        "planExecutionId",
        "pipelineIdentifier as pipeline",
        "name",
        "status",
        "runSequence as run",
        "startTs as started",
        "endTs as ended",
        "executionTriggerInfo.triggerType as trigger",
        "executionTriggerInfo.triggeredBy.identifier as triggered_by",
        "moduleInfo.ci.branch as branch",
        "moduleInfo.ci.prNumber as pr",
        "moduleInfo.cd.serviceIdentifiers as services",
        "moduleInfo.cd.envIdentifiers as environments",
        "failureInfo.message as failure",
    ),
    filters=(
        FieldSpec(name="search_term", description="Matches pipeline name or execution tags."),
        FieldSpec(name="pipeline_id", description="Only executions of this pipeline."),
        FieldSpec(
            name="status",
            description="Only executions in these statuses (one value or a list).",
            enum=(
                "Running",
                "Success",
                "Failed",
                "Errored",
                "Aborted",
                "AbortedByFreeze",
                "Expired",
                "ApprovalRejected",
                "ApprovalWaiting",
                "InterventionWaiting",
                "Queued",
                "Paused",
                "NotStarted",
                "IgnoreFailed",
                "Skipped",
                "Suspended",
            ),
        ),
        FieldSpec(name="branch", description="Only executions built from this Git branch."),
        FieldSpec(name="module", description="Only executions of this module.", enum=("ci", "cd", "cf")),
        FieldSpec(name="my_deployments", description="Only executions the caller started.", type="boolean"),
    ),
    id_field="planExecutionId",
    ui_path="pipelines/{pipeline_id}/executions/{execution_id}/pipeline",
    link_fields={"pipeline_id": "pipelineIdentifier"},
    example={"org_id": "default", "project_id": "payments", "execution_id": "Wq3C1bKZTm2b4x7Gk0yJ1A"},
    search_aliases=("executions", "run", "runs", "build", "builds", "deployment", "deployments"),
)

# The log service reads accountID (the client adds it) and nothing else: org and project live inside the key.
_LOG_SERVICE_SCOPE = ScopeParams(org=None, project=None)

EXECUTION_LOG = ResourceType(
    name="execution_log",
    display_name="Step Log",
    toolset=TOOLSET,
    description=(
        "The finished log of one step, as NDJSON lines {level, time, out}; take log_key from a step's logBaseKey "
        "in the execution graph."
    ),
    scope=Scope.PROJECT,
    identifier_fields=("log_key",),
    operations=operations(
        Operation(
            name="get",
            method="GET",
            path="/gateway/log-service/blob",
            policy=READ,
            description="Get one log key's lines; CD command units append a suffix such as -commandUnit:Execute.",
            query_params={"key": "log_key"},
            scope_params=_LOG_SERVICE_SCOPE,
            envelope=Envelope.BARE,
            required=("log_key",),
        ),
    ),
    fields=("pos", "time", "level", "out"),
    id_field="pos",
    name_field="out",
    example={"log_key": "acct/pipeline/build_and_test/42/-Wq3C1bKZTm2b4x7Gk0yJ1A/build/run_tests"},
    search_aliases=("log", "logs", "step_log", "console"),
)

EXECUTION_INPUTS = ResourceType(
    name="execution_inputs",
    display_name="Execution Inputs",
    toolset=TOOLSET,
    description="The runtime inputs an execution ran with, as YAML, and the input sets it used.",
    scope=Scope.PROJECT,
    identifier_fields=("execution_id",),
    operations=operations(
        Operation(
            name="get",
            method="GET",
            path="/pipeline/api/pipelines/execution/{planExecutionId}/inputsetV2",
            policy=READ,
            description="Get the input YAML of a run; resolve_expressions=true also renders the resolved values.",
            path_params=_EXECUTION_PATH,
            query_params={
                "resolveExpressions": "resolve_expressions",
                "resolveExpressionsType": "resolve_expressions_type",
            },
        ),
    ),
    fields=("inputSetYaml", "inputSetTemplateYaml", "resolvedYaml", "inputSetDetails"),
    example={"org_id": "default", "project_id": "payments", "execution_id": "Wq3C1bKZTm2b4x7Gk0yJ1A"},
    search_aliases=("run_inputs", "runtime_inputs_used", "execution_yaml"),
)

_APPROVAL_ACTIVITY = "/pipeline/api/approvals/{approvalInstanceId}/harness/activity"
_APPROVAL_PATH = {"approvalInstanceId": "approval_id"}

APPROVAL_INSTANCE = ResourceType(
    name="approval_instance",
    display_name="Approval",
    toolset=TOOLSET,
    description=(
        "An approval step waiting inside an execution; list an execution's approvals, then approve or reject one "
        "(the caller must be in an approver group)."
    ),
    scope=Scope.PROJECT,
    identifier_fields=("approval_id",),
    operations=operations(
        # The SDK serves this at /v1/orgs/...; the official server calls /pipeline/api/v1/orgs/.... We follow the SDK.
        Operation(
            name="list",
            method="GET",
            path="/v1/orgs/{org}/projects/{project}/approvals/execution/{execution_id}",
            policy=READ,
            description="List the approvals of one execution.",
            path_params={**V1_PATH, "execution_id": "execution_id"},
            query_params={
                "approval_status": "approval_status",
                "approval_type": "approval_type",
                "node_execution_id": "node_execution_id",
            },
            scope_params=PATH_SCOPE,
            envelope=Envelope.BARE,
        ),
        Operation(
            name="approve",
            method="POST",
            path=_APPROVAL_ACTIVITY,
            policy=HIGH_WRITE,
            description="Approve a waiting Harness approval; the body may add comments, approverInputs[{name, value}].",
            path_params=_APPROVAL_PATH,
            body=BodyKind.JSON,
            static_body={"action": "APPROVE"},
        ),
        Operation(
            name="reject",
            method="POST",
            path=_APPROVAL_ACTIVITY,
            policy=HIGH_WRITE,
            description="Reject a waiting Harness approval, which fails the execution; the body may add comments.",
            path_params=_APPROVAL_PATH,
            body=BodyKind.JSON,
            static_body={"action": "REJECT"},
        ),
    ),
    fields=("id", "type", "status", "deadline", "created", "updated", "error_message"),
    filters=(
        FieldSpec(name="execution_id", description="The execution whose approvals to list.", required=True),
        FieldSpec(
            name="approval_status",
            description="Only approvals in this state.",
            enum=("WAITING", "APPROVED", "REJECTED", "FAILED", "ABORTED", "EXPIRED"),
        ),
        FieldSpec(
            name="approval_type",
            description="Only approvals of this kind.",
            enum=("HarnessApproval", "JiraApproval", "CustomApproval", "ServiceNowApproval"),
        ),
        FieldSpec(name="node_execution_id", description="Only the approval of this step's node execution."),
    ),
    id_field="id",
    name_field="type",
    example={"org_id": "default", "project_id": "payments", "execution_id": "Wq3C1bKZTm2b4x7Gk0yJ1A"},
    search_aliases=("approval", "approvals", "pending_approval", "sign_off"),
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (EXECUTION, EXECUTION_LOG, EXECUTION_INPUTS, APPROVAL_INSTANCE)
