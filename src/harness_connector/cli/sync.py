"""`harness-connector sync`: copy finished executions, test results and failure signatures into the history store."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from harness_connector.cli.session import Session, open_session, say
from harness_connector.config import Settings
from harness_connector.errors import HarnessConnectorError
from harness_connector.services.ingest import open_history
from harness_connector.services.quarantine import DEFAULT_LIFT_AFTER
from harness_connector.services.sync import SyncProgress, SyncReport, sync_project

_SPAN = re.compile(r"^(\d+)([mhdw])$")
_UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000}


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command(name="sync")(sync)


def parse_span(text: str) -> int:
    """Milliseconds in a span such as `30d`, `12h`, `2w`.

    Raises:
        typer.BadParameter: the span is not a number followed by m, h, d or w.
    """
    found = _SPAN.match(text.strip())
    if not found:
        raise typer.BadParameter(f"{text!r} is not a span like 30d, 12h or 2w")
    return int(found.group(1)) * _UNIT_MS[found.group(2)]


def sync(
    org: Annotated[str | None, typer.Option(help="Organization (default: HARNESS_ORG, or the sandbox's).")] = None,
    project: Annotated[list[str] | None, typer.Option(help="Project; repeat for several.")] = None,
    since: Annotated[str, typer.Option(help="How far back to look on the first sync: 30d, 12h, 2w.")] = "30d",
    db: Annotated[Path | None, typer.Option(help="History store file (default: HARNESS_DB).")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=16, help="Executions fetched at once.")] = 4,
    keep_logs: Annotated[
        bool, typer.Option("--keep-logs", help="Also keep the raw logs of failed steps (compressed).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Sync finished executions (graphs, test results, failure signatures) into the history store.

    Incremental and resumable: a cursor per project; an interrupted sync loses nothing, a re-run adds no duplicates.
    """
    span_ms = parse_span(since)
    settings = Settings()
    try:
        session = open_session(settings)
    except HarnessConnectorError as exc:
        say(f"error: {exc}")
        raise typer.Exit(2) from exc
    store_path = db or settings.db_path
    reports = anyio.run(_run, session, store_path, org, project or [], span_ms, concurrency, keep_logs, as_json)
    _print(reports, store_path, as_json=as_json)
    if any(r.errors for r in reports):
        raise typer.Exit(1)


async def _run(
    session: Session,
    store_path: Path,
    org: str | None,
    projects: list[str],
    span_ms: int,
    concurrency: int,
    keep_logs: bool,
    quiet: bool,
) -> list[SyncReport]:
    store = open_history(store_path)
    reports: list[SyncReport] = []
    try:
        async with session.open_connection() as conn:
            chosen_org = org or conn.org
            chosen = projects or ([conn.project] if conn.project else [])
            if not chosen_org or not chosen:
                raise typer.BadParameter("say which --org and --project (or set HARNESS_ORG and HARNESS_PROJECT)")
            now = session.now_ms()
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[tests]} test results"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                disable=quiet,
            ) as bar:
                for name in chosen:
                    task = bar.add_task(f"{chosen_org}/{name}", total=None, tests=0)

                    def show(p: SyncProgress, task: TaskID = task) -> None:
                        bar.update(task, total=p.total, completed=p.done, tests=p.test_results)

                    report = await sync_project(
                        conn,
                        store,
                        org=chosen_org,
                        project=name,
                        since_ms=now - span_ms,
                        now_ms=now,
                        concurrency=concurrency,
                        keep_logs=keep_logs,
                        on_progress=show,
                    )
                    reports.append(report)
    finally:
        store.close()
    return reports


def _print(reports: list[SyncReport], store_path: Path, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps([{**r.__dict__, "store": str(store_path)} for r in reports], indent=2))
        return
    table = Table(title=f"sync into {store_path}")
    for column in ("project", "new executions", "test results", "signatures", "known", "running", "requests", "errors"):
        table.add_column(column)
    for r in reports:
        table.add_row(
            f"{r.org}/{r.project}",
            str(r.new_executions),
            str(r.test_results),
            str(r.log_signatures),
            str(r.already_known),
            str(r.still_running),
            str(r.requests_made),
            str(len(r.errors)),
        )
    console = Console()
    console.print(table)
    for r in reports:
        if r.quarantines_lifted:
            console.print(
                f"{r.org}/{r.project}: {r.quarantines_lifted} quarantine(s) lifted, their tests having passed "
                f"{DEFAULT_LIFT_AFTER} first attempts in a row; see `harness-connector quarantine audit`",
                highlight=False,
            )
        for error in r.errors[:10]:
            console.print(f"[red]error[/] {r.org}/{r.project}: {error}", markup=True, highlight=False)
