"""`harness-connector tests run`: the pipeline step's side of the test-execution bridge."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from harness_connector.delegate.bridge import EXIT_USAGE, Bridge, BridgeOptions, check_server_url
from harness_connector.delegate.durations import parse_duration
from harness_connector.delegate.wire import WireClient

__all__ = ["register"]

tests_app = typer.Typer(
    help="Run tests on a test agent or an Avo Assure server from a pipeline step.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add the command group to the CLI."""
    app.add_typer(tests_app, name="tests")


def _warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _say(message: str) -> None:
    print(message, flush=True)


@tests_app.command(name="run")
def run(
    server: Annotated[
        str, typer.Option(envvar="HARNESS_TEST_AGENT_URL", help="The test agent's (or Avo Assure's) base URL.")
    ],
    key: Annotated[str, typer.Option(help="The execution profile key to run.")],
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for the verdict, or only start the run.")] = True,
    junit: Annotated[
        Path | None, typer.Option(help="Write the run's JUnit XML here (for a Run step's reports).")
    ] = None,
    poll_interval: Annotated[float, typer.Option(min=0.05, help="Seconds between status polls.")] = 5.0,
    timeout: Annotated[
        str | None, typer.Option(help="Stop waiting after this long (seconds, or 10m, 1h): exit 3.")
    ] = None,
    env_file: Annotated[
        Path | None, typer.Option(help="Write TEST_STATUS, TEST_EXECUTION_ID, ... as KEY=value lines here.")
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="HARNESS_TEST_AGENT_TOKEN", help="Bearer token the test agent requires.")
    ] = None,
    retry_budget: Annotated[
        float,
        typer.Option(
            min=0.0, envvar="HARNESS_TESTS_RETRY_BUDGET", help="Seconds to keep retrying an unreachable server."
        ),
    ] = 30.0,
) -> None:
    """Start the profile KEY on the server, wait for it, write JUnit and output variables, exit on the verdict.

    Exit codes: 0 passed (or started, with --no-wait); 1 failed, error, timeout or aborted; 2 bad request (bad
    URL, unknown key, missing token); 3 --timeout reached; 4 server unreachable. For a server without a JUnit
    endpoint (Avo Assure), the JUnit is built from the report's per-test rows, or is a single test case standing
    for the whole run. TEST_FAILED counts failed and errored tests.
    """
    problem = check_server_url(server)
    timeout_s: float | None = None
    if timeout is not None:
        try:
            timeout_s = parse_duration(timeout)
        except ValueError as exc:
            problem = f"--timeout: {exc}"
    if problem:
        _warn(f"error: {problem}")
        raise typer.Exit(EXIT_USAGE)
    options = BridgeOptions(
        server=server,
        key=key,
        wait=wait,
        junit_path=junit,
        env_file=env_file,
        poll_interval_s=poll_interval,
        timeout_s=timeout_s,
        retry_budget_s=retry_budget,
    )
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = WireClient(server, headers=lambda: headers)
    try:
        code = Bridge(client, options, say=_say, warn=_warn).run()
    finally:
        client.close()
    raise typer.Exit(code)
