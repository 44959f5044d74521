"""The `harness-connector` command line: one module per command group, registered here."""

from __future__ import annotations

import typer

from harness_connector.cli import (
    call,
    delegate,
    describe,
    flaky,
    ingest,
    investigate,
    quarantine,
    sandbox,
    serve,
    sync,
    test_agent,
    tests_run,
    url,
)

app = typer.Typer(
    name="harness-connector",
    help="An MCP server for Harness CI/CD that keeps history and answers with analysis.",
    no_args_is_help=True,
    add_completion=False,
)

for _module in (
    serve,
    call,
    sandbox,
    sync,
    ingest,
    investigate,
    flaky,
    quarantine,
    describe,
    url,
    delegate,
    test_agent,
    tests_run,
):
    _module.register(app)


def main() -> None:
    """Entry point of the `harness-connector` script."""
    app()
