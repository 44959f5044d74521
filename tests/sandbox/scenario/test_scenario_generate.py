from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from harness_connector.domain.status import ExecutionStatus as S
from harness_connector.sandbox.model import ExecutionRecord
from harness_connector.sandbox.scenario import ScenarioSummary, generate_scenario
from harness_connector.sandbox.scenario.families import FAMILIES
from harness_connector.sandbox.state import SandboxState

ANCHOR = 1_790_000_000_000


def _dump(directory: Path, seed: int) -> dict[str, Any]:
    """Everything a short scenario writes: every table of the state, the truth and the events file."""
    directory.mkdir()
    state = SandboxState(directory / "sandbox.db")
    generate_scenario(
        state,
        seed=seed,
        days=3,
        anchor_ms=ANCHOR,
        truth_path=directory / "truth.json",
        events_path=directory / "events.jsonl",
    )
    tables = {
        table: state.query(f"SELECT * FROM {table} ORDER BY rowid")
        for table in ("meta", "tokens", "entities", "executions", "log_recipes", "test_cases")
    }
    state.close()
    return {
        "tables": {name: [tuple(row) for row in rows] for name, rows in tables.items()},
        "truth": (directory / "truth.json").read_text(encoding="utf-8"),
        "events": (directory / "events.jsonl").read_text(encoding="utf-8"),
    }


def test_the_same_seed_and_anchor_generate_an_identical_state_truth_and_telemetry(tmp_path: Path) -> None:
    first, second = _dump(tmp_path / "a", 42), _dump(tmp_path / "b", 42)
    assert first["tables"]["executions"], "the scenario wrote no executions"
    for table, rows in first["tables"].items():
        assert rows == second["tables"][table], f"table {table} differs between two runs of one seed"
    assert first["truth"] == second["truth"]
    assert first["events"] == second["events"]


def test_a_different_seed_generates_a_different_history(tmp_path: Path) -> None:
    first, other = _dump(tmp_path / "a", 42), _dump(tmp_path / "b", 43)
    ids = {row[0] for row in first["tables"]["executions"]}
    assert ids.isdisjoint(row[0] for row in other["tables"]["executions"])
    assert json.loads(first["truth"])["outages"] != json.loads(other["truth"])["outages"]


def test_the_account_has_two_orgs_three_projects_and_at_least_twelve_pipelines(scenario_state: SandboxState) -> None:
    orgs = {row[0] for row in scenario_state.query("SELECT identifier FROM entities WHERE kind = 'organization'")}
    projects = scenario_state.query("SELECT org, identifier FROM entities WHERE kind = 'project'")
    pipelines = scenario_state.query("SELECT org, project, identifier FROM entities WHERE kind = 'pipeline'")
    assert orgs == {"default", "platform"}
    assert {tuple(p) for p in projects} >= {("default", "payments"), ("default", "web"), ("platform", "infra")}
    assert len(pipelines) >= 12
    executed = {tuple(r) for r in scenario_state.query("SELECT DISTINCT org, project, pipeline FROM executions")}
    assert executed <= {tuple(p) for p in pipelines}


def test_every_kind_of_configuration_entity_is_seeded(scenario_state: SandboxState) -> None:
    kinds = {str(row[0]) for row in scenario_state.query("SELECT DISTINCT kind FROM entities")}
    expected = {
        "organization",
        "project",
        "pipeline",
        "input_set",
        "trigger",
        "template",
        "service",
        "environment",
        "infrastructure",
        "service_override",
        "connector",
        "secret",
        "delegate",
        "delegate_token",
        "feature_flag",
        "freeze_window",
        "audit_event",
        "repository",
        "pull_request",
    }
    assert expected <= kinds


def test_runs_end_in_every_status_harness_shows(scenario_summary: ScenarioSummary) -> None:
    statuses = scenario_summary.statuses
    for status in ("Success", "Failed", "Aborted", "Expired", "ApprovalRejected", "Running"):
        assert statuses.get(status, 0) > 0, f"no execution ended {status}: {statuses}"
    assert scenario_summary.failed == sum(statuses.get(s, 0) for s in ("Failed", "Expired", "ApprovalRejected"))


def test_every_failure_family_appears_in_the_ground_truth(truth: dict[str, Any]) -> None:
    seen = Counter(e["family"] for e in truth["executions"].values())
    assert set(FAMILIES) - set(seen) == set()
    for execution in truth["executions"].values():
        family = FAMILIES[execution["family"]]
        assert (execution["category"], execution["transient"]) == (family.category, family.transient)


def test_outages_hit_several_pipelines_inside_their_window(
    truth: dict[str, Any], records: list[ExecutionRecord], events: list[dict[str, Any]]
) -> None:
    by_id = {r.plan_execution_id: r for r in records}
    outages = [o for o in truth["outages"] if not o["pinned"]]
    registry = [o for o in outages if o["category"] == "dependency_registry_outage"]
    assert len(registry) >= 6
    for outage in outages:
        for execution_id in outage["executions_hit"]:
            step = next(s for st in by_id[execution_id].stages for s in st.steps if s.failure_message)
            assert step.start_ts is not None
            assert outage["start_ms"] <= step.start_ts < outage["end_ms"], (
                f"{execution_id} failed outside {outage['id']}"
            )
    spread = [o for o in registry if len(o["pipelines_hit"]) >= 2]
    assert len(spread) * 2 >= len(registry), "most registry outages should hit more than one pipeline"
    projects = [{by_id[e].project for e in o["executions_hit"]} for o in outages]
    assert max(len(p) for p in projects) >= 2, "some outage should cross projects"


