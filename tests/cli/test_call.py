"""`harness-connector call`: one tool in-process, printed for people or as JSON for scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness_connector.cli import app
from harness_connector.cli.embedded import prepare_sandbox

runner = CliRunner()


@pytest.fixture(scope="module")
def sandbox_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    db = prepare_sandbox(tmp_path_factory.mktemp("call") / "state.sqlite", seed=4, days=2)
    return {"HARNESS_SANDBOX_DB": str(db), "HARNESS_SANDBOX_SEED": "4", "HARNESS_SANDBOX_DAYS": "2",
            "HARNESS_API_KEY": ""}  # fmt: skip


def test_call_prints_a_tool_result_as_json_for_scripts(sandbox_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["call", "harness_list", '{"resource_type": "pipeline", "size": 2}', "--json"],
                           env=sandbox_env)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["resource_type"] == "pipeline"
    assert len(data["items"]) == 2


def test_call_reports_a_tool_error_with_exit_code_1(sandbox_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["call", "harness_list", '{"resource_type": "pipline"}', "--json"], env=sandbox_env)
    assert result.exit_code == 1
    assert "pipeline" in json.loads(result.stdout)["error"]


def test_call_rejects_arguments_that_are_not_a_json_object(sandbox_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["call", "harness_list", "[1, 2]"], env=sandbox_env)
    assert result.exit_code == 2
    assert "JSON object" in result.stderr


def test_call_declines_a_confirmation_without_a_terminal_unless_told_yes(sandbox_env: dict[str, str]) -> None:
    args = '{"resource_type": "pipeline", "resource_id": "nope_pipeline"}'
    declined = runner.invoke(app, ["call", "harness_delete", args, "--json"], env=sandbox_env)
    assert declined.exit_code == 1
    assert "declined" in json.loads(declined.stdout)["error"]
    agreed = runner.invoke(app, ["call", "harness_delete", args, "--json", "--yes"], env=sandbox_env)
    # Agreed, so the delete reaches the sandbox, which knows no such pipeline.
    assert agreed.exit_code == 1
    assert "not" in json.loads(agreed.stdout)["error"].lower()


def test_the_sandbox_state_file_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "s.sqlite"
    prepare_sandbox(target, seed=4, days=1)
    assert target.exists()
    assert not target.with_suffix(".partial").exists()
    assert target.with_suffix(".truth.json").exists()
