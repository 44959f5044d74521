"""`harness-connector delegate`: a delegate that registers with a manager, runs the steps it is given, reports back.

Configured like Harness's delegate image: the options fall back to the same environment variables
(`MANAGER_HOST_AND_PORT`, `DELEGATE_TOKEN`, `DELEGATE_NAME`, `DELEGATE_TAGS`, `ACCOUNT_ID`), so a container
set up for one starts the other. An option on the command line wins over its variable.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from harness_connector import __version__
from harness_connector.config import default_data_dir
from harness_connector.delegate.agent import Agent, AgentConfig
from harness_connector.errors import ConfigError

__all__ = ["build_config", "delegate", "main", "register"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
_MAX_POLL_WAIT_S = 30  # the manager answers a long poll after 30 s at most


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command(name="delegate")(delegate)


def _required(value: str | None, what: str, option: str, variable: str) -> str:
    if value is None or not value.strip():
        raise ConfigError(f"{what} is required: set {variable} (or pass {option})")
    return value.strip()


def build_config(
    *,
    manager: str | None,
    token: str | None,
    name: str | None,
    account: str | None,
    tags: str | None,
    workdir: Path | None,
    state_dir: Path | None,
) -> AgentConfig:
    """Check the options and fill the defaults; `ConfigError` names the variable or option to fix."""
    manager_url = _required(manager, "the manager URL", "--manager", "MANAGER_HOST_AND_PORT").rstrip("/")
    if not manager_url.startswith(("http://", "https://")):
        raise ConfigError(f"MANAGER_HOST_AND_PORT must be an http(s) URL, got {manager_url!r}")
    secret = _required(token, "the delegate token", "--token", "DELEGATE_TOKEN")
    delegate_name = _required(name, "the delegate name", "--name", "DELEGATE_NAME")
    if not _NAME.fullmatch(delegate_name):
        raise ConfigError(
            f"DELEGATE_NAME {delegate_name!r} is not a valid name: letters, digits, '-', '_' and '.', at most 63"
        )
    # A delegate token does not say which account it belongs to (unlike pat./sat. API keys), so it is asked for.
    account_id = _required(account, "the account id", "--account", "ACCOUNT_ID")
    home = default_data_dir() / "delegate" / delegate_name
    return AgentConfig(
        manager_url=manager_url,
        account_id=account_id,
        token=secret,
        name=delegate_name,
        tags=tuple(tag.strip() for tag in (tags or "").split(",") if tag.strip()),
        workdir=(workdir or home / "work").expanduser().resolve(),
        state_dir=(state_dir or home / "state").expanduser().resolve(),
        host_name=socket.gethostname(),
        version=__version__,
    )


def delegate(
    manager: Annotated[
        str | None, typer.Option(envvar="MANAGER_HOST_AND_PORT", help="The manager's base URL (https://...).")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="DELEGATE_TOKEN", help="Delegate token; prefer the variable (options show in `ps`)."),
    ] = None,
    name: Annotated[str | None, typer.Option(envvar="DELEGATE_NAME", help="The delegate's name.")] = None,
    account: Annotated[str | None, typer.Option(envvar="ACCOUNT_ID", help="The account id the token belongs to.")] = (
        None
    ),
    tags: Annotated[
        str | None, typer.Option(envvar="DELEGATE_TAGS", help="Comma-separated tags (steps select delegates by them).")
    ] = None,
    org: Annotated[str | None, typer.Option(help="Install at org level: the org identifier.")] = None,
    project: Annotated[str | None, typer.Option(help="Install at project level (with --org).")] = None,
    workdir: Annotated[
        Path | None, typer.Option(help="Where tasks run, one directory each (default: under the data directory).")
    ] = None,
    state_dir: Annotated[
        Path | None, typer.Option(help="Where undelivered results wait (default: under the data directory).")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Tasks run at once.")] = 2,
    heartbeat_interval: Annotated[float, typer.Option(min=0.1, help="Seconds between heartbeats.")] = 30.0,
    poll_wait: Annotated[float, typer.Option(min=1, max=_MAX_POLL_WAIT_S, help="Long-poll wait, seconds.")] = 20.0,
    grace: Annotated[float, typer.Option(min=0, help="Seconds running tasks get to finish on SIGTERM.")] = 30.0,
    max_backoff: Annotated[
        float, typer.Option(min=0.1, help="Longest wait, seconds, between retries while the manager is away.")
    ] = 30.0,
    keep_workspaces: Annotated[
        bool, typer.Option("--keep-workspaces", help="Keep each task's directory after it ends.")
    ] = False,
    health_port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="Serve GET /api/health on this port.")
    ] = None,
    health_host: Annotated[str, typer.Option(help="Address the health endpoint binds.")] = "127.0.0.1",
) -> None:
    """Run a delegate: register with the manager, run the steps it hands out, send back logs, tests and results.

    SIGTERM or Ctrl+C stops it gracefully (running tasks get --grace seconds); a second one stops it at once.
    Results the manager could not take yet wait in --state-dir and are delivered on the next start.
    """
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    # httpx2 logs every request at INFO; a delegate polls all day.
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    try:
        if project and not org:
            raise ConfigError("--project needs --org: a project lives in an org")
        config = build_config(
            manager=manager,
            token=token,
            name=name,
            account=account,
            tags=tags,
            workdir=workdir,
            state_dir=state_dir,
        )
        config = replace(
            config,
            org=org,
            project=project,
            concurrency=concurrency,
            heartbeat_interval_s=heartbeat_interval,
            poll_wait_s=poll_wait,
            grace_s=grace,
            max_backoff_s=max_backoff,
            keep_workspaces=keep_workspaces,
            health_host=health_host,
            health_port=health_port,
        )
        agent = Agent(config, environ=os.environ)
    except (ConfigError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        raise typer.Exit(2) from exc
    raise typer.Exit(agent.run())


def main() -> None:
    """Run `delegate` as a program of its own (for containers and tests)."""
    app = typer.Typer(add_completion=False)
    register(app)
    app()
