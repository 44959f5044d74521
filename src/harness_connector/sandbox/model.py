"""The sandbox's own record of an execution, from which every Harness response shape is rendered.

An execution is stored compactly (stages, steps, times, failures, and a recipe for each step's log) and turned
into the summary, `layoutNodeMap` and `executionGraph` shapes on request. The scenario generator writes these
records for history; runs started through the API write the same records, so history and live runs share one
model. Times are epoch milliseconds, as in Harness.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness_connector.domain.status import ExecutionStatus

__all__ = ["ExecutionRecord", "LogRecipe", "StageRun", "StepRun", "TestCaseRow"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LogRecipe(_Record):
    """How to render a step's log deterministically without storing it.

    `family` names an entry of the scenario's log catalogue (a build of a language, a deploy, a failure);
    `seed` fixes every random choice; `lines` is the approximate length. `params` fill the family's
    placeholders (the failing host, the failing test names, the missing secret, ...).
    """

    family: str
    seed: int
    lines: int = 200
    params: dict[str, Any] = Field(default_factory=dict)


class TestCaseRow(_Record):
    """One JUnit test case result, as ti-service stores it for a step."""

    __test__ = False

    suite: str
    class_name: str
    name: str
    status: str  # passed | failed | error | skipped
    duration_ms: int
    file_name: str | None = None
    message: str | None = None
    failure_type: str | None = None
    stdout: str | None = None
    stderr: str | None = None


class StepRun(_Record):
    """One step of a stage."""

    identifier: str
    name: str
    step_type: str  # Run, ShellScript, Http, BuildAndPushDockerRegistry, K8sRollingDeploy, K8sCanaryDeploy, ...
    status: ExecutionStatus
    start_ts: int | None = None
    end_ts: int | None = None
    failure_message: str | None = None
    failure_types: list[str] = Field(default_factory=list)
    delegate: str | None = None
    delegate_selectors: list[str] = Field(default_factory=list)
    log: LogRecipe | None = None
    has_reports: bool = False
    retries: int = 0
    timeout: str = "10m"
    spec: dict[str, Any] = Field(default_factory=dict)
    output_variables: dict[str, str] = Field(default_factory=dict)
    failure_strategies: list[Any] = Field(default_factory=list)  # the step's own `failureStrategies`
    task_id: str | None = None  # the delegate task running this attempt, when a live delegate runs it
    not_before: int | None = None  # a retry waits for its interval before it starts again


class StageRun(_Record):
    """One stage of an execution; stages sharing a `parallel_group` ran side by side."""

    identifier: str
    name: str
    stage_type: str  # CI, Deployment, Approval, Custom
    module: str  # ci, cd, pms
    status: ExecutionStatus
    start_ts: int | None = None
    end_ts: int | None = None
    steps: list[StepRun] = Field(default_factory=list)
    parallel_group: int | None = None
    failure_message: str | None = None
    failure_types: list[str] = Field(default_factory=list)
    service_id: str | None = None
    environment_id: str | None = None
    environment_type: str | None = None  # Production | PreProduction
    infrastructure_id: str | None = None
    deployment_type: str | None = None  # Kubernetes, ...
    strategy: str | None = None  # Rolling, Canary, BlueGreen
    artifact: str | None = None  # image:tag
    failure_strategies: list[Any] = Field(default_factory=list)


class ExecutionRecord(_Record):
    """A pipeline execution: what was run, why, and how each stage and step went."""

    plan_execution_id: str
    org: str
    project: str
    pipeline_id: str
    pipeline_name: str
    run_sequence: int
    status: ExecutionStatus
    start_ts: int
    end_ts: int | None = None
    created_at: int
    module: str = "ci"  # the pipeline's main module: ci, cd, or pms for custom pipelines
    trigger_type: str = "MANUAL"  # MANUAL, WEBHOOK, WEBHOOK_CUSTOM, SCHEDULER_CRON
    triggered_by: str = "sandbox.user"
    triggered_by_email: str | None = "sandbox.user@example.com"
    branch: str | None = None
    target_branch: str | None = None
    commit_sha: str | None = None
    commit_message: str | None = None
    repo: str | None = None
    pr_number: int | None = None
    is_rerun: bool = False
    retry_of: str | None = None  # the execution this one retried
    root_execution_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    input_set_yaml: str = ""
    failure_message: str | None = None
    failure_types: list[str] = Field(default_factory=list)
    stages: list[StageRun] = Field(default_factory=list)
    aborted_by: str | None = None
    failure_strategies: list[Any] = Field(default_factory=list)  # the pipeline's `failureStrategies`
    variables: dict[str, str] = Field(default_factory=dict)  # the pipeline's variables, inputs resolved
