"""Generate a scenario: a month of a realistic Harness account, written into the sandbox state.

The steps, each in its own module: commit histories (`timeline`), regressions planned on them (`faults`), the
runs they trigger (`schedule`), failure windows placed where those runs are, every run simulated in time order
with its retries (`simulate`), then deployments of the green builds; finally the configuration is created
through the API's own create functions (`seeding`), executions, log recipes and test results are written in
batches, and the ground truth and telemetry files are written beside it. Same seed and anchor, same account.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from harness_connector.sandbox.bootstrap import bootstrap_account
from harness_connector.sandbox.log_keys import step_log_key
from harness_connector.sandbox.model import LogRecipe, TestCaseRow
from harness_connector.sandbox.scenario.families import families_by_mode
from harness_connector.sandbox.scenario.faults import Regression, Window, pinned_windows, plan_regressions, plan_windows
from harness_connector.sandbox.scenario.forcing import candidates, force_families, force_windows, mark_regressions
from harness_connector.sandbox.scenario.ids import DAY_MS
from harness_connector.sandbox.scenario.pipelines import PIPELINES
from harness_connector.sandbox.scenario.plans import RunResult
from harness_connector.sandbox.scenario.schedule import anchor_plans, cd_plans, ci_plans, execute, follow_ups
from harness_connector.sandbox.scenario.seeding import configuration, write_seeds
from harness_connector.sandbox.scenario.simulate import Simulator
from harness_connector.sandbox.scenario.telemetry import build_events, derive_incidents
from harness_connector.sandbox.scenario.testruns import test_rows
from harness_connector.sandbox.scenario.timeline import RepoHistory, build_history
from harness_connector.sandbox.scenario.truth import FAILED, build_truth
from harness_connector.sandbox.scenario.world import ORGS, PROJECTS, SERVICES
from harness_connector.sandbox.state import SandboxState

__all__ = ["ScenarioSummary", "generate_scenario"]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ScenarioSummary:
    """What a generated scenario holds."""

    account_id: str
    seed: int
    days: int
    anchor_ms: int
    orgs: int
    projects: int
    pipelines: int
    executions: int
    failed: int
    running: int
    test_cases: int
    log_recipes: int
    entities: int
    events: int
    flaky_tests: int
    statuses: dict[str, int] = field(default_factory=dict)
    families: dict[str, int] = field(default_factory=dict)


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


def _simulate(
    seed: int, histories: dict[str, RepoHistory], regressions: list[Regression], start: int, anchor: int
) -> tuple[list[RunResult], list[Window]]:
    simulator = Simulator(seed, anchor, regressions)
    plans = ci_plans(seed, histories, start, anchor)
    ci_tail, cd_tail = anchor_plans(seed, histories, anchor)
    plans += ci_tail
    mark_regressions(plans, regressions)
    force_families(seed, plans, ("random",), simulator.disturbed, anchor)
    windows = plan_windows(seed, families_by_mode("window"), candidates(plans), start, anchor) + pinned_windows(anchor)
    simulator.windows = windows
    force_windows(seed, plans, windows, simulator.disturbed)
    more = partial(follow_ups, seed, anchor=anchor)
    results = execute(plans, simulator.run, more, anchor)
    deploys = cd_plans(seed, results, histories, start, anchor) + cd_tail
    force_families(seed, deploys, ("random",), simulator.disturbed, anchor)
    results += execute(deploys, simulator.run, more, anchor)
    return results, windows


def _sequence(results: list[RunResult]) -> None:
    """Number each pipeline's runs in start order, as Harness's run sequence does."""
    by_pipeline: dict[str, list[RunResult]] = {}
    for result in results:
        by_pipeline.setdefault(result.record.pipeline_id, []).append(result)
    for runs in by_pipeline.values():
        runs.sort(key=lambda r: (r.record.start_ts, r.record.plan_execution_id))
        for number, result in enumerate(runs, start=1):
            result.record.run_sequence = number


def _record_hits(results: list[RunResult], windows: list[Window], regressions: list[Regression]) -> None:
    causes: dict[str, list[str]] = {}
    for result in results:
        if result.failure is not None and result.record.status in FAILED:
            causes.setdefault(result.failure.cause, []).append(result.record.plan_execution_id)
    for window in windows:
        window.hits = sorted(causes.get(window.id, []))
    for regression in regressions:
        regression.hits = sorted(causes.get(regression.id, []))


def _write_runs(state: SandboxState, account: str, results: list[RunResult]) -> tuple[int, int]:
    records = [result.record for result in results]
    for chunk in _chunks(records, 400):
        state.put_executions(chunk)
    recipes: list[tuple[str, LogRecipe]] = []
    for r in records:
        for stage in r.stages:
            for step in stage.steps:
                if step.log is not None:
                    key = step_log_key(
                        account, r.org, r.project, r.pipeline_id, r.run_sequence, stage.identifier, step.identifier
                    )
                    recipes.append((key, step.log))
    for batch in _chunks(recipes, 5000):
        state.put_log_recipes(batch)
    cases = 0
    for result in results:
        record = result.record
        steps: dict[tuple[str, str], list[TestCaseRow]] = {}
        for attempt in result.tests:
            steps.setdefault((attempt.stage, attempt.step), []).extend(test_rows(attempt))
        for (stage_id, step_id), rows in steps.items():
            state.add_test_cases(
                org=record.org,
                project=record.project,
                pipeline=record.pipeline_id,
                build_id=record.run_sequence,
                stage_id=stage_id,
                step_id=step_id,
                cases=rows,
            )
            cases += len(rows)
    return len(recipes), cases


def _commits(histories: dict[str, RepoHistory]) -> dict[str, Any]:
    """Every repository's commits (main and pull-request branches), for the code routes."""
    found: dict[str, Any] = {}
    for history in histories.values():
        commits = [*history.main, *(c for pr in history.pulls for c in pr.commits)]
        found[history.repo] = [
            {
                "sha": c.sha,
                "parent": c.parent,
                "branch": c.branch,
                "message": c.message,
                "author": c.author,
                "ts": c.ts,
                "pr_number": c.pr_number,
            }
            for c in sorted(commits, key=lambda c: (c.ts, c.sha))
        ]
    return found


