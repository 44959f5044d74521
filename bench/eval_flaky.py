"""Flaky-test detection scored against the sandbox's ground truth.

The default scenario (seed 42) is generated, synced over the sandbox's HTTP API into a history store, and the flaky
report of the last 14 days is compared with the tests the scenario made flaky (`truth.json`'s `flaky_tests`, each
with its flake rate and how often it ran and failed).

- Precision: of the tests the report classifies flaky or slow-and-flaky, the share that the scenario made flaky.
- Recall: of the tests with a flake rate of 5 % or more and enough runs to show it (20 first attempts or more, and
  at least 2 failures: a test that failed once cannot be told from one broken once), the share the report found:
  classified flaky, or flaky on the same commit and since recovered (5 passes in a row clear the FLAKY badge in
  Harness CI and CircleCI, and the report says which tests were cleared that way).

Targets: precision >= 0.95, recall >= 0.9. Run: `python -m bench.eval_flaky [DAYS]` (default 14 days of history).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from bench.eval_investigate import _BASE_URL, ANCHOR_MS, SEED
from harness_connector.analysis.flaky import Classification, FlakyReport, FlakyVerdict
from harness_connector.harness.client import HarnessClient
from harness_connector.sandbox import SandboxContext, SandboxState, create_app, open_account
from harness_connector.sandbox.scenario import generate_scenario
from harness_connector.services.connection import Connection
from harness_connector.services.flaky import flaky_report
from harness_connector.services.sync import sync_project
from harness_connector.store import Store, open_store

PRECISION_TARGET = 0.95
RECALL_TARGET = 0.9
MIN_RATE = 0.05
MIN_RUNS = 20
MIN_FAILURES = 2
_FLAGGED = (Classification.FLAKY, Classification.SLOW_AND_FLAKY)


@dataclass
class FlakyScore:
    """The report against the truth: what was flagged, what should have been, and what was missed."""

    flagged: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    eligible: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    report_s: float = 0.0

    @property
    def precision(self) -> float:
        return 1 - len(self.false_positives) / len(self.flagged) if self.flagged else 0.0

    @property
    def recall(self) -> float:
        return len(self.found) / len(self.eligible) if self.eligible else 0.0


def _name(class_name: str, name: str) -> str:
    return f"{class_name}::{name}"


def _found(verdict: FlakyVerdict | None) -> bool:
    if verdict is None:
        return False
    return verdict.classification in _FLAGGED or (verdict.recovered and verdict.same_commit_commits > 0)


def score_report(report: FlakyReport, truth: dict[str, Any]) -> FlakyScore:
    """Compare a report (made with `include_stable=True`) with the scenario's flaky tests."""
    score = FlakyScore()
    made_flaky = {_name(t["class_name"], t["name"]): t for t in truth["flaky_tests"]}
    verdicts = {_name(v.class_name, v.name): v for v in report.verdicts}
    for name, verdict in sorted(verdicts.items()):
        if verdict.classification in _FLAGGED:
            score.flagged.append(name)
            if name not in made_flaky:
                score.false_positives.append(name)
    for name, expected in sorted(made_flaky.items()):
        enough = expected["runs"] >= MIN_RUNS and expected["failures"] >= MIN_FAILURES
        if expected["flake_rate"] < MIN_RATE or not enough:
            continue
        score.eligible.append(name)
        (score.found if _found(verdicts.get(name)) else score.missed).append(name)
    return score


def describe(score: FlakyScore, report: FlakyReport) -> str:
    lines = [
        f"tests analysed {report.tests}; flaky {report.flaky}, slow and flaky {report.slow_and_flaky}, "
        f"broken {report.broken}; {report.ignored_executions} executions set aside as outages "
        f"(report in {score.report_s:.2f} s)",
        f"precision {score.precision:.3f} ({len(score.flagged) - len(score.false_positives)} of "
        f"{len(score.flagged)} flagged were made flaky; target {PRECISION_TARGET})",
        f"recall    {score.recall:.3f} ({len(score.found)} of {len(score.eligible)} tests with a flake rate of "
        f"{MIN_RATE:.0%} or more, {MIN_RUNS}+ runs and {MIN_FAILURES}+ failures; target {RECALL_TARGET})",
    ]
    lines += [f"  false positive: {name}" for name in score.false_positives]
    lines += [f"  missed: {name}" for name in score.missed]
    return "\n".join(lines)


def synced_store(directory: Path, days: int) -> tuple[Store, dict[str, Any]]:
    """Generate the scenario, sync every project into a store file over the sandbox's API, and read the truth."""
    state = SandboxState(directory / "sandbox.sqlite")
    truth_path = directory / "truth.json"
    generate_scenario(
        state, seed=SEED, days=days, anchor_ms=ANCHOR_MS, truth_path=truth_path, events_path=directory / "events.jsonl"
    )
    keys = open_account(state)
    assert keys is not None
    ctx = SandboxContext(state=state, account_id=keys.account_id, clock=lambda: ANCHOR_MS, base_url=_BASE_URL)
    client = HarnessClient(_BASE_URL, api_key=keys.admin_pat, asgi_app=create_app(ctx), rate_limit_rps=10_000)
    store = open_store(directory / "store.duckdb")
    conn = Connection(client=client, account_id=keys.account_id, org=None, project=None, store=store)
    truth = json.loads(truth_path.read_text())
    projects = sorted({(e["org"], e["project"]) for e in truth["executions"].values()})

    async def sync_all() -> None:
        try:
            for org, project in projects:
                await sync_project(conn, store, org=org, project=project, since_ms=0, now_ms=ANCHOR_MS, concurrency=4)
        finally:
            await client.aclose()

    anyio.run(sync_all)
    state.close()
    return store, truth


def evaluate(store: Store, truth: dict[str, Any]) -> tuple[FlakyScore, FlakyReport]:
    started = time.perf_counter()
    report = flaky_report(store, now_ms=ANCHOR_MS, include_stable=True)
    elapsed = time.perf_counter() - started
    score = score_report(report, truth)
    score.report_s = elapsed
    return score, report


def main() -> None:
    days = int(sys.argv[1]) if len(sys.argv) > 1 else 14
    with tempfile.TemporaryDirectory(prefix="eval-flaky-") as tmp:
        started = time.perf_counter()
        store, truth = synced_store(Path(tmp), days)
        print(f"scenario of {days} days synced in {time.perf_counter() - started:.0f} s: {store.counts()}")
        try:
            score, report = evaluate(store, truth)
        finally:
            store.close()
    print(describe(score, report))


if __name__ == "__main__":
    main()
