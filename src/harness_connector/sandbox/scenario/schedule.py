"""When pipelines run: pushes and PR commits trigger CI, crons fire, green builds get deployed, people retry.

Runs are simulated in time order (a heap), because what happens next depends on what happened: a failed run may
be retried (a new execution with `retry_of`), a green run may be re-run, a bad release is rolled back.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterable
from typing import TypeVar

from harness_connector.domain.status import ExecutionStatus
from harness_connector.sandbox.scenario.families import FAMILIES
from harness_connector.sandbox.scenario.ids import DAY_MS, HOUR_MS, MINUTE_MS, stream, url_safe_id
from harness_connector.sandbox.scenario.pipelines import PIPELINES, PipelineSpec
from harness_connector.sandbox.scenario.plans import DeployPlan, RunPlan, RunResult
from harness_connector.sandbox.scenario.stepdetails import artifact_for
from harness_connector.sandbox.scenario.timeline import RepoHistory, office_time, users_by_id
from harness_connector.sandbox.scenario.world import USERS

__all__ = ["anchor_plans", "cd_plans", "ci_plans", "execute", "follow_ups"]

S = ExecutionStatus
_T = TypeVar("_T")
_APPROVERS = ("alice_nguyen", "dana_kowalski", "gustavo_lima", "julia_berg", "lena_fischer")


def _plan_id(seed: int, *labels: object) -> str:
    return url_safe_id(seed, "execution", *labels)


def ci_plans(seed: int, histories: dict[str, RepoHistory], start: int, anchor: int) -> list[RunPlan]:
    """CI runs of every push to main and every PR commit, plus the cron and manual jobs."""
    rng = stream(seed, "ci-plans")
    users = users_by_id()
    plans: list[RunPlan] = []
    for pipeline in PIPELINES:
        history = histories.get(pipeline.service)
        if pipeline.kind not in ("ci", "images") or history is None:
            continue
        for commit in history.main:
            if start <= commit.ts < anchor:
                at = commit.ts + int(rng.uniform(4, 40) * 1000)
                plans.append(
                    RunPlan(
                        _plan_id(seed, pipeline.id, commit.sha),
                        pipeline,
                        at,
                        "WEBHOOK",
                        users[commit.author],
                        commit,
                        "main",
                    )
                )
        for pr in history.pulls:
            for position, commit in enumerate(pr.commits):
                at = commit.ts + int(rng.uniform(4, 40) * 1000)
                later = pr.commits[position + 1].ts if position + 1 < len(pr.commits) else None
                abort = later + int(rng.uniform(5, 40) * 1000) if later is not None and rng.random() < 0.7 else None
                plans.append(
                    RunPlan(
                        _plan_id(seed, pipeline.id, commit.sha),
                        pipeline,
                        at,
                        "WEBHOOK",
                        users[commit.author],
                        commit,
                        pr.source_branch,
                        "main",
                        pr,
                        abort_at=abort,
                    )
                )
    plans += _cron_and_manual(seed, rng, histories, start, anchor)
    for plan in plans:
        if plan.abort_at is None and rng.random() < 0.008:
            plan.abort_at = plan.start + int(rng.uniform(20, 240) * 1000)
    return plans


def _cron_and_manual(
    seed: int, rng: random.Random, histories: dict[str, RepoHistory], start: int, anchor: int
) -> list[RunPlan]:
    users = users_by_id()
    plans: list[RunPlan] = []
    day = start - start % DAY_MS
    while day < anchor:
        weekday = (day // DAY_MS + 3) % 7
        for pipeline in PIPELINES:
            at = _cron_time(pipeline, day, weekday) + int(rng.uniform(2, 50) * 1000)
            if pipeline.cron and start <= at < anchor:
                history = next((h for h in histories.values() if h.repo == pipeline.repo), None)
                head = history.head_at(at) if history is not None else None
                user = users[history.service.authors[0]] if history is not None else USERS[0]
                plans.append(
                    RunPlan(
                        _plan_id(seed, pipeline.id, "cron", at),
                        pipeline,
                        at,
                        "SCHEDULER_CRON",
                        user,
                        head,
                        "main" if head else None,
                    )
                )
            if pipeline.kind == "ops" and weekday in (1, 3):
                at = office_time(rng, day)
                if start <= at < anchor:
                    user = users[rng.choice(("kofi_mensah", "lena_fischer"))]
                    plans.append(RunPlan(_plan_id(seed, pipeline.id, "manual", at), pipeline, at, "MANUAL", user))
        day += DAY_MS
    return plans


def _cron_time(pipeline: PipelineSpec, day: int, weekday: int) -> int:
    if not pipeline.cron:
        return -1
    minute, hour, _, _, dow = pipeline.cron.split()
    if dow != "*" and int(dow) != weekday + 1:
        return -1
    return day + int(hour) * HOUR_MS + int(minute) * MINUTE_MS


def cd_plans(
    seed: int, results: list[RunResult], histories: dict[str, RepoHistory], start: int, anchor: int
) -> list[RunPlan]:
    """Deployments of green main builds: at most every few hours, in office hours, approved (mostly) by a human."""
    rng = stream(seed, "cd-plans")
    users = users_by_id()
    plans: list[RunPlan] = []
    for pipeline in (p for p in PIPELINES if p.kind == "cd"):
        ci = next(p for p in PIPELINES if p.kind == "ci" and p.service == pipeline.service)
        green = sorted(
            (r for r in results if r.plan.pipeline.id == ci.id and not r.plan.is_pr and r.record.status == S.SUCCESS),
            key=lambda r: r.record.end_ts or 0,
        )
        last, previous = start - DAY_MS, artifact_for(ci, histories[pipeline.service].main[0].sha)
        gap = rng.uniform(1.5, 5) * HOUR_MS
        for result in green:
            at = (result.record.end_ts or result.plan.start) + int(rng.uniform(1, 8) * MINUTE_MS)
            hour, weekday = (at % DAY_MS) // HOUR_MS, (at // DAY_MS + 3) % 7
            if at - last < gap or at >= anchor or not 7 <= hour < 18 or weekday >= 5:
                continue
            roll = rng.random()
            decision = "reject" if roll < 0.06 else "expire" if roll < 0.09 else "approve"
            commit = result.plan.commit
            artifact = artifact_for(ci, commit.sha if commit else "0" * 40)
            deploy = DeployPlan(
                artifact,
                previous,
                decision,
                users[rng.choice(_APPROVERS)],
                int(rng.lognormvariate(2.7, 0.8) * MINUTE_MS),
            )
            trigger = "WEBHOOK_CUSTOM" if rng.random() < 0.7 else "MANUAL"
            plans.append(
                RunPlan(
                    _plan_id(seed, pipeline.id, artifact),
                    pipeline,
                    at,
                    trigger,
                    result.plan.user,
                    commit,
                    "main",
                    deploy=deploy,
                )
            )
            last, gap = at, rng.uniform(1.5, 5) * HOUR_MS
            previous = artifact if decision == "approve" else previous
    _plan_incidents(seed, plans, start, anchor)
    return plans


def _plan_incidents(seed: int, plans: list[RunPlan], start: int, anchor: int) -> None:
    """Bad releases: canary verification catches some; one rolling release passes and pages someone.

    Each of these runs (and the approvals forced to a decision) is shielded from other failures, so it reaches
    the step that shows it.
    """
    rng = stream(seed, "incidents")
    days = (anchor - start) / DAY_MS
    middle = [
        p
        for p in plans
        if p.deploy and p.deploy.decision == "approve" and start + DAY_MS < p.start < anchor - 6 * HOUR_MS
    ]
    canary = [p for p in middle if any(s.strategy == "Canary" for s in p.pipeline.stages)]
    rolling = [p for p in middle if p.pipeline.service == "storefront"]
    count = max(1, round(FAMILIES["canary_verification_failed"].rate * days / 30))
    for n, plan in enumerate(rng.sample(canary, k=min(count, len(canary))), start=1):
        assert plan.deploy is not None
        plan.deploy.bad_release, plan.deploy.incident = True, f"INC-{4100 + n}"
        plan.forced = "canary_verification_failed"
    if rolling:
        plan = rng.choice([p for p in rolling if not p.forced] or rolling)
        assert plan.deploy is not None
        plan.deploy.incident, plan.protected = "INC-4201", True
    for decision in ("reject", "expire"):
        options = [p for p in middle if p.deploy and not p.deploy.incident and p.deploy.decision == "approve"]
        if options:
            chosen = rng.choice(options)
            assert chosen.deploy is not None
            chosen.deploy.decision, chosen.protected = decision, True


def follow_ups(seed: int, result: RunResult, anchor: int) -> list[RunPlan]:
    """Retries of failed runs, manual re-runs, and the rollback of a release that caused an incident."""
    plan, record = result.plan, result.record
    rng = stream(seed, "follow-up", plan.id)
    end = record.end_ts
    if end is None or end >= anchor:
        return []
    found: list[RunPlan] = []
    deploy = plan.deploy
    if deploy is not None and deploy.incident and not deploy.bad_release and record.status == S.SUCCESS:
        rollback = DeployPlan(
            deploy.previous,
            deploy.artifact,
            "approve",
            deploy.approver,
            int(rng.uniform(1, 3) * MINUTE_MS),
            rollback_of=plan.id,
        )
        at = end + int(rng.uniform(35, 70) * MINUTE_MS)
        found.append(
            RunPlan(
                _plan_id(seed, plan.id, "rollback"),
                plan.pipeline,
                at,
                "MANUAL",
                deploy.approver,
                plan.commit,
                "main",
                deploy=rollback,
                is_rerun=True,
                tags={"rollback_of": plan.id, "incident": deploy.incident},
            )
        )
    superseded = plan.pr is not None and any(c.ts > plan.start for c in plan.pr.commits)
    if record.status in (S.FAILED, S.EXPIRED) and result.failure is not None and plan.attempt < 3 and not superseded:
        family = result.failure.family
        chance = 0.75 if family.transient else 0.3 if family.category == "test_failure" else 0.15
        if rng.random() < chance:
            at = end + int(rng.lognormvariate(1.9, 0.7) * MINUTE_MS)
            retry_deploy = deploy
            if deploy is not None:
                retry_deploy = DeployPlan(deploy.artifact, deploy.previous, "approve", deploy.approver, deploy.wait_ms)
            found.append(
                RunPlan(
                    _plan_id(seed, plan.id, "retry"),
                    plan.pipeline,
                    at,
                    "MANUAL",
                    plan.user,
                    plan.commit,
                    plan.branch,
                    plan.target_branch,
                    plan.pr,
                    retry_of=plan.id,
                    root_id=plan.root_id or plan.id,
                    attempt=plan.attempt + 1,
                    deploy=retry_deploy,
                    tags=dict(plan.tags),
                )
            )
            return found
    rerun_chance = 0.02 if record.status == S.SUCCESS else 0.1 if record.status == S.FAILED else 0.0
    if plan.deploy is None and not plan.is_rerun and rng.random() < rerun_chance:
        at = end + int(rng.uniform(10, 180) * MINUTE_MS)
        found.append(
            RunPlan(
                _plan_id(seed, plan.id, "rerun"),
                plan.pipeline,
                at,
                "MANUAL",
                plan.user,
                plan.commit,
                plan.branch,
                plan.target_branch,
                plan.pr,
                is_rerun=True,
                tags=dict(plan.tags),
            )
        )
    return found


def execute(
    plans: Iterable[RunPlan],
    run: Callable[[RunPlan], RunResult],
    more: Callable[[RunResult], list[RunPlan]],
    anchor: int,
) -> list[RunResult]:
    """Simulate plans in time order, adding the follow-ups each result asks for."""
    heap = [(plan.start, plan.id, plan) for plan in plans]
    heapq.heapify(heap)
    seen: set[str] = set()
    results: list[RunResult] = []
    while heap:
        start, plan_id, plan = heapq.heappop(heap)
        if start >= anchor or plan_id in seen:
            continue
        seen.add(plan_id)
        result = run(plan)
        results.append(result)
        for follow in more(result):
            heapq.heappush(heap, (follow.start, follow.id, follow))
    return results


def anchor_plans(seed: int, histories: dict[str, RepoHistory], anchor: int) -> tuple[list[RunPlan], list[RunPlan]]:
    """(CI, CD) runs started just before the anchor, so the account has work in progress when it is opened."""
    users = users_by_id()
    by_id = {p.id: p for p in PIPELINES}
    ci: list[RunPlan] = []
    for pipeline_id, minutes in (("payments_api_ci", 3.0), ("storefront_ci", 1.5)):
        pipeline = by_id[pipeline_id]
        head = histories[pipeline.service].head_at(anchor)
        at = anchor - int(minutes * MINUTE_MS)
        ci.append(
            RunPlan(_plan_id(seed, pipeline_id, "anchor", at), pipeline, at, "MANUAL", users[head.author], head, "main")
        )
    # Someone keeps trying the cluster maintenance that the expired connector token breaks.
    for minutes in (150.0, 35.0):
        at = anchor - int(minutes * MINUTE_MS)
        ci.append(
            RunPlan(
                _plan_id(seed, "cluster_maintenance", "anchor", at),
                by_id["cluster_maintenance"],
                at,
                "MANUAL",
                users["lena_fischer"],
            )
        )
    pipeline = by_id["payments_api_deploy"]
    head = histories["payments_api"].head_at(anchor - HOUR_MS)
    ci_pipeline = by_id["payments_api_ci"]
    deploy = DeployPlan(
        artifact_for(ci_pipeline, head.sha),
        artifact_for(ci_pipeline, head.parent or head.sha),
        "approve",
        users["dana_kowalski"],
        3 * HOUR_MS,
    )
    at = anchor - 12 * MINUTE_MS
    cd = [
        RunPlan(
            _plan_id(seed, pipeline.id, "anchor", at),
            pipeline,
            at,
            "MANUAL",
            users[head.author],
            head,
            "main",
            deploy=deploy,
        )
    ]
    return ci, cd
