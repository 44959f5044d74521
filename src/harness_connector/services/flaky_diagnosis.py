"""Flaky tests for a model to reason about: one test's diagnosis for harness_diagnose, and the summary harness_status
adds when a history store is open.

Both read the same report as the `flaky_test` type, so the numbers agree wherever a model meets them.
"""

from __future__ import annotations

from typing import Any

import anyio
from pydantic import BaseModel, ConfigDict, Field

from harness_connector.analysis.flaky import Classification, FlakyVerdict, Recommendation
from harness_connector.domain.quarantine import QuarantineProposal, QuarantineStatus
from harness_connector.services.connection import Connection
from harness_connector.services.flaky import explain_test, flaky_report
from harness_connector.services.flaky_tests import DEFAULT_WINDOW_DAYS, by_impact, test_label
from harness_connector.services.local_model import require_store
from harness_connector.services.shaping import iso_time
from harness_connector.store import TestRunRow

__all__ = [
    "FlakyHeadline",
    "FlakySummary",
    "ProposalHeadline",
    "TestDiagnosis",
    "TestNumbers",
    "TestRun",
    "TestWhy",
    "diagnose_test",
    "flaky_summary",
]

SHORT_HISTORY = 10  # newest results shown with a diagnosis
TOP_TESTS = 3
LISTED_PROPOSALS = 5
_MESSAGE_CHARS = 200
_OPEN = frozenset({QuarantineStatus.PROPOSED, QuarantineStatus.APPROVED})
_NEXT_STEP = {
    Recommendation.QUARANTINE: "propose its quarantine (harness_execute resource_type=quarantine action=propose); "
    "a person then approves it",
    Recommendation.MOVE_TO_SCHEDULED: "move it to a scheduled pipeline, where its flakes stop blocking changes",
    Recommendation.FIX_NOW: "fix it now, starting from the commit the reason names",
    Recommendation.MONITOR: "nothing yet: keep watching it (harness_list resource_type=flaky_test)",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TestRun(_Model):
    """One recent result of the test."""

    __test__ = False

    outcome: str
    at: str | None = None
    execution_id: str
    pipeline_id: str | None = None
    commit_sha: str | None = None
    branch: str | None = None
    attempt: int
    duration_ms: int
    message: str | None = None


class TestWhy(_Model):
    """Why the test is classified so: the reason in words, the detectors that fired, and when it started."""

    __test__ = False

    reason: str
    detectors: list[str] = Field(default_factory=list)
    environment: str | None = Field(default=None, description="Why its failures look environment-dependent.")
    first_flaky_at: str | None = None
    first_flaky_commit: str | None = None
    broken_since_at: str | None = None
    broken_since_commit: str | None = None


class TestNumbers(_Model):
    """The counts behind the verdict (first attempts over the window, outages left out) and what it cost."""

    __test__ = False

    runs: int
    failures: int
    retries: int
    retries_passed: int
    same_commit_commits: int
    pass_on_retry_commits: int
    flips: int | None = None
    flip_rate: float | None = None
    passes_since_failure: int | None = None
    broken_runs: int
    mean_duration_ms: int
    failed_executions: int | None = None
    reruns: int | None = None
    ci_minutes_lost: float
    pipelines: list[str] = Field(default_factory=list)
    owners: list[str] = Field(default_factory=list)
    trend: str = Field(description="Where first-attempt failures are heading over the window.")


class TestDiagnosis(_Model):
    """Is this test flaky, broken or stable, how sure is that, why, and what to do."""

    __test__ = False

    test_id: str
    test: str
    suite: str
    window_days: int
    classification: str
    score: float | None = Field(default=None, description="Estimated failure rate of a first attempt.")
    interval: list[float] | None = Field(default=None, description="95% credible interval of the score.")
    why: TestWhy
    numbers: TestNumbers | None = None
    recommendation: str | None = None
    next_step: str
    quarantine: str | None = Field(default=None, description="Its open quarantine proposal: id and status.")
    history: list[TestRun]


def _at(epoch_ms: int | None) -> str | None:
    return iso_time(epoch_ms) if epoch_ms is not None else None


def _run(row: TestRunRow) -> TestRun:
    message = " ".join(row.message.split())[:_MESSAGE_CHARS] if row.message else None
    return TestRun(
        outcome=str(row.outcome),
        at=_at(row.run_ms),
        execution_id=row.execution_id,
        pipeline_id=row.pipeline_id,
        commit_sha=row.commit_sha,
        branch=row.branch,
        attempt=row.attempt,
        duration_ms=row.duration_ms,
        message=message or None,
    )


def _numbers(verdict: FlakyVerdict) -> TestNumbers:
    impact = verdict.impact
    return TestNumbers(
        runs=verdict.runs,
        failures=verdict.failures,
        retries=verdict.retries,
        retries_passed=verdict.retries_passed,
        same_commit_commits=verdict.same_commit_commits,
        pass_on_retry_commits=verdict.pass_on_retry_commits,
        flips=verdict.flips,
        flip_rate=round(verdict.flip_rate, 4) if verdict.flip_rate is not None else None,
        passes_since_failure=verdict.passes_since_failure,
        broken_runs=verdict.broken_runs,
        mean_duration_ms=round(verdict.mean_duration_ms),
        failed_executions=impact.failed_executions,
        reruns=impact.reruns,
        ci_minutes_lost=round(impact.ci_minutes_lost, 1),
        pipelines=list(impact.pipelines),
        owners=list(impact.owners),
        trend=str(impact.trend.direction),
    )


def _why(verdict: FlakyVerdict) -> TestWhy:
    return TestWhy(
        reason=verdict.reason,
        detectors=list(verdict.detectors),
        environment=verdict.environment,
        first_flaky_at=_at(verdict.first_flaky_ms),
        first_flaky_commit=verdict.first_flaky_commit,
        broken_since_at=_at(verdict.broken_since_ms),
        broken_since_commit=verdict.broken_since_commit,
    )


def _open_proposal(proposals: list[QuarantineProposal], test_id: str) -> str | None:
    found = next((p for p in proposals if p.test_id == test_id), None)
    return f"{found.proposal_id} ({found.status})" if found is not None else None


async def diagnose_test(
    conn: Connection, test_id: str, *, now_ms: int, window_days: int = DEFAULT_WINDOW_DAYS
) -> TestDiagnosis:
    """One test's verdict over the window with every number, what to do next, and its newest results.

    Raises:
        UsageError: no store is open, or the store holds no result of the test in the window.
    """
    store = require_store(conn)
    found = await anyio.to_thread.run_sync(lambda: explain_test(store, test_id, now_ms=now_ms, window_days=window_days))
    proposals = await anyio.to_thread.run_sync(lambda: store.quarantines(statuses=_OPEN))
    first, verdict = found.history[0], found.verdict
    common: dict[str, Any] = {
        "test_id": test_id,
        "test": test_label(first.class_name, first.suite, first.name),
        "suite": first.suite,
        "window_days": window_days,
        "quarantine": _open_proposal(proposals, test_id),
        "history": [_run(row) for row in found.history[:SHORT_HISTORY]],
    }
    if verdict is None:
        return TestDiagnosis(
            **common,
            classification=str(Classification.STABLE),
            why=TestWhy(reason=f"no failure in the last {window_days} days outside outages"),
            next_step="nothing to do: it has not failed in the window",
        )
    return TestDiagnosis(
        **common,
        classification=str(verdict.classification),
        score=round(verdict.score, 4),
        interval=[round(verdict.ci_low, 4), round(verdict.ci_high, 4)],
        why=_why(verdict),
        numbers=_numbers(verdict),
        recommendation=str(verdict.recommendation) if verdict.recommendation else None,
        next_step=_NEXT_STEP[verdict.recommendation] if verdict.recommendation else "nothing to do: it is stable",
    )


class FlakyHeadline(_Model):
    """One of the costliest flaky or broken tests."""

    test_id: str = Field(description="resource_id for harness_get resource_type=flaky_test or test_result.")
    test: str
    classification: str
    failed_executions: int | None = None
    ci_minutes_lost: float
    recommendation: str | None = None


class ProposalHeadline(_Model):
    """A quarantine proposal waiting for a person."""

    proposal_id: str
    test_id: str
    test: str
    proposed_at: str


class FlakySummary(_Model):
    """Flaky tests in the history store over the last `window_days`, and quarantines awaiting approval."""

    window_days: int
    flaky: int
    slow_and_flaky: int
    broken: int
    top: list[FlakyHeadline] = Field(description="The costliest, by failed executions then CI minutes lost.")
    awaiting_approval: int
    proposals: list[ProposalHeadline]
    hint: str


def _headline(verdict: FlakyVerdict) -> FlakyHeadline:
    return FlakyHeadline(
        test_id=verdict.test_id,
        test=test_label(verdict.class_name, verdict.suite, verdict.name),
        classification=str(verdict.classification),
        failed_executions=verdict.impact.failed_executions,
        ci_minutes_lost=round(verdict.impact.ci_minutes_lost, 1),
        recommendation=str(verdict.recommendation) if verdict.recommendation else None,
    )


def _proposal_headline(proposal: QuarantineProposal) -> ProposalHeadline:
    return ProposalHeadline(
        proposal_id=proposal.proposal_id,
        test_id=proposal.test_id,
        test=test_label(proposal.class_name, proposal.suite, proposal.name),
        proposed_at=iso_time(proposal.proposed_ms),
    )


async def flaky_summary(conn: Connection, *, now_ms: int) -> FlakySummary | None:
    """The flaky summary for status, or None without a store or when it has nothing to say.

    One flaky report and one proposals query: the report's aggregates are what the `flaky_test` list reads too.
    """
    if conn.store is None:
        return None
    store = conn.store
    report = await anyio.to_thread.run_sync(lambda: flaky_report(store, now_ms=now_ms, window_days=DEFAULT_WINDOW_DAYS))
    waiting = await anyio.to_thread.run_sync(lambda: store.quarantines(statuses={QuarantineStatus.PROPOSED}))
    flagged = [v for v in report.verdicts if v.classification is not Classification.STABLE]
    if not flagged and not waiting:
        return None
    hint = "harness_list resource_type=flaky_test for all of them; harness_diagnose resource_type=test explains one"
    if waiting:
        hint += "; harness_list resource_type=quarantine filters={status: proposed} shows the proposals' evidence"
    return FlakySummary(
        window_days=DEFAULT_WINDOW_DAYS,
        flaky=report.flaky,
        slow_and_flaky=report.slow_and_flaky,
        broken=report.broken,
        top=[_headline(v) for v in sorted(flagged, key=by_impact)[:TOP_TESTS]],
        awaiting_approval=len(waiting),
        proposals=[_proposal_headline(p) for p in waiting[:LISTED_PROPOSALS]],
        hint=hint,
    )
