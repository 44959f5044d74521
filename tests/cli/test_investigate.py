"""`harness-connector investigate`: a failed execution on the embedded sandbox, or a log file with no Harness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness_connector.cli import app
from harness_connector.cli.embedded import prepare_sandbox

runner = CliRunner()

NPM_OUTAGE = """\
> shop-web@2.4.1 ci
> npm ci --no-audit

npm http fetch GET 503 https://registry.npmjs.org/react-dom 1204ms (cache revalidated)
npm ERR! code E503
npm ERR! 503 Service Unavailable - GET https://registry.npmjs.org/react-dom

npm ERR! A complete log of this run can be found in: /root/.npm/_logs/2026-11-20T10_00_00_000Z-debug-0.log
"""


def test_a_plain_text_log_is_classified_with_its_evidence_lines(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text(NPM_OUTAGE)
    result = runner.invoke(app, ["investigate", "--log", str(log), "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["verdict"]["category"] == "dependency_registry_outage"
    assert found["verdict"]["transient"] is True
    assert found["verdict"]["rule"] == "npm_registry_unavailable"
    assert any(line["n"] == 5 and "E503" in line["text"] for line in found["evidence"])
    assert found["log_lines"] == 8


def test_a_harness_json_lines_log_reads_the_same_and_prints_a_verdict_panel(tmp_path: Path) -> None:
    log = tmp_path / "step.jsonl"
    log.write_text(
        "\n".join(
            json.dumps({"level": "info", "pos": n, "out": text + "\n", "time": "2026-11-20T10:00:00Z"})
            for n, text in enumerate(NPM_OUTAGE.splitlines())
        )
    )
    result = runner.invoke(app, ["investigate", "--log", str(log)])
    assert result.exit_code == 0, result.output
    assert "dependency_registry_outage" in result.stdout
    assert "re-run" in result.stdout.lower() or "rerun" in result.stdout.lower()


def test_a_missing_file_or_no_target_is_a_clear_error(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["investigate", "--log", str(tmp_path / "nope.log")])
    assert missing.exit_code == 2
    assert "cannot read" in missing.output
    nothing = runner.invoke(app, ["investigate"])
    assert nothing.exit_code != 0
    assert "EXECUTION_ID" in nothing.output


@pytest.fixture(scope="module")
def sandbox_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], str]:
    db = prepare_sandbox(tmp_path_factory.mktemp("investigate") / "state.sqlite", seed=4, days=2)
    truth = json.loads(db.with_suffix(".truth.json").read_text())["executions"]
    execution_id, expected = next(
        (k, v) for k, v in sorted(truth.items()) if v["category"] == "dependency_registry_outage"
    )
    env = {"HARNESS_SANDBOX_DB": str(db), "HARNESS_SANDBOX_SEED": "4", "HARNESS_SANDBOX_DAYS": "2",
           "HARNESS_API_KEY": "", "HARNESS_DB": str(db.with_suffix(".duckdb")),
           "HARNESS_ORG": expected["org"], "HARNESS_PROJECT": expected["project"]}  # fmt: skip
    return env, execution_id


def test_an_execution_on_the_embedded_sandbox_is_investigated(sandbox_env: tuple[dict[str, str], str]) -> None:
    env, execution_id = sandbox_env
    # Harness execution ids are URL-safe base64 and may start with "-": after "--" they are never read as options.
    result = runner.invoke(app, ["investigate", "--json", "--", execution_id], env=env)
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["verdict"]["category"] == "dependency_registry_outage"
    assert found["failed_step"]["log_lines"] > 0
    assert found["evidence"]
    assert found["tokens_used"] <= 2000
