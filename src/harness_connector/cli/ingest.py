"""`harness-connector ingest junit|events`: load JUnit reports or telemetry events into the history store."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harness_connector.cli.session import say
from harness_connector.config import Settings
from harness_connector.domain import TelemetryEvent
from harness_connector.errors import HarnessConnectorError
from harness_connector.junit import FileSummary, JUnitContext, JUnitError, find_report_files, stream_into
from harness_connector.store import Store, open_store

ingest_app = typer.Typer(help="Load JUnit reports or telemetry events into the history store.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the command group to the CLI."""
    app.add_typer(ingest_app, name="ingest")


def _store(db: Path | None) -> Store:
    try:
        return open_store(db or Settings().db_path)
    except HarnessConnectorError as exc:
        say(f"error: {exc}")
        raise typer.Exit(2) from exc


@ingest_app.command("junit")
def junit(
    paths: Annotated[list[str], typer.Argument(help="Files, directories or globs of JUnit/xUnit XML reports.")],
    execution: Annotated[str | None, typer.Option(help="Execution id the results belong to.")] = None,
    pipeline: Annotated[str | None, typer.Option(help="Pipeline id.")] = None,
    commit: Annotated[str | None, typer.Option(help="Commit SHA that was tested.")] = None,
    branch: Annotated[str | None, typer.Option(help="Branch that was tested.")] = None,
    pr: Annotated[int | None, typer.Option(help="Pull request number.")] = None,
    db: Annotated[Path | None, typer.Option(help="History store file (default: HARNESS_DB).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the per-file summary as JSON.")] = False,
) -> None:
    """Ingest JUnit reports: each file is stored whole or not at all; a bad file is named with its problem."""
    found = find_report_files(paths)
    if not found.files:
        say(f"error: no JUnit files found in {', '.join(paths)}")
        raise typer.Exit(2)
    context = JUnitContext(
        execution_id=execution or f"local-{int(time.time() * 1000)}",
        pipeline_id=pipeline,
        commit_sha=commit,
        branch=branch,
        pr_number=pr,
    )
    store = _store(db)
    summaries: list[FileSummary] = []
    failures: list[str] = []
    try:
        for path in found.files:
            try:
                with store.transaction():
                    summaries.append(stream_into(path, context, store.add_test_results))
            except JUnitError as exc:
                failures.append(str(exc))
    finally:
        store.close()
    _report(summaries, failures, list(found.skipped), as_json=as_json)
    if failures:
        raise typer.Exit(1)


def _report(summaries: list[FileSummary], failures: list[str], skipped: list[Path], *, as_json: bool) -> None:
    if as_json:
        document = {"files": [asdict(s) for s in summaries], "errors": failures, "skipped": [str(p) for p in skipped]}
        print(json.dumps(document, indent=2))
        return
    table = Table(title="JUnit ingested")
    for column in ("file", "cases", "passed", "failed", "errors", "skipped", "flaky"):
        table.add_column(column)
    for s in summaries:
        table.add_row(s.path, *(str(v) for v in (s.cases, s.passed, s.failed, s.errors, s.skipped, s.flaky)))
    console = Console()
    console.print(table)
    for path in skipped:
        console.print(f"skipped (not JUnit): {path}", highlight=False)
    for failure in failures:
        Console(stderr=True).print(f"[red]not ingested:[/] {failure}", highlight=False)


def _epoch_ms(value: object) -> int:
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip().replace("Z", "+00:00")
    return int(datetime.fromisoformat(text).timestamp() * 1000)


@ingest_app.command("events")
def events(
    file: Annotated[Path, typer.Argument(help="A JSON-lines file of {time, source, kind, service, host, message}.")],
    db: Annotated[Path | None, typer.Option(help="History store file (default: HARNESS_DB).")] = None,
) -> None:
    """Ingest telemetry events (network errors, alerts) from a JSON-lines file; a bad line stops with nothing stored."""
    parsed: list[TelemetryEvent] = []
    try:
        with file.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                    parsed.append(
                        TelemetryEvent(
                            time_ms=_epoch_ms(raw["time"]),
                            source=str(raw.get("source") or "unknown"),
                            kind=str(raw["kind"]),
                            service=raw.get("service"),
                            host=raw.get("host"),
                            message=str(raw.get("message") or ""),
                        )
                    )
                except (ValueError, KeyError, TypeError) as exc:
                    say(f"error: {file}:{number}: not an event ({exc}); each line needs time and kind. Nothing stored.")
                    raise typer.Exit(2) from exc
    except OSError as exc:
        say(f"error: cannot read {file}: {exc}")
        raise typer.Exit(2) from exc
    store = _store(db)
    try:
        with store.transaction():
            added = store.add_telemetry(parsed)
    finally:
        store.close()
    Console().print(f"{len(parsed)} events read, {added} new")
