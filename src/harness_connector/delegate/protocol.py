"""The delegate protocol: how a delegate registers with the manager, takes tasks and hands back their results.

Harness's own delegate speaks an internal protocol (a WebSocket for notifications, REST for payloads and results).
This is the REST half of that pattern, as the sandbox's manager serves it; every call is outbound from the
delegate, so a delegate behind a firewall needs no open port.

Authentication: every call carries `Authorization: Delegate <jwt>`, an HS256 JWT signed with the delegate token's
value, with claims `sub` (the account id), `iss` ("Harness Inc"), `iat`, `exp` (`iat` + 600 s) and a random `jti`,
as the token generator in Harness's delegate image makes it. A revoked or unknown token gets 401
`{"code": "INVALID_TOKEN"}`. Answers use the manager's RestResponse envelope, `{"metaData": {}, "resource": X,
"responseMessages": []}`; errors are `{"code", "message", "responseMessages": [{"code", "level", "message"}]}`.
Every path takes `accountId` as a query parameter.

    POST /api/agent/delegates/register
        {delegateName, hostName, delegateType: "DOCKER", tags: [..], version, description,
         orgIdentifier?, projectIdentifier?, runningTaskIds: [..]}
        -> {delegateId, delegateName, status: "ENABLED", heartbeatIntervalMs}
        Registering again under the same name keeps the delegate id. Tasks the manager gave this delegate that
        are neither in `runningTaskIds` nor finished are queued again: the delegate restarted and lost them.
    POST /api/agent/delegates/heartbeat-with-polling
        {delegateId, runningTaskIds: [..]}
        -> {delegateId, status: "ENABLED", abortTaskIds: [..]}
        404 {"code": "DELEGATE_NOT_FOUND"} means register again. `abortTaskIds` are running tasks the manager
        gave up on (the step timed out, the execution was aborted): kill them and report ABORTED.
    GET  /api/agent/delegates/{delegateId}/task-events?wait=SECONDS&max=N
        -> [{delegateTaskId, taskType}]
        A long poll: answers as soon as a queued task this delegate may run exists, or with [] after `wait`
        seconds (at most 30).
    PUT  /api/agent/delegates/{delegateId}/tasks/{delegateTaskId}/acquire
        -> TaskPayload (below)
        409 {"code": "TASK_ALREADY_TAKEN"} when another delegate took it or it is no longer queued.
    POST /api/agent/v2/tasks/{delegateTaskId}/delegates/{delegateId}
        TaskResult (below) -> {accepted: bool, reason}
        Idempotent: delivering the same result again answers 200 as the first time did. `accepted` is false when
        the step no longer waits for it (it timed out or the execution was aborted); the result is delivered.
    POST /api/agent/delegates/{delegateId}/unregister -> {delegateId, status: "DISCONNECTED"}

A task's log lines go to the log service as it runs, and the JUnit reports its step declares go to ti-service
once it ends, both with the same `Authorization` header:

    POST /log-service/stream?accountID=A&key=LOG_KEY
        [{level: "INFO" | "WARN" | "ERROR", out: "text", time: "2026-11-22T10:00:00.000Z"}, ...]
    POST /ti-service/reports/write?accountId&orgId&projectId&pipelineId&buildId=RUN_SEQUENCE&stageId&stepId
         &report=junit
        [{name, class_name, suite_name, file_name, result: {status, message, type, desc}, duration_ms,
          stdout, stderr}, ...]
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["TASK_STATUSES", "LogLine", "TaskEvent", "TaskPayload", "TaskResult", "TaskStatus"]

# INTERRUPTED: the delegate stopped (shut down, or its token was revoked) before the task ended; the manager fails
# the step with DELEGATE_RESTART, which a failure strategy may retry on another delegate.
TaskStatus = Literal["SUCCESS", "FAILURE", "ERROR", "TIMEOUT", "ABORTED", "INTERRUPTED"]
TASK_STATUSES: tuple[TaskStatus, ...] = ("SUCCESS", "FAILURE", "ERROR", "TIMEOUT", "ABORTED", "INTERRUPTED")


class _Wire(BaseModel):
    # Unknown fields are ignored: a newer manager may send more than this delegate knows.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class TaskEvent(_Wire):
    """A queued task the delegate may take."""

    delegate_task_id: str = Field(alias="delegateTaskId")
    task_type: str = Field(alias="taskType")


class TaskPayload(_Wire):
    """What a delegate needs to run one step: the script, its environment and limits, and where its output goes.

    `output_variables` name the shell variables whose values the step exports once the script ends;
    `report_paths` are the step's `reports.spec.paths`, globs relative to the task's working directory.
    """

    delegate_task_id: str = Field(alias="delegateTaskId")
    task_type: str = Field(alias="taskType")  # SHELL_SCRIPT (ShellScript steps) or CI_RUN (Run steps)
    account_id: str = Field(alias="accountId")
    org_identifier: str = Field(alias="orgIdentifier")
    project_identifier: str = Field(alias="projectIdentifier")
    plan_execution_id: str = Field(alias="planExecutionId")
    pipeline_identifier: str = Field(alias="pipelineIdentifier")
    run_sequence: int = Field(alias="runSequence")
    stage_identifier: str = Field(alias="stageIdentifier")
    step_identifier: str = Field(alias="stepIdentifier")
    step_name: str = Field(alias="stepName")
    script: str
    shell: str = "Bash"
    environment: dict[str, str] = Field(default_factory=dict)
    output_variables: list[str] = Field(default_factory=list, alias="outputVariables")
    report_paths: list[str] = Field(default_factory=list, alias="reportPaths")
    timeout_ms: int = Field(alias="timeoutMs")
    log_key: str = Field(alias="logKey")
    attempt: int = 1


class TaskResult(_Wire):
    """How a task ended, as the delegate reports it."""

    status: TaskStatus
    exit_code: int | None = Field(default=None, alias="exitCode")
    error_message: str | None = Field(default=None, alias="errorMessage")
    output_variables: dict[str, str] = Field(default_factory=dict, alias="outputVariables")
    started_at: int = Field(alias="startedAt")  # epoch ms
    finished_at: int = Field(alias="finishedAt")
    reports_uploaded: int = Field(default=0, alias="reportsUploaded")


class LogLine(_Wire):
    """One line of a task's log, as the log service stores it."""

    level: Literal["INFO", "WARN", "ERROR"] = "INFO"
    out: str
    time: str
