"""The `flaky_test` resource type: the flaky report's verdicts as a list, and one test's explanation as an item.

Each verdict carries the numbers behind it (score and interval, runs, failures, flips, same-commit commits,
retries, impact) with the recommendation and its reason, so a model can quote them instead of guessing. The list
is the report of `services.flaky` over a window (14 days by default), filtered and sorted in memory: a report holds
the few hundred tests that failed, not the whole catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import anyio

from harness_connector.analysis.flaky import Classification, FlakyVerdict
from harness_connector.errors import UsageError
from harness_connector.services.connection import Connection
from harness_connector.services.flaky import TestExplanation, explain_test, flaky_report
from harness_connector.services.history import history_row
from harness_connector.services.local_model import LocalType, choice_arg, page_of, require_store, window_days_arg
from harness_connector.services.results import ItemDetail, ItemList
from harness_connector.services.shaping import iso_time

__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "FLAKY_TESTS",
    "by_impact",
    "test_label",
    "verdict_detail",
    "verdict_row",
]

DEFAULT_WINDOW_DAYS = 14
HISTORY_ROWS = 20  # results shown with one test's explanation: enough to see the flips, few enough to read
_SORTS = ("impact", "score")
_CLASSIFICATIONS = tuple(c.value for c in Classification)


def test_label(class_name: str, suite: str, name: str) -> str:
    """How a person names a test: `class::name` (the suite when there is no class)."""
    return f"{class_name or suite}::{name}"


def by_impact(verdict: FlakyVerdict) -> tuple[int, float, float, str]:
    """Sort key, most costly first: executions failed, then CI minutes lost, then score."""
    impact = verdict.impact
    return (-(impact.failed_executions or 0), -impact.ci_minutes_lost, -verdict.score, verdict.test_id)


def _by_score(verdict: FlakyVerdict) -> tuple[float, int, str]:
    return (-verdict.score, -(verdict.impact.failed_executions or 0), verdict.test_id)


def _at(epoch_ms: int | None) -> str | None:
    return iso_time(epoch_ms) if epoch_ms is not None else None


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return round(value, digits) if value is not None else None


def verdict_row(verdict: FlakyVerdict, window_days: int) -> dict[str, Any]:
    """One verdict as a list row: who the test is, its class, score and counts, its cost, and what to do."""
    impact = verdict.impact
    return {
        "test_id": verdict.test_id,
        "suite": verdict.suite,
        "class_name": verdict.class_name,
        "name": verdict.name,
        "classification": str(verdict.classification),
        "score": round(verdict.score, 4),
        "interval": [round(verdict.ci_low, 4), round(verdict.ci_high, 4)],
        "runs": verdict.runs,
        "failures": verdict.failures,
        "flips": verdict.flips,
        "same_commit_commits": verdict.same_commit_commits,
        "retries": verdict.retries,
        "window_days": window_days,
        "failed_executions": impact.failed_executions,
        "reruns": impact.reruns,
        "ci_minutes_lost": round(impact.ci_minutes_lost, 1),
        "pipelines": list(impact.pipelines),
        "owners": list(impact.owners),
        "recommendation": str(verdict.recommendation) if verdict.recommendation else None,
        "reason": verdict.reason,
    }


def verdict_detail(verdict: FlakyVerdict) -> dict[str, Any]:
    """Every number of a verdict, times as ISO strings, for one test's explanation."""
    impact, trend = verdict.impact, verdict.impact.trend
    return {
        "classification": str(verdict.classification),
        "score": round(verdict.score, 4),
        "interval": [round(verdict.ci_low, 4), round(verdict.ci_high, 4)],
        "runs": verdict.runs,
        "failures": verdict.failures,
        "retries": verdict.retries,
        "retries_passed": verdict.retries_passed,
        "same_commit_commits": verdict.same_commit_commits,
        "pass_on_retry_commits": verdict.pass_on_retry_commits,
        "runner_flaky": verdict.runner_flaky,
        "flips": verdict.flips,
        "flip_rate": _rounded(verdict.flip_rate),
        "first_flaky_at": _at(verdict.first_flaky_ms),
        "first_flaky_commit": verdict.first_flaky_commit,
        "last_flaky_at": _at(verdict.last_flaky_ms),
        "broken_since_at": _at(verdict.broken_since_ms),
        "broken_since_commit": verdict.broken_since_commit,
        "broken_runs": verdict.broken_runs,
        "passes_since_failure": verdict.passes_since_failure,
        "recovered": verdict.recovered,
        "mean_duration_ms": round(verdict.mean_duration_ms),
        "detectors": list(verdict.detectors),
        "environment": verdict.environment,
        "impact": {
            "failed_executions": impact.failed_executions,
            "reruns": impact.reruns,
            "test_retries": impact.test_retries,
            "ci_minutes_lost": round(impact.ci_minutes_lost, 1),
            "pipelines": list(impact.pipelines),
            "owners": list(impact.owners),
            "trend": {
                "direction": str(trend.direction),
                "bucket_days": trend.bucket_ms // 86_400_000,
                "failures": list(trend.counts),
            },
        },
        "recommendation": str(verdict.recommendation) if verdict.recommendation else None,
        "reason": verdict.reason,
    }


