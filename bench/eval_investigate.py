"""Score the build-failure investigation against the sandbox scenario's ground truth.

Generates a scenario (seed 42; EVAL_DAYS days, default 30: the `make run` account), syncs every project into a
history store and loads the scenario's telemetry events, as a user would with `sync` and `ingest events`; then
investigates every failed execution the ground truth explains, and compares the verdict's category and transient
flag with it. Prints the accuracy of each, the confusion matrix of categories, the rules behind wrong answers, and
the investigation latency. `tests/services/test_investigate_eval.py` runs the same on a shorter scenario and
asserts the targets (≥ 95 % each).

Run: `python -m bench.eval_investigate` (EVAL_DAYS=7 for a quicker look).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from harness_connector.harness.client import HarnessClient
from harness_connector.sandbox import SandboxContext, SandboxState, create_app, open_account
from harness_connector.sandbox.scenario import generate_scenario
from harness_connector.services.connection import Connection
from harness_connector.services.ingest import ingest_events
from harness_connector.services.investigate import investigate_execution
from harness_connector.services.sync import sync_project
from harness_connector.store import open_store

SEED = 42
ANCHOR_MS = 1_790_006_400_000
TARGET = 0.95
_BASE_URL = "http://127.0.0.1"


@dataclass
class Score:
    """How the verdicts compared with the ground truth."""

    total: int = 0
    category_right: int = 0
    transient_right: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    wrong: list[dict[str, Any]] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def category_accuracy(self) -> float:
        return self.category_right / self.total if self.total else 0.0

    @property
    def transient_accuracy(self) -> float:
        return self.transient_right / self.total if self.total else 0.0


@dataclass
class Prepared:
    conn: Connection
    truth: dict[str, Any]
    state: SandboxState


def prepare(directory: Path, days: int) -> Prepared:
    """Generate the scenario, open an in-process connection to it, sync everything and load the events."""
    state = SandboxState(directory / "sandbox.sqlite")
    truth_path, events_path = directory / "truth.json", directory / "events.jsonl"
    generate_scenario(state, seed=SEED, days=days, anchor_ms=ANCHOR_MS, truth_path=truth_path, events_path=events_path)
    keys = open_account(state)
    assert keys is not None
    ctx = SandboxContext(state=state, account_id=keys.account_id, clock=lambda: ANCHOR_MS, base_url=_BASE_URL)
    client = HarnessClient(_BASE_URL, api_key=keys.admin_pat, asgi_app=create_app(ctx), rate_limit_rps=10_000)
    store = open_store(":memory:")
    conn = Connection(client=client, account_id=keys.account_id, org=None, project=None, store=store)
    truth = json.loads(truth_path.read_text())
    projects = sorted({(e["org"], e["project"]) for e in truth["executions"].values()})

    async def sync_all() -> None:
        for org, project in projects:
            await sync_project(conn, store, org=org, project=project, since_ms=0, now_ms=ANCHOR_MS, concurrency=4)

    anyio.run(sync_all)
    ingest_events(store, events_path)
    return Prepared(conn, truth, state)


async def evaluate(prepared: Prepared, *, limit: int | None = None) -> Score:
    score = Score()
    items = sorted(prepared.truth["executions"].items())[:limit]
    for execution_id, expected in items:
        started = time.perf_counter()
        try:
            found = await investigate_execution(
                prepared.conn,
                execution_id=execution_id,
                org_id=expected["org"],
                project_id=expected["project"],
                now_ms=ANCHOR_MS,
            )
        except Exception as exc:  # an evaluation records every failure and goes on
            score.errors.append(f"{execution_id}: {type(exc).__name__}: {exc}")
            continue
        score.latencies_s.append(time.perf_counter() - started)
        verdict = found.verdict
        score.total += 1
        score.category_right += verdict.category == expected["category"]
        score.transient_right += verdict.transient == expected["transient"]
        score.confusion[(expected["category"], verdict.category)] += 1
        if verdict.category != expected["category"] or verdict.transient != expected["transient"]:
            score.wrong.append(
                {
                    "execution": execution_id,
                    "family": expected["family"],
                    "expected": (expected["category"], expected["transient"]),
                    "got": (verdict.category, verdict.transient),
                    "rule": verdict.rule,
                    "reasons": verdict.reasons[:3],
                }
            )
    return score


def report(score: Score) -> str:
    lines = [
        f"investigated {score.total} failed executions ({len(score.errors)} errors)",
        f"category accuracy  {score.category_accuracy:.1%}  (target {TARGET:.0%})",
        f"transient accuracy {score.transient_accuracy:.1%}  (target {TARGET:.0%})",
    ]
    if score.latencies_s:
        lines.append(
            f"latency per investigation: median {statistics.median(score.latencies_s) * 1000:.0f} ms, "
            f"max {max(score.latencies_s) * 1000:.0f} ms"
        )
    categories = sorted({c for pair in score.confusion for c in pair})
    width = max((len(c) for c in categories), default=8)
    short = [c[:6] for c in categories]
    lines.append("confusion (rows: truth, columns: verdict)")
    lines.append(" " * (width + 1) + " ".join(f"{s:>6}" for s in short))
    for truth in categories:
        row = " ".join(f"{score.confusion.get((truth, got), 0):>6}" for got in categories)
        lines.append(f"{truth:<{width}} {row}")
    families = Counter(w["family"] for w in score.wrong)
    if families:
        lines.append("wrong by family: " + ", ".join(f"{f} {n}" for f, n in families.most_common()))
    lines += [f"  {wrong}" for wrong in score.wrong[:8]]
    lines += [f"  error: {e}" for e in score.errors[:5]]
    return "\n".join(lines)


def run(days: int, limit: int | None = None) -> Score:
    with tempfile.TemporaryDirectory(prefix="eval-investigate-") as tmp:
        started = time.perf_counter()
        prepared = prepare(Path(tmp), days)
        print(f"scenario of {days} days prepared and synced in {time.perf_counter() - started:.1f} s", flush=True)
        try:
            return anyio.run(lambda: evaluate(prepared, limit=limit))
        finally:
            anyio.run(prepared.conn.aclose)
            prepared.state.close()


def main() -> None:
    days = int(os.environ.get("EVAL_DAYS", "30"))
    print(report(run(days)))


if __name__ == "__main__":
    main()