def test_network_errors_to_the_registry_host_surround_each_registry_outage(
    truth: dict[str, Any], events: list[dict[str, Any]]
) -> None:
    for outage in truth["outages"]:
        if outage["category"] not in ("dependency_registry_outage", "rate_limit") or outage["pinned"]:
            continue
        inside = [
            e
            for e in events
            if e["kind"] == "network_error"
            and e["host"] == outage["host"]
            and outage["start"] <= e["time"] <= outage["end"]
        ]
        assert len(inside) >= 10, f"{outage['id']} has {len(inside)} network errors to {outage['host']}"
    assert {e["kind"] for e in events} >= {"network_error", "alert", "deployment"}
    assert [e["time"] for e in events] == sorted(e["time"] for e in events)


def test_flaky_tests_fail_at_close_to_their_true_rate(truth: dict[str, Any]) -> None:
    flaky = truth["flaky_tests"]
    assert len(flaky) >= 12
    assert {f["flake_rate"] for f in flaky} >= {0.01, 0.02, 0.05, 0.1, 0.2, 0.4}
    for test in flaky:
        runs, rate = test["runs"], test["flake_rate"]
        assert runs > 0 and test["pipelines"], f"{test['name']} never ran"
        if runs >= 20:
            tolerance = 4 * math.sqrt(rate * (1 - rate) / runs) + 1.5 / runs
            assert abs(test["failures"] / runs - rate) <= tolerance, test


def _main_order(scenario_state: SandboxState, repo: str) -> dict[str, int]:
    commits = json.loads(scenario_state.get_meta("scenario.commits") or "{}")[repo]
    main = [c for c in commits if c["branch"] == "main"]
    return {c["sha"]: i for i, c in enumerate(main)}


def _failed_tests(scenario_state: SandboxState, record: ExecutionRecord) -> set[str] | None:
    rows = scenario_state.query(
        "SELECT class_name, name, status FROM test_cases "
        "WHERE org = ? AND project = ? AND pipeline = ? AND build_id = ?",
        (record.org, record.project, record.pipeline_id, record.run_sequence),
    )
    if not rows:
        return None
    return {f"{c}::{n}" for c, n, status in rows if status in ("failed", "error")}


def test_tests_broken_by_a_commit_fail_from_it_until_the_fixing_commit(
    truth: dict[str, Any], records: list[ExecutionRecord], scenario_state: SandboxState
) -> None:
    main_breaks = [b for b in truth["broken_tests"] if b["scope"] == "main"]
    assert main_breaks
    checked = 0
    for broken in main_breaks:
        order = _main_order(scenario_state, broken["repo"])
        start = order[broken["broken_by"]]
        end = order[broken["fixed_by"]] if broken["fixed_by"] else math.inf
        for record in records:
            if record.pipeline_id not in broken["pipelines"] or record.pr_number or record.commit_sha not in order:
                continue
            failed = _failed_tests(scenario_state, record)
            if failed is None:
                continue
            if start <= order[record.commit_sha] < end:
                assert set(broken["tests"]) <= failed, f"{record.plan_execution_id} passed broken tests"
                checked += 1
            else:
                assert not set(broken["tests"]) & failed, f"{record.plan_execution_id} failed tests that were fine"
    assert checked >= len(main_breaks)


def test_config_regressions_fail_their_pipeline_from_the_breaking_commit_until_the_fix(
    truth: dict[str, Any], records: list[ExecutionRecord]
) -> None:
    by_id = {r.plan_execution_id: r for r in records}
    assert truth["config_regressions"]
    for regression in truth["config_regressions"]:
        failed = [by_id[e] for e in regression["failed_executions"]]
        assert failed, f"{regression['id']} broke nothing"
        assert {r.pipeline_id for r in failed} == {regression["pipeline"]}
        assert regression["broken_by"] in {r.commit_sha for r in failed}
        assert all(r.start_ts >= int(regression["broken_at_ms"]) for r in failed)


def test_pull_request_runs_belong_to_harness_code_pull_requests(
    records: list[ExecutionRecord], scenario_state: SandboxState
) -> None:
    pulls = {
        (row[0], row[1]): json.loads(row[2])
        for row in scenario_state.query("SELECT parent, identifier, doc FROM entities WHERE kind = 'pull_request'")
    }
    pr_runs = [r for r in records if r.pr_number is not None]
    assert len(pr_runs) > len(records) // 3
    for record in pr_runs:
        pull = pulls[(record.repo, str(record.pr_number))]
        assert (pull["source_branch"], pull["target_branch"]) == (record.branch, record.target_branch)


def test_test_steps_report_junit_cases_under_the_run_sequence(
    records: list[ExecutionRecord], scenario_state: SandboxState, scenario_summary: ScenarioSummary
) -> None:
    assert scenario_summary.test_cases >= 50_000
    for record in records[::20]:
        reporting = [s for st in record.stages for s in st.steps if s.has_reports]
        rows = scenario_state.query(
            "SELECT COUNT(*) FROM test_cases WHERE org = ? AND project = ? AND pipeline = ? AND build_id = ?",
            (record.org, record.project, record.pipeline_id, record.run_sequence),
        )[0][0]
        if any(s.status == S.SUCCESS for s in reporting):
            assert rows > 0, f"{record.plan_execution_id} ran its tests but reported none"
        if all(s.start_ts is None for s in reporting):
            assert rows == 0, f"{record.plan_execution_id} never ran tests but reported {rows}"
