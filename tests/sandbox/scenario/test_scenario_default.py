from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness_connector.sandbox.scenario import generate_scenario
from harness_connector.sandbox.scenario.families import FAMILIES
from harness_connector.sandbox.state import SandboxState


@pytest.mark.slow
def test_the_default_scenario_holds_a_month_of_a_busy_account(tmp_path: Path) -> None:
    state = SandboxState(tmp_path / "sandbox.db")
    began = time.perf_counter()
    summary = generate_scenario(state, anchor_ms=1_790_000_000_000, truth_path=tmp_path / "truth.json")
    seconds = time.perf_counter() - began
    state.close()
    print(f"default scenario: {seconds:.1f} s, {summary}")
    assert (summary.seed, summary.days) == (42, 30)
    assert (summary.orgs, summary.projects) == (2, 3)
    assert summary.pipelines >= 12
    assert summary.executions >= 3_000
    assert summary.test_cases >= 50_000
    assert summary.flaky_tests >= 12
    assert 0.08 <= summary.failed / summary.executions <= 0.25
    assert set(summary.families) == set(FAMILIES)
