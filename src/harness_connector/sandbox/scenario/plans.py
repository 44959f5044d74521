"""What the simulator is asked to run, and what it reports back besides the execution record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness_connector.sandbox.model import ExecutionRecord
from harness_connector.sandbox.scenario.failure import FailureFamily
from harness_connector.sandbox.scenario.faults import Window
from harness_connector.sandbox.scenario.pipelines import PipelineSpec
from harness_connector.sandbox.scenario.timeline import Commit, PullRequest
from harness_connector.sandbox.scenario.world import User

__all__ = ["DeployPlan", "Failure", "RunPlan", "RunResult", "TestAttempt"]


@dataclass(slots=True)
class DeployPlan:
    """A CD run: which image goes out, what the approver does, and whether the release is bad."""

    artifact: str
    previous: str
    decision: str  # approve | reject | expire
    approver: User
    wait_ms: int
    bad_release: bool = False  # canary verification fails
    incident: str = ""  # passes every check, then pages someone (an incident id)
    rollback_of: str = ""  # this run redeploys `previous` after the incident of that execution


@dataclass(slots=True)
class RunPlan:
    """One execution to simulate."""

    id: str
    pipeline: PipelineSpec
    start: int
    trigger_type: str
    user: User
    commit: Commit | None = None
    branch: str | None = None
    target_branch: str | None = None
    pr: PullRequest | None = None
    abort_at: int | None = None  # a newer push (or a person) aborts the run at this time
    retry_of: str | None = None
    root_id: str | None = None
    is_rerun: bool = False
    attempt: int = 1
    deploy: DeployPlan | None = None
    forced: str = ""  # a family this run must hit (so every family appears in short scenarios)
    protected: bool = False  # no window or random failure: the scenario needs this run to reach a given step
    window: Window | None = None  # the window whose family is forced on this run
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def is_pr(self) -> bool:
        return self.pr is not None


@dataclass(slots=True)
class TestAttempt:
    """One run of a test step: per-test durations and the failures (index -> message, flaky?)."""

    __test__ = False

    service: str
    stage: str
    step: str
    durations: list[int]
    failures: dict[int, tuple[str, bool]]


@dataclass(slots=True)
class Failure:
    """Why a run failed, for the ground truth: the family, the step, and what caused it."""

    family: FailureFamily
    stage: str
    step: str
    cause: str  # a window or regression id, "flaky", or "random"
    params: dict[str, Any] = field(default_factory=dict)
    failed_tests: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class RunResult:
    plan: RunPlan
    record: ExecutionRecord
    failure: Failure | None
    tests: list[TestAttempt]
