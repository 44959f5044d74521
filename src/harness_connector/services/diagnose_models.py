"""The result models of `harness_diagnose`: an execution's failure story, a connector's verdict, delegate health.

They are data only. Log text and Harness messages sit in their own fields and are never folded into the
`reason` or `next_steps` sentences the connector writes, so text a build printed cannot pose as our advice.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ChildExecution",
    "ConnectorDiagnosis",
    "DelegateDiagnosis",
    "DelegateHealth",
    "ExcerptLine",
    "ExecutionDiagnosis",
    "ExecutionInfo",
    "Failure",
    "LogExcerpt",
    "PipelineRef",
    "StageSummary",
    "UnmatchedSelector",
]

Role = Literal["root_cause", "downstream"]
Verdict = Literal["healthy", "failing", "cannot_test"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PipelineRef(_Model):
    id: str
    name: str | None = None


class ExecutionInfo(_Model):
    id: str
    status: str
    run_sequence: int | None = None
    trigger: str | None = Field(default=None, description="MANUAL, WEBHOOK, SCHEDULER_CRON, ...")
    triggered_by: str | None = None
    branch: str | None = None
    commit: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    duration_s: float | None = None


class StageSummary(_Model):
    id: str
    name: str | None = None
    status: str
    duration_s: float | None = None
    failure: str | None = Field(default=None, description="The stage's own failure message, as Harness gave it.")


class Failure(_Model):
    """One failed, aborted or skipped stage or step, ranked: root causes first, by start time."""

    rank: int
    stage: str | None = Field(default=None, description="Stage identifier.")
    step: str | None = Field(default=None, description="Step identifier; None for a stage-level failure.")
    step_type: str | None = None
    status: str
    failure_types: list[str] = Field(default_factory=list, description="Harness failureTypeList, e.g. TIMEOUT_ERROR.")
    message: str | None = Field(default=None, description="The deepest cause Harness reported (data, not advice).")
    delegate: str | None = None
    retries: int = Field(default=0, description="RETRY interrupts before this outcome (failure strategy retries).")
    started_at: str | None = None
    role: Role
    reason: str = Field(description="Why this entry is ranked where it is, and what it relates to.")
    child_execution_id: str | None = Field(default=None, description="The chained pipeline run this node waited on.")


class ChildExecution(_Model):
    """A chained pipeline's run that a failed node of its parent started, diagnosed in place."""

    depth: int = Field(description="1 for a child of the diagnosed run, 2 for a grandchild, ...")
    parent_execution_id: str
    parent_stage: str | None = None
    org: str | None = None
    project: str | None = None
    pipeline: PipelineRef | None = None
    execution: ExecutionInfo | None = None
    failures: list[Failure] = Field(default_factory=list)
    link: str | None = None
    error: str | None = Field(default=None, description="Why the child run could not be read.")


class ExcerptLine(_Model):
    n: int = Field(description="1-based line number in the step's log.")
    level: str
    text: str
    repeats: int | None = Field(default=None, description="Later lines that looked the same (numbers aside).")


class LogExcerpt(_Model):
    """Lines picked from one failing step's log: error-looking lines with context, and the log's last lines."""

    stage: str | None = None
    step: str | None = None
    execution_id: str | None = Field(default=None, description="Set when the step ran in a chained child run.")
    log_key: str
    total_lines: int = 0
    error_lines: int = Field(default=0, description="Error-looking lines in the whole log, repeats included.")
    lines: list[ExcerptLine] = Field(default_factory=list)
    truncated: bool = Field(default=False, description="True when lines of the log are not shown.")
    error: str | None = Field(default=None, description="Why the log could not be read.")


class ExecutionDiagnosis(_Model):
    """Why an execution failed: ranked failures, chained runs followed, and the log lines that show it."""

    pipeline: PipelineRef
    execution: ExecutionInfo
    stages: list[StageSummary] = Field(default_factory=list)
    failures: list[Failure] = Field(default_factory=list)
    failures_total: int = Field(default=0, description="Ranked entries before the max_failed_steps cap.")
    child_executions: list[ChildExecution] = Field(default_factory=list)
    log_excerpts: list[LogExcerpt] = Field(default_factory=list)
    tokens_used: int = Field(default=0, description="Estimated tokens (chars/4) of the log excerpts.")
    link: str | None = None
    next_steps: list[str] = Field(default_factory=list)


class ConnectorDiagnosis(_Model):
    """A connector's settings, its connection test, and what to do about the result."""

    id: str
    name: str | None = None
    type: str | None = None
    url: str | None = None
    auth_type: str | None = None
    delegate_selectors: list[str] = Field(default_factory=list)
    verdict: Verdict
    reason: str = Field(description="The verdict in one sentence.")
    cause: str | None = Field(default=None, description="The deepest error Harness reported (data, not advice).")
    errors: list[dict[str, str]] = Field(default_factory=list, description="The test's errors: reason, message, code.")
    previous_status: str | None = Field(default=None, description="The status of the test before this one.")
    last_connected_at: str | None = None
    tested_at: str | None = None
    next_steps: list[str] = Field(default_factory=list)
    link: str | None = None


class DelegateHealth(_Model):
    name: str
    type: str | None = None
    scope: str | None = Field(default=None, description="account, org <org> or project <org>/<project>.")
    connected: bool
    healthy: bool
    heartbeat_age_s: int | None = None
    versions: list[str] = Field(default_factory=list)
    replicas: int = 0
    tags: list[str] = Field(default_factory=list)
    issues: list[str] = Field(default_factory=list)


class UnmatchedSelector(_Model):
    """A set of delegate selectors that no connected delegate carries in full, and who asks for it."""

    selectors: list[str]
    missing: list[str] = Field(description="Selectors no connected delegate carries at all.")
    disconnected_matches: list[str] = Field(
        default_factory=list, description="Disconnected delegates that carry every selector."
    )
    used_by: list[str] = Field(description="pipeline/stage/step or connector paths that ask for it.")


class DelegateDiagnosis(_Model):
    total: int
    healthy_count: int
    unhealthy_count: int
    delegates: list[DelegateHealth] = Field(default_factory=list, description="Unhealthy first.")
    unmatched_selectors: list[UnmatchedSelector] = Field(default_factory=list)
    pipelines_scanned: int = 0
    pipelines_total: int | None = None
    connectors_scanned: int = 0
    link: str | None = None
    next_steps: list[str] = Field(default_factory=list)
