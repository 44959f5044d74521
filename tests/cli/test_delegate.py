"""`harness-connector delegate`: options, the environment variables Harness's image uses, and clear refusals."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from harness_connector.cli.delegate import build_config, register
from harness_connector.delegate.agent import Agent
from harness_connector.errors import ConfigError

runner = CliRunner()
DELEGATE_VARIABLES = ("MANAGER_HOST_AND_PORT", "DELEGATE_TOKEN", "DELEGATE_NAME", "DELEGATE_TAGS", "ACCOUNT_ID")


def app() -> typer.Typer:
    fresh = typer.Typer()
    register(fresh)
    return fresh


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in DELEGATE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_the_harness_image_variables_are_read_and_only_the_missing_account_is_reported() -> None:
    env = {"MANAGER_HOST_AND_PORT": "http://127.0.0.1:9", "DELEGATE_TOKEN": "tok", "DELEGATE_NAME": "d1"}
    result = runner.invoke(app(), [], env=env)

    assert result.exit_code == 2
    assert "the account id is required: set ACCOUNT_ID (or pass --account)" in result.stderr
    assert "tok" not in result.stderr


@pytest.mark.parametrize(
    ("missing", "variable"),
    [("--manager", "MANAGER_HOST_AND_PORT"), ("--token", "DELEGATE_TOKEN"), ("--name", "DELEGATE_NAME")],
    ids=["manager", "token", "name"],
)
def test_each_required_setting_names_its_variable_when_missing(missing: str, variable: str) -> None:
    options = {"--manager": "http://127.0.0.1:9", "--token": "tok", "--name": "d1", "--account": "acct"}
    del options[missing]
    result = runner.invoke(app(), [part for pair in options.items() for part in pair])

    assert result.exit_code == 2
    assert f"set {variable} (or pass {missing})" in result.stderr


def test_a_manager_url_without_a_scheme_is_refused() -> None:
    with pytest.raises(ConfigError, match="MANAGER_HOST_AND_PORT must be an http"):
        build_config(
            manager="app.harness.io", token="t", name="d1", account="a", tags=None, workdir=None, state_dir=None
        )


def test_a_project_without_an_org_is_refused() -> None:
    result = runner.invoke(
        app(), ["--manager", "http://127.0.0.1:9", "--token", "t", "--name", "d1", "--account", "a", "--project", "p"]
    )
    assert result.exit_code == 2
    assert "--project needs --org" in result.stderr


def test_options_win_over_variables_and_tags_are_split_and_trimmed(tmp_path: Path) -> None:
    config = build_config(
        manager="https://manager.example.com/",
        token="secret-value",
        name="bridge-1",
        account="acct",
        tags=" avo-bridge, linux ,,",
        workdir=tmp_path / "w",
        state_dir=tmp_path / "s",
    )

    assert (config.manager_url, config.name, config.tags) == (
        "https://manager.example.com",
        "bridge-1",
        ("avo-bridge", "linux"),
    )
    assert (config.workdir, config.state_dir) == (tmp_path / "w", tmp_path / "s")
    assert (config.concurrency, config.heartbeat_interval_s, config.poll_wait_s, config.grace_s) == (
        2,
        30.0,
        20.0,
        30.0,
    )
    assert "secret-value" not in repr(config)


def test_two_delegates_cannot_share_a_state_directory(tmp_path: Path) -> None:
    config = build_config(
        manager="http://127.0.0.1:9",
        token="t",
        name="d1",
        account="a",
        tags=None,
        workdir=tmp_path / "w",
        state_dir=tmp_path / "s",
    )
    first = Agent(config, environ={})
    try:
        with pytest.raises(ConfigError, match="another delegate is running with the state directory"):
            Agent(config, environ={})
    finally:
        first.close()


def test_a_health_port_already_in_use_is_a_configuration_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(
            app(),
            [
                "--manager",
                "http://127.0.0.1:9",
                "--token",
                "t",
                "--name",
                "d1",
                "--account",
                "a",
                "--state-dir",
                str(tmp_path / "s"),
                "--workdir",
                str(tmp_path / "w"),
                "--health-port",
                str(port),
            ],
        )

    assert result.exit_code == 2
    assert f"--health-port {port} cannot be used on 127.0.0.1" in result.stderr
