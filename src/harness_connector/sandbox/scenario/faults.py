"""Where failures come from: regressions introduced by commits, and windows of time when something was down.

Regressions are planned on the commit histories before any run exists: a breaking commit and the commit that
fixes it are added to main (or a pull request's commits break and fix). Windows are planned once the runs are
scheduled, where the runs are: an outage is only realistic (and only visible) if builds hit it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness_connector.sandbox.scenario.failure import FailureFamily
from harness_connector.sandbox.scenario.families import FAMILIES, families_by_mode
from harness_connector.sandbox.scenario.ids import DAY_MS, HOUR_MS, MINUTE_MS, hex_id, stream
from harness_connector.sandbox.scenario.pipelines import PIPELINES, PipelineSpec, StepSpec
from harness_connector.sandbox.scenario.testcatalog import BROKEN_MESSAGES, TestSpec, catalog
from harness_connector.sandbox.scenario.timeline import Commit, RepoHistory, office_time
from harness_connector.sandbox.scenario.world import PINNED_WINDOWS

__all__ = ["Regression", "Window", "plan_regressions", "plan_windows", "steps_matching"]


@dataclass(slots=True)
class Regression:
    """A change that breaks a build from `broken_by` until `fixed_by` (None: still broken at the anchor)."""

    id: str
    family: FailureFamily
    service: str
    repo: str
    scope: str  # main | pr
    broken_by: Commit
    fixed_by: Commit | None
    params: dict[str, Any]
    tests: tuple[TestSpec, ...] = ()
    messages: tuple[str, ...] = ()
    pipeline: str = ""  # for configuration regressions: the pipeline whose YAML changed
    hits: list[str] = field(default_factory=list)

    def broken_at_main(self, commit: Commit) -> bool:
        end = self.fixed_by.index if self.fixed_by is not None else math.inf
        return self.scope == "main" and self.broken_by.index <= commit.index < end

    def broken_at_time(self, ts: int) -> bool:
        end = self.fixed_by.ts if self.fixed_by is not None else math.inf
        return self.scope == "main" and self.broken_by.ts <= ts < end


@dataclass(slots=True)
class Window:
    """A span of time during which steps matching the family (and the filters) fail with `hit_rate`."""

    id: str
    family: FailureFamily
    start: int
    end: int
    hit_rate: float
    pipelines: frozenset[str] = frozenset()
    delegate: str = ""
    project: str = ""
    params: dict[str, str] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    struck: int = 0  # steps failed so far

    def matches(self, pipeline: PipelineSpec, step: StepSpec, ts: int) -> bool:
        return (
            self.start <= ts < self.end
            and self.family.applies_to(step.role, step.toolchain)
            and (not self.pipelines or pipeline.id in self.pipelines)
            and (not self.delegate or step.delegate == self.delegate)
            and (not self.project or pipeline.project == self.project)
        )


def steps_matching(family: FailureFamily, pipeline: PipelineSpec, *, pr: bool = False) -> list[StepSpec]:
    """The steps of `pipeline` that can fail as `family` (PR builds skip push-only steps)."""
    return [
        step
        for stage in pipeline.stages
        for step in stage.steps
        if family.applies_to(step.role, step.toolchain) and not (pr and step.push_only)
    ]


def _choose(rng: random.Random, family: FailureFamily) -> dict[str, Any]:
    return {name: rng.choice(options) for name, options in sorted(family.choices.items())}


def _breaking_pair(
    seed: int,
    rng: random.Random,
    history: RepoHistory,
    family: FailureFamily,
    params: dict[str, Any],
    start: int,
    end: int,
) -> tuple[Commit, Commit | None]:
    """Add a breaking commit and (unless it is still broken at the end) its fix to main."""
    svc = history.service
    author = rng.choice(svc.authors)
    day = start + int(rng.uniform(0.08, 0.8) * (end - start))
    broke = office_time(rng, day - day % DAY_MS)
    broke = min(max(broke, start + HOUR_MS), end - HOUR_MS)
    label = f"{family.id}:{broke}"
    messages = family.commits
    breaking = Commit(
        hex_id(seed, "commit", svc.name, "break", label), svc.name, "main", messages[0].format(**params), author, broke
    )
    history.main.append(breaking)
    fixed_ts = broke + int(rng.uniform(*family.fix_hours) * HOUR_MS)
    fix: Commit | None = None
    if fixed_ts < end:
        fix = Commit(
            hex_id(seed, "commit", svc.name, "fix", label),
            svc.name,
            "main",
            messages[1].format(**params),
            author,
            fixed_ts,
        )
        history.main.append(fix)
    history.renumber()
    return breaking, fix


def _test_params(rng: random.Random, family: FailureFamily) -> dict[str, Any]:
    pick = rng.randrange(len(family.choices["change"]))
    return {"change": family.choices["change"][pick], "fix": family.choices["fix"][pick]}


def _broken_tests(rng: random.Random, service_id: str) -> tuple[tuple[TestSpec, ...], tuple[str, ...]]:
    usable = [spec for spec in catalog(service_id) if not spec.flaky_rate and not spec.skipped and not spec.slow]
    tests = tuple(rng.sample(usable, k=min(len(usable), 1 + int(rng.random() * 3))))
    return tests, tuple(rng.choice(BROKEN_MESSAGES[spec.style]) for spec in tests)


def plan_regressions(seed: int, histories: dict[str, RepoHistory], start: int, end: int) -> list[Regression]:
    """Breaking and fixing commits on main, and pull-request commits that break and get fixed."""
    rng = stream(seed, "regressions")
    days = (end - start) / DAY_MS
    found: list[Regression] = []
    ci = [p for p in PIPELINES if p.kind == "ci" and p.service in histories]
    used: set[str] = set()
    for family in families_by_mode("main_regression"):
        for n in range(max(1, round(family.rate * days / 30))):
            # One regression per pipeline, so each is visible (an earlier failing step would hide the next).
            candidates = [p for p in ci if steps_matching(family, p) and p.id not in used] or ci
            pipeline = rng.choice(candidates)
            used.add(pipeline.id)
            history = histories[pipeline.service]
            params = _choose(rng, family)
            broke, fix = _breaking_pair(seed, rng, history, family, params, start, end)
            found.append(
                Regression(
                    f"{family.id}-{n + 1}",
                    family,
                    pipeline.service,
                    history.repo,
                    "main",
                    broke,
                    fix,
                    params,
                    pipeline=pipeline.id,
                )
            )
    tests_family = FAMILIES["test_regression"]
    tested = sorted(sid for sid in histories if catalog(sid))
    for n in range(max(1, round(tests_family.rate * days / 30))):
        service_id = rng.choice(tested)
        params = _test_params(rng, tests_family)
        broke, fix = _breaking_pair(seed, rng, histories[service_id], tests_family, params, start, end)
        tests, messages = _broken_tests(rng, service_id)
        found.append(
            Regression(
                f"test_regression-{n + 1}",
                tests_family,
                service_id,
                histories[service_id].repo,
                "main",
                broke,
                fix,
                params,
                tests,
                messages,
            )
        )
    found += _pr_regressions(rng, histories)
    for history in histories.values():
        history.renumber()
    return found


def _pr_families(service_id: str, toolchain: str) -> list[FailureFamily]:
    families = [f for f in families_by_mode("pr_regression") if not f.toolchains or toolchain in f.toolchains]
    if catalog(service_id):
        families.append(FAMILIES["test_regression"])
    return families


def _pr_regressions(rng: random.Random, histories: dict[str, RepoHistory]) -> list[Regression]:
    found: list[Regression] = []
    seen: set[str] = set()
    for service_id, history in sorted(histories.items()):
        families = _pr_families(service_id, history.service.toolchain)
        for pr in history.pulls:
            for position, commit in enumerate(pr.commits[:-1]):
                roll = rng.random()
                for family in families:
                    rate = family.pr_rate or family.rate
                    if roll < rate:
                        found.append(_pr_regression(rng, family, service_id, history, commit, pr.commits[position + 1]))
                        seen.add(family.id)
                        break
                    roll -= rate
    # Every family a change can cause appears at least once, however short the scenario.
    for family in (*families_by_mode("pr_regression"), FAMILIES["test_regression"]):
        if family.id in seen:
            continue
        options = [
            (sid, h, pr)
            for sid, h in sorted(histories.items())
            if family in _pr_families(sid, h.service.toolchain)
            for pr in h.pulls
            if len(pr.commits) >= 2 and not pr.commits[0].breaks
        ]
        if options:
            sid, history, pr = rng.choice(options)
            found.append(_pr_regression(rng, family, sid, history, pr.commits[0], pr.commits[1]))
    return found


def _pr_regression(
    rng: random.Random, family: FailureFamily, service_id: str, history: RepoHistory, broke: Commit, fix: Commit
) -> Regression:
    params = _test_params(rng, family) if family.mode == "test" else _choose(rng, family)
    reg_id = f"{family.id}-pr{broke.pr_number}-{broke.sha[:7]}"
    broke.breaks, fix.fixes = reg_id, reg_id
    broke.message, fix.message = family.commits[0].format(**params), family.commits[1].format(**params)
    tests, messages = _broken_tests(rng, service_id) if family.mode == "test" else ((), ())
    return Regression(reg_id, family, service_id, history.repo, "pr", broke, fix, params, tests, messages)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A scheduled run a window might hit: its pipeline, start time and whether it is a PR build."""

    pipeline: PipelineSpec
    start: int
    pr: bool


