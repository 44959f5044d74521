from __future__ import annotations

import json

from typer.testing import CliRunner

from harness_connector.cli import app

runner = CliRunner()


def test_url_prints_the_identifiers_of_an_execution_page_as_json() -> None:
    link = "https://app.harness.io/ng/account/A1/ci/orgs/default/projects/web/pipelines/build/executions/Ex9/pipeline"
    result = runner.invoke(app, ["url", link, "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "account_id": "A1",
        "org_id": "default",
        "project_id": "web",
        "module": "ci",
        "resource_type": "execution",
        "resource_id": "Ex9",
        "pipeline_id": "build",
        "execution_id": "Ex9",
    }


def test_url_rejects_a_non_harness_url_with_exit_code_2() -> None:
    result = runner.invoke(app, ["url", "https://example.com/some/page"])
    assert result.exit_code == 2
    assert "expected a Harness UI URL" in result.stderr