def generate_scenario(
    state: SandboxState,
    *,
    seed: int = 42,
    days: int = 30,
    anchor_ms: int,
    truth_path: Path | None = None,
    events_path: Path | None = None,
) -> ScenarioSummary:
    """Write a `days`-long history ending at `anchor_ms` into `state` (and the truth and events files)."""
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    if state.query("SELECT 1 FROM executions LIMIT 1") or state.query("SELECT 1 FROM entities LIMIT 1"):
        raise ValueError("generate_scenario writes a whole account: give it an empty state")
    keys = bootstrap_account(state, seed=seed)
    start = anchor_ms - days * DAY_MS
    histories = {
        svc.id: build_history(seed, svc, start, anchor_ms) for svc in SERVICES if svc.prs_per_day or svc.pushes_per_day
    }
    regressions = plan_regressions(seed, histories, start, anchor_ms)
    results, windows = _simulate(seed, histories, regressions, start, anchor_ms)
    _sequence(results)
    _record_hits(results, windows, regressions)
    incidents = derive_incidents(seed, results, start, anchor_ms)
    seeds = configuration(seed, keys.account_id, start, anchor_ms, histories, regressions, windows, results)
    entities = write_seeds(state, keys.account_id, seeds)
    recipes, cases = _write_runs(state, keys.account_id, results)
    events = build_events(seed, start, anchor_ms, windows, incidents, results)
    scenario = {"seed": seed, "days": days, "anchor_ms": anchor_ms, "start_ms": start, "account_id": keys.account_id}
    state.set_meta("scenario", json.dumps(scenario, sort_keys=True))
    state.set_meta("scenario.commits", json.dumps(_commits(histories), sort_keys=True))
    truth = build_truth(
        scenario=scenario, results=results, windows=windows, regressions=regressions, incidents=incidents
    )
    if truth_path is not None:
        truth_path.write_text(json.dumps(truth, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    if events_path is not None:
        with events_path.open("w", encoding="utf-8") as out:
            out.writelines(json.dumps(event, sort_keys=True) + "\n" for event in events)
    statuses = Counter(r.record.status.value for r in results)
    return ScenarioSummary(
        account_id=keys.account_id,
        seed=seed,
        days=days,
        anchor_ms=anchor_ms,
        orgs=len(ORGS),
        projects=len(PROJECTS),
        pipelines=len(PIPELINES),
        executions=len(results),
        failed=sum(statuses[s.value] for s in FAILED),
        running=sum(1 for r in results if not r.record.status.is_terminal),
        test_cases=cases,
        log_recipes=recipes,
        entities=entities,
        events=len(events),
        flaky_tests=len(truth["flaky_tests"]),
        statuses=dict(sorted(statuses.items())),
        families=truth["families"],
    )
