"""Flaky-test detection: which tests fail for no reason in the code, how sure that is, what they cost, and what
to do about each. Pure: rows in, a `FlakyReport` out; the clock is the `until_ms` argument.

Three detectors, whose verdicts agree with the FLAKY badges of Harness CI and CircleCI where they overlap:

- Same-commit evidence: a test that failed and passed on the same commit in the window (14 days by default),
  whether in two executions, by passing on retry inside one, or as a flaky result reported by the test runner.
  It recovers after 5 consecutive passes (known only from a history) or by leaving the window.
- The default-branch history detector: flips and failures that no code change explains, with minimum samples and
  hysteresis (see `flaky_history.branch_flips`).
- Broken: every first attempt failed since a commit, with no pass since and none, at any attempt or on any branch,
  on the commits of the streak (from a history, on the default branch when one is named), or no pass at all in
  the window (from the aggregates alone). A streak through a commit that also passed is flakiness.

Runs are first attempts, so retries cannot hide flakiness; results on commits and executions the outage guard sets
aside count for nothing. The score is the posterior mean of the first-attempt failure probability with its
Jeffreys interval.

What the service supplies, for the window `[policy.since(until_ms), until_ms)`:

- `totals`: `Store.test_totals(since_ms=..., until_ms=...)` (every test's counts; drives which tests exist).
- `commits`: `Store.test_outcomes_by_commit(since_ms=..., until_ms=...)` with the default `only_failing=True`.
- `histories` (optional): `Store.test_history(test_id, since_ms=since_ms, limit=200)` for the tests that
  `history_candidates` names; needed for recovery, the default-branch detector, "broken since" after earlier
  passes, and environment dependence. Without them those parts are skipped, not guessed.
- `executions` (optional): `ExecutionTestsRow`s, one aggregate over executions (see `flaky_impact`), for the
  exact outage guard and the execution-level impact; without them the guard falls back to commits on which a
  large share of all tests failed.
- `default_branch`, `known_flaky` (tests flagged or quarantined before), `owners` and `test_paths`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from operator import attrgetter
from typing import TYPE_CHECKING

from harness_connector.analysis.flaky_history import should_lift
from harness_connector.analysis.flaky_impact import (
    ExecutionImpact,
    TestCost,
    execution_impact,
    failure_trend,
    mass_failure_commits,
    outage_guard,
    trend_of,
)
from harness_connector.analysis.flaky_judge import Context, Judged, collect, judge
from harness_connector.analysis.flaky_models import (
    DAY_MS,
    Classification,
    ExecutionTestsRow,
    FlakyImpact,
    FlakyPolicy,
    FlakyReport,
    FlakyVerdict,
    OutageGuard,
    Recommendation,
    TestImpact,
    Trend,
)
from harness_connector.analysis.flaky_owners import CodeOwners
from harness_connector.analysis.flaky_recommend import recommend
from harness_connector.analysis.flaky_stats import jeffreys_interval

# Annotations only: importing the store package at run time would load its database engine.
if TYPE_CHECKING:
    from harness_connector.store.rows import TestCommitRow, TestRunRow, TestTotalsRow

__all__ = [
    "DEFAULT_POLICY",
    "Classification",
    "CodeOwners",
    "ExecutionTestsRow",
    "FlakyImpact",
    "FlakyPolicy",
    "FlakyReport",
    "FlakyVerdict",
    "OutageGuard",
    "Recommendation",
    "TestImpact",
    "Trend",
    "detect_flaky",
    "history_candidates",
    "outage_guard",
    "should_lift",
]

DEFAULT_POLICY = FlakyPolicy()
_LAST_MS = attrgetter("last_ms")
_RANK = {Classification.BROKEN: 0, Classification.SLOW_AND_FLAKY: 1, Classification.FLAKY: 1, Classification.STABLE: 2}


def _guard(
    outage: OutageGuard | None,
    executions: Sequence[ExecutionTestsRow] | None,
    commits: Sequence[TestCommitRow],
    tests: int,
    policy: FlakyPolicy,
) -> OutageGuard:
    if outage is not None:
        return outage
    if executions is not None:
        return outage_guard(executions, share=policy.outage_share, min_tests=policy.outage_min_tests)
    shared = mass_failure_commits(commits, tests=tests, share=policy.outage_share, min_tests=policy.outage_min_tests)
    return OutageGuard(commits=shared)


def history_candidates(
    totals: Sequence[TestTotalsRow],
    commits: Sequence[TestCommitRow],
    *,
    policy: FlakyPolicy = DEFAULT_POLICY,
    outage: OutageGuard | None = None,
    executions: Sequence[ExecutionTestsRow] | None = None,
) -> list[str]:
    """The tests whose histories would change or sharpen their verdicts, most useful first, at most
    `policy.max_histories`: tests whose latest results are all failures (broken?), then tests with same-commit
    evidence (recovered?), then tests that failed on several commits (flipping on the default branch?)."""
    guard = _guard(outage, executions, commits, len(totals), policy)
    last_run = {row.test_id: row.last_ms for row in totals}
    ranked: list[tuple[int, int, str]] = []
    for test_id, evidence in collect(commits, guard.commits).items():
        if test_id not in last_run or not evidence.rows:
            continue
        latest = max(evidence.rows, key=_LAST_MS)
        if latest.last_ms >= last_run[test_id] and not (latest.passed or latest.retries_passed or latest.flaky):
            ranked.append((0, -len(evidence.rows), test_id))
        elif evidence.same_commit:
            ranked.append((1, -evidence.same_commit, test_id))
        elif len(evidence.rows) >= 2:
            ranked.append((2, -len(evidence.rows), test_id))
    ranked.sort()
    return [test_id for _, _, test_id in ranked[: policy.max_histories]]


def _pipelines(judged: Judged, cost: TestCost | None) -> tuple[str, ...]:
    found = set(cost.pipelines) if cost is not None else set()
    if judged.history is not None:
        found.update(
            row.pipeline_id
            for row in judged.history
            if row.pipeline_id is not None and row.outcome.value in ("failed", "error", "flaky")
        )
    return tuple(sorted(found))


@dataclass(frozen=True, slots=True)
class _Extras:
    owners: CodeOwners | None
    test_paths: Mapping[str, str]
    executions: ExecutionImpact | None
    buckets: int


def _verdict(judged: Judged, ctx: Context, extras: _Extras) -> FlakyVerdict:
    policy, totals, evidence = ctx.policy, judged.totals, judged.evidence
    score, low, high = jeffreys_interval(max(judged.failures, 0), max(judged.runs, 0), level=policy.level)
    cost = extras.executions.per_test.get(totals.test_id) if extras.executions is not None else None
    bucket_ms = policy.trend_bucket_days * DAY_MS
    rows = evidence.rows if evidence is not None else ()
    owners = extras.owners
    impact = TestImpact(
        failed_executions=None if extras.executions is None else (cost.failed_executions if cost else 0),
        reruns=None if extras.executions is None else (cost.reruns if cost else 0),
        test_retries=judged.retries,
        ci_minutes_lost=judged.retries * totals.mean_duration_ms / 60_000 + (cost.execution_minutes if cost else 0.0),
        pipelines=_pipelines(judged, cost),
        owners=owners.owners_of_test(totals.suite, totals.class_name, path=extras.test_paths.get(totals.test_id))
        if owners is not None
        else (),
        trend=failure_trend(rows, start_ms=ctx.since_ms, bucket_ms=bucket_ms, buckets=extras.buckets),
    )
    flips = judged.flips
    verdict = FlakyVerdict(
        test_id=totals.test_id,
        suite=totals.suite,
        class_name=totals.class_name,
        name=totals.name,
        classification=judged.classification,
        score=score,
        ci_low=low,
        ci_high=high,
        runs=judged.runs,
        failures=judged.failures,
        retries=judged.retries,
        retries_passed=judged.retries_passed,
        same_commit_commits=evidence.same_commit if evidence is not None else 0,
        pass_on_retry_commits=evidence.pass_on_retry if evidence is not None else 0,
        runner_flaky=evidence.runner_flaky if evidence is not None else 0,
        flips=flips.flips if flips is not None else None,
        flip_rate=flips.flip_rate if flips is not None else None,
        first_flaky_ms=judged.first_flaky[0],
        first_flaky_commit=judged.first_flaky[1],
        last_flaky_ms=evidence.last_ms if evidence is not None else None,
        broken_since_ms=judged.broken[1],
        broken_since_commit=judged.broken[2],
        broken_runs=judged.broken[0],
        passes_since_failure=judged.passes,
        recovered=judged.recovered,
        mean_duration_ms=totals.mean_duration_ms,
        detectors=tuple(judged.detectors),
        environment=judged.environment,
        impact=impact,
        recommendation=None,
        reason="",
    )
    recommendation, reason = recommend(verdict, policy=policy, until_ms=ctx.until_ms)
    return replace(verdict, recommendation=recommendation, reason=reason)


def _informative(judged: Judged, ctx: Context) -> bool:
    return (
        judged.classification is not Classification.STABLE
        or (judged.evidence is not None and judged.evidence.same_commit > 0)
        or judged.history is not None
        or judged.totals.test_id in ctx.known_flaky
    )


def _report_impact(
    verdicts: Sequence[FlakyVerdict], executions: ExecutionImpact | None, ctx: Context, buckets: int
) -> FlakyImpact:
    flaky = [v for v in verdicts if v.classification in (Classification.FLAKY, Classification.SLOW_AND_FLAKY)]
    counts = [0] * buckets
    for verdict in flaky:
        for index, count in enumerate(verdict.impact.trend.counts):
            counts[index] += count
    retry_minutes = sum(v.retries * v.mean_duration_ms / 60_000 for v in flaky)
    pipelines = executions.pipelines if executions is not None else {p for v in flaky for p in v.impact.pipelines}
    return FlakyImpact(
        failed_executions=executions.failed_executions if executions is not None else None,
        reruns=executions.reruns if executions is not None else None,
        test_retries=sum(v.retries for v in flaky),
        ci_minutes_lost=retry_minutes + (executions.minutes if executions is not None else 0.0),
        pipelines=tuple(sorted(pipelines)),
        owners=tuple(sorted({owner for v in flaky for owner in v.impact.owners})),
        trend=trend_of(counts, start_ms=ctx.since_ms, bucket_ms=ctx.policy.trend_bucket_days * DAY_MS),
    )


def detect_flaky(
    totals: Sequence[TestTotalsRow],
    commits: Sequence[TestCommitRow],
    *,
    until_ms: int,
    histories: Mapping[str, Sequence[TestRunRow]] | None = None,
    executions: Sequence[ExecutionTestsRow] | None = None,
    outage: OutageGuard | None = None,
    default_branch: str | None = None,
    known_flaky: Collection[str] = (),
    owners: CodeOwners | None = None,
    test_paths: Mapping[str, str] | None = None,
    policy: FlakyPolicy = DEFAULT_POLICY,
    include_stable: bool = False,
) -> FlakyReport:
    """Classify every test that failed in the window ending at `until_ms`, score it, measure its impact and
    recommend what to do (see the module docstring for where each input comes from).

    `outage` overrides the guard derived from `executions` (or, without them, from the commits). Tests in
    `known_flaky` start the default-branch detector as flaky, so they stay flagged until clearly stable.

    Stable tests get a verdict when it says something: they recovered, had same-commit evidence below the
    policy's minimum, came with a history, or are in `known_flaky`. With `include_stable`, every test that failed
    in the window gets one (on a large store, tens of thousands).
    """
    since_ms = policy.since(until_ms)
    guard = _guard(outage, executions, commits, len(totals), policy)
    ctx = Context(policy, since_ms, until_ms, guard.executions, default_branch, frozenset(known_flaky))
    evidence = collect(commits, guard.commits)
    histories = histories or {}
    judged = [
        j for row in totals if (j := judge(row, evidence.get(row.test_id), ctx, histories.get(row.test_id))) is not None
    ]
    flaky_ids = {
        j.totals.test_id for j in judged if j.classification in (Classification.FLAKY, Classification.SLOW_AND_FLAKY)
    }
    impact = (
        execution_impact(
            executions, flaky_ids, tests={j.totals.test_id for j in judged}, ignore_executions=guard.executions
        )
        if executions is not None
        else None
    )
    buckets = max(1, math.ceil(policy.window_ms / (policy.trend_bucket_days * DAY_MS)))
    extras = _Extras(owners, test_paths or {}, impact, buckets)
    verdicts = sorted(
        (_verdict(j, ctx, extras) for j in judged if include_stable or _informative(j, ctx)),
        key=lambda v: (_RANK[v.classification], -(v.impact.failed_executions or 0), -v.score, v.test_id),
    )
    return FlakyReport(
        since_ms=since_ms,
        until_ms=until_ms,
        tests=len(totals),
        flaky=sum(1 for v in verdicts if v.classification is Classification.FLAKY),
        slow_and_flaky=sum(1 for v in verdicts if v.classification is Classification.SLOW_AND_FLAKY),
        broken=sum(1 for v in verdicts if v.classification is Classification.BROKEN),
        stable=sum(1 for j in judged if j.classification is Classification.STABLE),
        verdicts=tuple(verdicts),
        impact=_report_impact(verdicts, impact, ctx, buckets),
        ignored_executions=len(guard.executions),
        ignored_commits=len(guard.commits),
    )
