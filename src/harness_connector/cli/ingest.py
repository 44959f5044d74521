"""`harness-connector ingest junit|events`: load JUnit reports or telemetry events into the history store."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harness_connector.cli.session import say
from harness_connector.config import Settings
from harness_connector.errors import HarnessConnectorError, UsageError
from harness_connector.services.ingest import JUnitContext, JUnitIngest, ingest_events, ingest_junit, open_history

ingest_app = typer.Typer(help="Load JUnit reports or telemetry events into the history store.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the command group to the CLI."""
    app.add_typer(ingest_app, name="ingest")


_FILE_TIME = "mtime"


def _fallback_ms(when: str) -> int | None:
    """`--time` as epoch milliseconds; None for each file's modification time."""
    if when.strip().lower() == _FILE_TIME:
        return None
    try:
        moment = datetime.fromisoformat(when.strip().replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{when!r} is not a time; give ISO 8601 (2026-11-20T10:00:00Z) or {_FILE_TIME}", param_hint="--time"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


@ingest_app.command("junit")
def junit(
    paths: Annotated[list[str], typer.Argument(help="Files, directories or globs of JUnit/xUnit XML reports.")],
    execution: Annotated[str | None, typer.Option(help="Execution id the results belong to.")] = None,
    pipeline: Annotated[str | None, typer.Option(help="Pipeline id.")] = None,
    commit: Annotated[
        str | None,
        typer.Option(
            help="Commit SHA that was tested; `flaky` finds flaky tests by results that differ on one commit."
        ),
    ] = None,
    branch: Annotated[str | None, typer.Option(help="Branch that was tested.")] = None,
    pr: Annotated[int | None, typer.Option(help="Pull request number.")] = None,
    when: Annotated[
        str,
        typer.Option(
            "--time",
            help="When the tests ran, for reports that do not say (no suite timestamp: Surefire, Failsafe, PHPUnit "
            "and NUnit write none): an ISO 8601 time (UTC when it has no zone), or 'mtime' for each file's "
            "modification time. A report's own timestamp wins. Results without a time are outside every window "
            "of `flaky`.",
        ),
    ] = _FILE_TIME,
    db: Annotated[Path | None, typer.Option(help="History store file (default: HARNESS_DB).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the per-file summary as JSON.")] = False,
) -> None:
    """Ingest JUnit reports: each file is stored whole or not at all; a bad file is named with its problem."""
    fallback_ms = _fallback_ms(when)
    context = JUnitContext(
        execution_id=execution or f"local-{int(time.time() * 1000)}",
        pipeline_id=pipeline,
        commit_sha=commit,
        branch=branch,
        pr_number=pr,
        fallback_started_ms=fallback_ms,
        file_time_fallback=fallback_ms is None,
    )
    try:
        store = open_history(db or Settings().db_path)
        try:
            outcome = ingest_junit(store, paths, context)
        finally:
            store.close()
    except HarnessConnectorError as exc:
        say(f"error: {exc}")
        raise typer.Exit(2) from exc
    _report(outcome, as_json=as_json)
    if outcome.errors:
        raise typer.Exit(1)


def _report(outcome: JUnitIngest, *, as_json: bool) -> None:
    if as_json:
        document = {
            "files": [asdict(s) for s in outcome.summaries],
            "errors": outcome.errors,
            "skipped": [str(p) for p in outcome.skipped],
        }
        print(json.dumps(document, indent=2))
    else:
        table = Table(title="JUnit ingested")
        for column in ("file", "cases", "passed", "failed", "errors", "skipped", "flaky"):
            table.add_column(column)
        for s in outcome.summaries:
            table.add_row(s.path, *(str(v) for v in (s.cases, s.passed, s.failed, s.errors, s.skipped, s.flaky)))
        console = Console()
        console.print(table)
        for path in outcome.skipped:
            console.print(f"skipped (not JUnit): {path}", highlight=False)
    for failure in outcome.errors:
        Console(stderr=True).print(f"[red]not ingested:[/] {failure}", highlight=False)


@ingest_app.command("events")
def events(
    file: Annotated[Path, typer.Argument(help="A JSON-lines file of {time, source, kind, service, host, message}.")],
    db: Annotated[Path | None, typer.Option(help="History store file (default: HARNESS_DB).")] = None,
) -> None:
    """Ingest telemetry events (network errors, alerts); a bad line stops with nothing stored."""
    try:
        store = open_history(db or Settings().db_path)
        try:
            read, added = ingest_events(store, file)
        finally:
            store.close()
    except UsageError as exc:
        say(f"error: {exc}")
        raise typer.Exit(2) from exc
    except HarnessConnectorError as exc:
        say(f"error: {exc}")
        raise typer.Exit(2) from exc
    Console().print(f"{read} events read, {added} new")
