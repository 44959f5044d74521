"""The investigation scored against the sandbox's ground truth: every failed execution of a scenario.

The scenario is the default seed over four days (the full 30 days runs in `python -m bench.eval_investigate`):
synced into a history store with its telemetry events, then each failed execution the truth explains is
investigated and its category and transient flag compared. Targets: 95 % each. The confusion matrix is printed
(`pytest -s` shows it).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import anyio
import pytest

from bench.eval_investigate import TARGET, evaluate, prepare, report

pytestmark = pytest.mark.slow

DAYS = 4


def test_category_and_transient_accuracy_meet_the_targets_on_the_sandbox_scenario() -> None:
    with tempfile.TemporaryDirectory(prefix="eval-investigate-") as tmp:
        prepared = prepare(Path(tmp), DAYS)
        try:
            score = anyio.run(lambda: evaluate(prepared))
        finally:
            anyio.run(prepared.conn.aclose)
            prepared.state.close()
    print(report(score))
    assert score.errors == []
    assert score.total >= 100
    assert len({truth for truth, _ in score.confusion}) >= 10  # the scenario exercises most categories
    assert score.category_accuracy >= TARGET, report(score)
    assert score.transient_accuracy >= TARGET, report(score)
