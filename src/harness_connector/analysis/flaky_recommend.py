"""What to do about a test, and why, in words a person can check against the numbers.

The first rule that applies wins: a broken test is to be fixed now; a flaky test that is clearly flaky and costly
is to be quarantined (the reason says when it is also slow or looks environment-dependent); one below that
threshold that is slow or whose failures look environment-dependent is to move to a scheduled pipeline; one that
started flaking recently is to be fixed while the change is fresh; any other flaky test is to be monitored.
Stable tests get no recommendation, only the reason they are stable.
"""

from __future__ import annotations

from datetime import UTC, datetime

from harness_connector.analysis.flaky_models import (
    DAY_MS,
    Classification,
    FlakyPolicy,
    FlakyVerdict,
    Recommendation,
)

__all__ = ["recommend"]


def _when(ms: int | None) -> str:
    if ms is None:
        return "an unknown time"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _commit(sha: str | None) -> str:
    return sha[:10] if sha else "an unknown commit"


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {plural or word + 's'}"


def _rate(verdict: FlakyVerdict, policy: FlakyPolicy) -> str:
    return (
        f"first attempts failed {verdict.failures} of {verdict.runs} times; estimated failure rate "
        f"{verdict.score:.1%} ({policy.level:.0%} interval {verdict.ci_low:.1%}-{verdict.ci_high:.1%})"
    )


def _evidence(verdict: FlakyVerdict, policy: FlakyPolicy) -> str:
    parts: list[str] = []
    if verdict.same_commit_commits:
        detail = []
        if verdict.pass_on_retry_commits:
            detail.append(f"{verdict.pass_on_retry_commits} passed on retry")
        if verdict.runner_flaky:
            detail.append(f"{_plural(verdict.runner_flaky, 'run')} reported flaky by the test runner")
        suffix = f" ({', '.join(detail)})" if detail else ""
        parts.append(
            f"failed and passed on the same commit {_plural(verdict.same_commit_commits, 'time')} in "
            f"{policy.window_days} days{suffix}"
        )
    if "default_branch" in verdict.detectors and verdict.flips is not None and verdict.flip_rate is not None:
        parts.append(
            f"flipped {verdict.flips} times on the default branch with no code change (rate {verdict.flip_rate:.0%})"
        )
    return "; ".join(parts) if parts else "flagged as flaky before and not yet clearly stable"


def _cost(verdict: FlakyVerdict) -> str:
    impact = verdict.impact
    parts: list[str] = []
    if impact.failed_executions:
        parts.append(
            f"{_plural(impact.failed_executions, 'execution')} failed only because of flaky tests it was among"
        )
    if impact.reruns:
        parts.append(_plural(impact.reruns, "rerun"))
    if impact.test_retries:
        parts.append(_plural(impact.test_retries, "test retry", "test retries"))
    if impact.pipelines:
        parts.append(f"{_plural(len(impact.pipelines), 'pipeline')} affected")
    if impact.ci_minutes_lost >= 0.05:
        parts.append(f"{impact.ci_minutes_lost:.1f} CI minutes lost")
    return "; ".join(parts) if parts else "no measured cost yet"


def _is_clear(verdict: FlakyVerdict) -> bool:
    return verdict.same_commit_commits >= 2 or "default_branch" in verdict.detectors


def _is_costly(verdict: FlakyVerdict, policy: FlakyPolicy) -> bool:
    impact = verdict.impact
    return (
        (impact.failed_executions or 0) >= policy.quarantine_failed_executions
        or len(impact.pipelines) >= policy.quarantine_pipelines
        or verdict.ci_low >= policy.quarantine_failure_rate
    )


def _nature(verdict: FlakyVerdict) -> tuple[str, str] | None:
    """Why a flaky test would be better run on a schedule, if it would: slow, or environment-dependent."""
    if verdict.classification is Classification.SLOW_AND_FLAKY:
        return "slow", f"{verdict.mean_duration_ms / 1000:.0f} s per run on average"
    if verdict.environment:
        return "environment-dependent", verdict.environment
    return None


def _stable_reason(verdict: FlakyVerdict, policy: FlakyPolicy) -> str:
    if verdict.recovered:
        return (
            f"recovered: {verdict.passes_since_failure} first attempts in a row passed since its last flake at "
            f"{_when(verdict.last_flaky_ms)} ({policy.recovery_passes} needed)"
        )
    return f"no failure contradicted by a pass on the same commit; {_rate(verdict, policy)}"


def recommend(verdict: FlakyVerdict, *, policy: FlakyPolicy, until_ms: int) -> tuple[Recommendation | None, str]:
    """The recommendation for a classified test, and its reason (the verdict's own recommendation and reason are
    ignored)."""
    if verdict.classification is Classification.STABLE:
        return None, _stable_reason(verdict, policy)
    if verdict.classification is Classification.BROKEN:
        return Recommendation.FIX_NOW, (
            f"broken: {_plural(verdict.broken_runs, 'first attempt')} in a row failed, with no pass, since commit "
            f"{_commit(verdict.broken_since_commit)} at {_when(verdict.broken_since_ms)}"
        )
    evidence, rate, cost = _evidence(verdict, policy), _rate(verdict, policy), _cost(verdict)
    nature = _nature(verdict)
    # Quarantine comes first: it stops a costly test failing builds at once, where a move to a schedule is a
    # pipeline change someone has to make, and the environment guess (a timeout or a refused connection in a
    # message) is a weaker signal than the measured cost. The test's nature is still named, for whoever fixes it.
    if _is_clear(verdict) and _is_costly(verdict, policy):
        also = f"; also {nature[0]}: {nature[1]}" if nature is not None else ""
        return Recommendation.QUARANTINE, f"clearly flaky and costly: {evidence}; {rate}; {cost}{also}"
    if nature is not None:
        kind, why = nature
        return Recommendation.MOVE_TO_SCHEDULED, f"{kind} and flaky: {why}; {evidence}; {rate}; {cost}"
    started = verdict.first_flaky_ms
    if started is not None and started >= until_ms - policy.recent_days * DAY_MS:
        return Recommendation.FIX_NOW, (
            f"started flaking at commit {_commit(verdict.first_flaky_commit)} at {_when(started)}, "
            f"{(until_ms - started) / DAY_MS:.1f} days ago; {evidence}; {rate}"
        )
    return Recommendation.MONITOR, f"flaky but not costly enough to quarantine: {evidence}; {rate}; {cost}"
