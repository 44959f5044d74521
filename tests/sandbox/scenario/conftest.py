"""A generated scenario shared by the scenario tests (generating one takes seconds, so it is made once).

The pieces come as separate fixtures with plain types: the state, the summary, the ground truth, the telemetry
events and the execution records, all of ten days of seed 42 ending at 2026-09-21T14:13:20Z (a Monday).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from harness_connector.sandbox.model import ExecutionRecord
from harness_connector.sandbox.scenario import ScenarioSummary, generate_scenario
from harness_connector.sandbox.state import SandboxState

ANCHOR_MS = 1_790_000_000_000
DAYS = 10


@dataclass
class _Generated:
    state: SandboxState
    summary: ScenarioSummary
    truth: dict[str, Any]
    events: list[dict[str, Any]]
    records: list[ExecutionRecord]


@pytest.fixture(scope="session")
def _generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Generated]:
    directory = tmp_path_factory.mktemp("scenario")
    state = SandboxState(directory / "sandbox.db")
    truth_path, events_path = directory / "truth.json", directory / "events.jsonl"
    summary = generate_scenario(
        state, seed=42, days=DAYS, anchor_ms=ANCHOR_MS, truth_path=truth_path, events_path=events_path
    )
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    events = [json.loads(line) for line in events_path.read_text(encoding="utf-8").splitlines()]
    rows = state.query("SELECT doc FROM executions ORDER BY start_ts, id")
    records = [ExecutionRecord.model_validate_json(row[0]) for row in rows]
    yield _Generated(state, summary, truth, events, records)
    state.close()


@pytest.fixture(scope="session")
def anchor_ms() -> int:
    return ANCHOR_MS


@pytest.fixture(scope="session")
def scenario_state(_generated: _Generated) -> SandboxState:
    return _generated.state


@pytest.fixture(scope="session")
def scenario_summary(_generated: _Generated) -> ScenarioSummary:
    return _generated.summary


@pytest.fixture(scope="session")
def truth(_generated: _Generated) -> dict[str, Any]:
    return _generated.truth


@pytest.fixture(scope="session")
def events(_generated: _Generated) -> list[dict[str, Any]]:
    return _generated.events


@pytest.fixture(scope="session")
def records(_generated: _Generated) -> list[ExecutionRecord]:
    return _generated.records
