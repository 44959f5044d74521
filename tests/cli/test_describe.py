from __future__ import annotations

import json

from typer.testing import CliRunner

from harness_connector.cli import app

runner = CliRunner()


def test_describe_lists_every_resource_type_as_json() -> None:
    result = runner.invoke(app, ["describe", "--json"])
    assert result.exit_code == 0
    listed = {item["type"]: item for item in json.loads(result.stdout)}
    assert {"pipeline", "execution", "connector", "secret", "feature_flag", "pull_request"} <= set(listed)
    assert listed["pipeline"]["operations"]["delete"] == "destructive"
    assert listed["execution"]["operations"]["get"] == "read"


def test_describe_filters_by_toolset() -> None:
    result = runner.invoke(app, ["describe", "--toolset", "connectors", "--json"])
    assert result.exit_code == 0
    assert [item["type"] for item in json.loads(result.stdout)] == ["connector"]


def test_describe_one_type_shows_its_operations_paths_and_policies() -> None:
    result = runner.invoke(app, ["describe", "connector", "--json"])
    assert result.exit_code == 0
    detail = json.loads(result.stdout)
    assert detail["operations"]["test_connection"]["method"] == "POST"
    assert detail["operations"]["test_connection"]["path"].startswith("/ng/api/connectors/testConnection/")
    assert "account" in detail["scopes"]


def test_describe_an_unknown_type_suggests_the_near_match_and_exits_2() -> None:
    result = runner.invoke(app, ["describe", "pipline"])
    assert result.exit_code == 2
    assert "pipeline" in result.stderr


def test_describe_an_unknown_toolset_lists_the_toolsets() -> None:
    result = runner.invoke(app, ["describe", "--toolset", "nope"])
    assert result.exit_code == 2
    assert "pipelines" in result.stderr