def plan_windows(
    seed: int, families: Sequence[FailureFamily], runs: Sequence[Candidate], start: int, end: int
) -> list[Window]:
    """Windows for `families`, placed where the most pipelines were running steps they can break."""
    windows: list[Window] = []
    days = (end - start) / DAY_MS
    for family in families:
        rng = stream(seed, "window", family.id)
        eligible = [run for run in runs if steps_matching(family, run.pipeline, pr=run.pr)]
        if not eligible:
            continue
        for n in range(max(1, round(family.rate * days / 30))):
            window = _place(rng, family, eligible, start, end, windows)
            if window is not None:
                window.id = f"{family.id}-{n + 1}"
                windows.append(window)
    return windows


def _filters(rng: random.Random, family: FailureFamily, eligible: Sequence[Candidate]) -> tuple[str, str]:
    """(delegate, project) a window is limited to: one delegate goes down; one project's credentials expire."""
    if family.id == "delegate_unavailable":
        delegates = sorted({s.delegate for r in eligible for s in steps_matching(family, r.pipeline) if s.delegate})
        return (rng.choice(delegates) if delegates else ""), ""
    if family.category == "authentication":
        return "", rng.choice(sorted({r.pipeline.project for r in eligible}))
    return "", ""


def _place(
    rng: random.Random,
    family: FailureFamily,
    eligible: Sequence[Candidate],
    start: int,
    end: int,
    taken: Sequence[Window],
) -> Window | None:
    delegate, project = _filters(rng, family, eligible)
    runs = [
        r
        for r in eligible
        if (not project or r.pipeline.project == project)
        and (not delegate or any(s.delegate == delegate for s in steps_matching(family, r.pipeline, pr=r.pr)))
    ]
    duration = int(rng.uniform(*family.window_minutes) * MINUTE_MS)
    busy = [(w.start, w.end) for w in taken]
    best: tuple[float, int] | None = None
    for run in rng.sample(runs, k=min(len(runs), 80)):
        begin = run.start - int(rng.random() * duration * 0.4)
        if (
            begin < start + HOUR_MS
            or begin + duration > end
            or any(b < begin + duration and begin < e for b, e in busy)
        ):
            continue
        hit = {r.pipeline.id for r in runs if begin - 5 * MINUTE_MS <= r.start < begin + duration}
        score = len(hit) + rng.random() * 0.5
        if best is None or score > best[0]:
            best = (score, begin)
    if best is None and runs:
        # Every good place overlaps another window of the family: take the busiest run's moment anyway.
        begin = max(start + HOUR_MS, min(rng.choice(runs).start - duration // 4, end - duration))
        best = (0.0, begin)
    if best is None:
        return None
    return Window("", family, best[1], best[1] + duration, family.hit_rate, delegate=delegate, project=project)


def pinned_windows(anchor: int) -> list[Window]:
    """The account's ongoing problems at the anchor (see `world.PINNED_WINDOWS`)."""
    return [
        Window(
            f"{pin.family}-pinned",
            FAMILIES[pin.family],
            anchor - int(pin.start_hours_before_anchor * HOUR_MS),
            anchor - int(pin.end_hours_before_anchor * HOUR_MS) if pin.end_hours_before_anchor else anchor + DAY_MS,
            FAMILIES[pin.family].hit_rate,
            frozenset(pin.pipelines),
            pin.delegate,
            params=dict(pin.params),
        )
        for pin in PINNED_WINDOWS
    ]
