"""Making sure the scenario shows what it planned, however short it is.

Every random family gets a run it must hit, every window a run that meets it, and the run of every breaking
commit shows its regression: these runs are shielded from other failures until the step that shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from harness_connector.sandbox.scenario.families import families_by_mode
from harness_connector.sandbox.scenario.faults import Candidate, Regression, Window, steps_matching
from harness_connector.sandbox.scenario.ids import HOUR_MS, MINUTE_MS, stream
from harness_connector.sandbox.scenario.plans import RunPlan

__all__ = ["candidates", "force_families", "force_windows", "mark_regressions"]


def candidates(plans: Iterable[RunPlan]) -> list[Candidate]:
    return [Candidate(plan.pipeline, plan.start, plan.is_pr) for plan in plans]


def force_families(
    seed: int, plans: list[RunPlan], modes: tuple[str, ...], disturbed: Callable[[RunPlan], bool], anchor: int
) -> None:
    """Give each family of `modes` one run it must hit, so every family appears however short the scenario.

    The run is one no regression breaks and that ends well before the anchor, so nothing else can end it first.
    """
    rng = stream(seed, "forced", *modes)
    for family in (f for mode in modes for f in families_by_mode(mode)):
        options = [
            p
            for p in plans
            if not p.forced
            and not p.protected
            and p.abort_at is None
            and p.start < anchor - 2 * HOUR_MS
            and steps_matching(family, p.pipeline, pr=p.is_pr)
            and not disturbed(p)
        ]
        if options:
            rng.choice(options).forced = family.id


def force_windows(seed: int, plans: list[RunPlan], windows: list[Window], disturbed: Callable[[RunPlan], bool]) -> None:
    """Give each planned window one run it must hit (a run that starts early enough in it to reach the step)."""
    rng = stream(seed, "forced-windows")
    for window in windows:
        if window.id.endswith("-pinned"):
            continue
        options = [
            p
            for p in plans
            if window.start <= p.start < window.end - 15 * MINUTE_MS
            and not p.forced
            and p.abort_at is None
            and any(
                window.matches(p.pipeline, s, window.start)
                for s in steps_matching(window.family, p.pipeline, pr=p.is_pr)
            )
            and not disturbed(p)
        ]
        if options:
            chosen = rng.choice(options)
            chosen.forced, chosen.window = window.family.id, window


def mark_regressions(plans: list[RunPlan], regressions: list[Regression]) -> None:
    """Make the run of each breaking commit show its regression (not aborted, not hit by anything else first)."""
    by_commit: dict[str, list[RunPlan]] = {}
    for plan in plans:
        if plan.commit is not None and plan.retry_of is None:
            by_commit.setdefault(plan.commit.sha, []).append(plan)
    for reg in regressions:
        for plan in by_commit.get(reg.broken_by.sha, []):
            if (
                plan.pipeline.kind == "ci"
                and (not reg.pipeline or plan.pipeline.id == reg.pipeline)
                and not plan.forced
            ):
                plan.forced, plan.abort_at = reg.family.id, None
