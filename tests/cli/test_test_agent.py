"""`harness-connector test-agent` refuses to start on a bad profiles file, on an exposed bind without a token, and
on a workdir another agent holds (in-process: each stops before anything is served; the serving agent is tested as
a process in tests/delegate/test_agent/test_app.py)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from harness_connector.cli import app
from harness_connector.delegate.test_agent.store import ExecutionStore

runner = CliRunner()


def test_a_bad_profiles_file_exits_2_naming_the_profile_and_the_field(tmp_path: Path) -> None:
    config = tmp_path / "profiles.yaml"
    config.write_text("unit:\n  command: pytest\n  timeout: soon\n", encoding="utf-8")

    done = runner.invoke(app, ["test-agent", "--config", str(config), "--workdir", str(tmp_path / "work")])

    assert done.exit_code == 2
    assert f"error: {config}: profile 'unit', field 'timeout': 'soon' is not a duration" in done.stderr
    assert not (tmp_path / "work").exists()


def test_a_bind_beyond_loopback_without_a_token_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "profiles.yaml"
    config.write_text("unit: pytest\n", encoding="utf-8")

    done = runner.invoke(
        app, ["test-agent", "--config", str(config), "--host", "0.0.0.0", "--workdir", str(tmp_path / "work")]
    )

    assert done.exit_code == 2
    assert "exposes the test agent beyond this machine" in done.stderr
    assert "pass --token" in done.stderr


def test_a_workdir_another_agent_holds_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "profiles.yaml"
    config.write_text("unit: pytest\n", encoding="utf-8")
    holder = ExecutionStore(tmp_path / "work")
    holder.lock()

    done = runner.invoke(app, ["test-agent", "--config", str(config), "--workdir", str(tmp_path / "work")])

    assert done.exit_code == 2
    assert f"another test agent keeps its executions in {(tmp_path / 'work').resolve()}" in done.stderr
