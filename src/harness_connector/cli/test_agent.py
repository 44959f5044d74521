"""`harness-connector test-agent`: serve test profiles over Avo Assure's DevOps protocol for pipelines to trigger."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from harness_connector.cli.session import say
from harness_connector.config import default_data_dir
from harness_connector.delegate.test_agent.app import create_app, is_loopback_host
from harness_connector.delegate.test_agent.executions import Executions
from harness_connector.delegate.test_agent.profiles import ProfileError, load_profiles
from harness_connector.delegate.test_agent.store import ExecutionStore, WorkdirInUse

__all__ = ["register"]

# Requests still open at shutdown (synchronous triggers) get this long before the runs are aborted.
_GRACEFUL_SHUTDOWN_S = 5


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command(name="test-agent")(test_agent)


def test_agent(
    config: Annotated[
        Path, typer.Option("--config", help="Profiles file (YAML): key -> command, workdir, env, timeout, reports.")
    ],
    host: Annotated[str, typer.Option(help="Address to bind (anything but loopback needs --token).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8790,
    workdir: Annotated[
        Path | None,
        typer.Option(help="Where executions are kept (default: the data directory's test-agent folder)."),
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Runs at once; the rest wait in order.")] = 1,
    token: Annotated[
        str | None,
        typer.Option(envvar="HARNESS_TEST_AGENT_TOKEN", help="Require 'Authorization: Bearer TOKEN' on every request."),
    ] = None,
    public_url: Annotated[
        str | None, typer.Option(help="Base URL for the links the agent hands out (default: as the caller reached it).")
    ] = None,
) -> None:
    """Run test executions for pipelines: POST /execAutomation {"key": ..., "executionType": ...}, then poll.

    Each run gets TEST_REPORTS_DIR (write JUnit there), TEST_PROGRESS_FILE (write "done/total" there to report
    progress), AVO_EXECUTION_ID and AVO_PROFILE_KEY in its environment. Runs and their reports are kept under
    --workdir and survive a restart. Avo Assure's own server has no authentication; with --token this one
    requires a bearer token, which `harness-connector tests run --token` sends.
    """
    try:
        profiles = load_profiles(config)
    except ProfileError as exc:
        say(f"error: {exc}")
        raise typer.Exit(2) from exc
    if not is_loopback_host(host) and not token:
        say(
            f"error: binding to {host} exposes the test agent beyond this machine, and anyone reaching it could run "
            "your test profiles; pass --token (or set HARNESS_TEST_AGENT_TOKEN) to a long random value, or bind "
            "to 127.0.0.1"
        )
        raise typer.Exit(2)
    folder = (workdir or default_data_dir() / "test-agent").expanduser().resolve()
    try:
        store = ExecutionStore(folder)
        store.lock()
    except WorkdirInUse as exc:
        say(f"error: {exc}; stop it, or pass another --workdir")
        raise typer.Exit(2) from exc
    except OSError as exc:
        say(f"error: cannot use {folder} for executions ({exc.strerror or exc}); pass another --workdir")
        raise typer.Exit(2) from exc
    # The runs get this process's environment, except the agent's own token: test code has no business with it.
    base_env = {name: value for name, value in os.environ.items() if name != "HARNESS_TEST_AGENT_TOKEN"}
    executions = Executions(profiles=profiles, store=store, base_env=base_env, concurrency=concurrency)
    app = create_app(executions, token=token, public_url=public_url)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    say(f"test agent on http://{shown_host}:{port} with profiles {', '.join(sorted(profiles))}; runs kept in {folder}")
    say("press Ctrl+C to stop")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_S)
