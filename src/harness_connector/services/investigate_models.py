"""What an investigation returns: a verdict a person can act on, and the evidence behind it.

Plain pydantic models, so the MCP tool validates its structured output against them and the CLI prints them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from harness_connector.services.diagnose_models import ExecutionDiagnosis

__all__ = ["EvidenceLine", "FailedStep", "HistoryEvidence", "Investigation", "LogInvestigation", "Verdict"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Verdict(_Model):
    """Why it failed, whether it is transient, and what to do."""

    category: str = Field(description="dependency_registry_outage, network, rate_limit, runner_environment, timeout, "
                          "authentication, configuration, compile_error, test_failure, deployment, approval_rejected "
                          "or unknown.")  # fmt: skip
    transient: bool = Field(description="True when the same run is expected to pass without a change.")
    confidence: float = Field(ge=0, le=1)
    recommendation: Literal["rerun_now", "rerun_after_outage", "fix"]
    summary: str = Field(description="One sentence: what happened and what to do.")
    remediation: str
    rule: str | None = Field(default=None, description="The taxonomy rule that matched; None when none did.")
    reasons: list[str] = Field(default_factory=list, description="The signals that decided, strongest first.")
    references: list[str] = Field(default_factory=list)
    failing_tests: list[str] = Field(default_factory=list)


class EvidenceLine(_Model):
    """A log line that supports the verdict."""

    stage: str | None = None
    step: str | None = None
    n: int = Field(description="1-based line number in the step's log.")
    text: str
    why: str = Field(description="matched rule <id> / new since the last success / last line")


class HistoryEvidence(_Model):
    """What the history store added; absent when the store has nothing around this run."""

    other_pipelines_hit: int = 0
    other_executions_hit: int = 0
    network_events: int = 0
    event_hosts: list[str] = Field(default_factory=list)
    step_duration_s: float | None = None
    usual_duration_s: float | None = Field(default=None, description="Median of the step's successful runs.")
    first_seen_commit: str | None = None
    commits_since_success: list[str] = Field(
        default_factory=list, description="Commits run since the pipeline's last success: the suspects."
    )
    last_success_execution: str | None = None
    tests: list[str] = Field(default_factory=list, description="Per failing test: flaky/broken/new and why.")


class FailedStep(_Model):
    stage: str | None = None
    step: str | None = None
    step_type: str | None = None
    failure_types: list[str] = Field(default_factory=list)
    message: str | None = None
    log_lines: int = 0
    new_templates: int | None = Field(
        default=None, description="Log templates of the failure absent from the last successful run of the step."
    )


class Investigation(_Model):
    """An investigated execution: the verdict, its evidence, and the ranked failures behind it."""

    verdict: Verdict
    failed_step: FailedStep | None = None
    evidence: list[EvidenceLine] = Field(default_factory=list)
    history: HistoryEvidence | None = None
    diagnosis: ExecutionDiagnosis
    tokens_used: int = 0


class LogInvestigation(_Model):
    """A standalone log file classified with no Harness at all."""

    verdict: Verdict
    path: str
    log_lines: int
    evidence: list[EvidenceLine] = Field(default_factory=list)
    templates: int = Field(default=0, description="Distinct line templates among the lines examined.")