def _matches(verdict: FlakyVerdict, needle: str) -> bool:
    return verdict.test_id == needle or any(
        needle.lower() in part.lower() for part in (verdict.name, verdict.class_name, verdict.suite)
    )


def _selected(verdicts: Sequence[FlakyVerdict], args: Mapping[str, Any]) -> list[FlakyVerdict]:
    classes = choice_arg(args, "classification", _CLASSIFICATIONS)
    sort = choice_arg(args, "sort", _SORTS) or ["impact"]
    if len(sort) > 1:
        raise UsageError("sort takes one value: impact or score")
    needle = args.get("test") or args.get("search_term")
    chosen = [
        v
        for v in verdicts
        if (not classes or str(v.classification) in classes) and (not needle or _matches(v, str(needle)))
    ]
    return sorted(chosen, key=by_impact if sort[0] == "impact" else _by_score)


async def _list_flaky(conn: Connection, args: Mapping[str, Any], page: int, size: int, now_ms: int) -> ItemList:
    store = require_store(conn)
    window_days = window_days_arg(args, DEFAULT_WINDOW_DAYS)
    pipeline_id = str(args["pipeline_id"]) if args.get("pipeline_id") else None
    _selected([], args)  # a bad filter is reported before the report's queries run, not after
    report = await anyio.to_thread.run_sync(
        lambda: flaky_report(store, now_ms=now_ms, window_days=window_days, pipeline_id=pipeline_id)
    )
    chosen = _selected(report.verdicts, args)
    return page_of("flaky_test", [verdict_row(v, window_days) for v in chosen], page=page, size=size)


def _explanation_item(found: TestExplanation) -> dict[str, Any]:
    """An explanation as an item: the test, its verdict with every number, and its newest results."""
    first = found.history[0]
    verdict = (
        verdict_detail(found.verdict)
        if found.verdict is not None
        else {
            "classification": str(Classification.STABLE),
            "reason": f"no failure in the last {found.window_days} days outside outages",
        }
    )
    return {
        "test": test_label(first.class_name, first.suite, first.name),
        "suite": first.suite,
        "class_name": first.class_name,
        "name": first.name,
        "window_days": found.window_days,
        "verdict": verdict,
        "history": [history_row(row) for row in found.history[:HISTORY_ROWS]],
    }


async def _explain(conn: Connection, test_id: str, args: Mapping[str, Any], now_ms: int) -> ItemDetail:
    store = require_store(conn)
    window_days = window_days_arg(args, DEFAULT_WINDOW_DAYS)
    found = await anyio.to_thread.run_sync(lambda: explain_test(store, test_id, now_ms=now_ms, window_days=window_days))
    return ItemDetail(resource_type="flaky_test", id=test_id, item=_explanation_item(found))


FLAKY_TESTS = LocalType(
    name="flaky_test",
    description="Flaky, slow-and-flaky and broken tests found in the history store, with the numbers behind each "
    "verdict (score and interval, runs, failures, flips, same-commit evidence, retries), what they cost (failed "
    "executions, reruns, CI minutes) and what to do; get explains one test with its recent results.",
    id_field="test_id",
    filters={
        "pipeline_id": "Only this pipeline's results.",
        "window_days": f"How many days back, 1-365 (default {DEFAULT_WINDOW_DAYS}).",
        "classification": "flaky, slow_and_flaky, broken or stable (recovered or known flaky).",
        "sort": "impact (default: failed executions, then CI minutes lost) or score.",
        "test": "A test id, or a word in the test's name, class or suite.",
    },
    list_items=_list_flaky,
    list_description="the flaky report's verdicts, most costly first",
    get_item=_explain,
    get_description="one test's verdict with every number, and its recent results (params: window_days)",
    example={"filters": {"classification": "flaky", "sort": "impact"}},
)
