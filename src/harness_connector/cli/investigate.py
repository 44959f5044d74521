"""`harness-connector investigate`: why a build failed and whether to re-run or fix it, from the terminal.

`investigate EXECUTION_ID` investigates a failed execution (on Harness with a key, else on the embedded sandbox);
`investigate --log FILE` classifies a standalone log file with no Harness at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from harness_connector.cli.session import open_session, say
from harness_connector.config import Settings
from harness_connector.errors import HarnessConnectorError
from harness_connector.services.investigate import investigate_execution, investigate_log
from harness_connector.services.investigate_models import EvidenceLine, Investigation, LogInvestigation, Verdict

__all__ = ["register"]

_COLOURS = {"rerun_now": "green", "rerun_after_outage": "yellow", "fix": "red"}


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command(name="investigate")(investigate)


def investigate(
    execution_id: Annotated[str | None, typer.Argument(help="The failed execution (planExecutionId).")] = None,
    log: Annotated[Path | None, typer.Option("--log", help="Classify this log file (text or JSON lines).")] = None,
    url: Annotated[str | None, typer.Option(help="A Harness UI URL of the execution.")] = None,
    org: Annotated[str | None, typer.Option(help="Organization (default: HARNESS_ORG).")] = None,
    project: Annotated[str | None, typer.Option(help="Project (default: HARNESS_PROJECT).")] = None,
    budget: Annotated[int, typer.Option(min=300, help="Token budget of the answer.")] = 2000,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Investigate a failed execution, or classify a log file: category, transient or not, what to do, evidence."""
    try:
        if log is not None:
            found: Investigation | LogInvestigation = investigate_log(log)
        elif execution_id or url:
            found = anyio.run(_investigate, execution_id, url, org, project, budget)
        else:
            raise typer.BadParameter("give an EXECUTION_ID, --url, or --log FILE")
    except HarnessConnectorError as exc:
        say(f"error: {exc}")
        raise typer.Exit(2) from exc
    if as_json:
        print(json.dumps(found.model_dump(mode="json", exclude_none=True), indent=2))
        return
    _print(Console(), found)


async def _investigate(
    execution_id: str | None, url: str | None, org: str | None, project: str | None, budget: int
) -> Investigation:
    session = open_session(Settings())
    async with session.open_connection() as conn:
        return await investigate_execution(
            conn,
            execution_id=execution_id,
            url=url,
            org_id=org,
            project_id=project,
            token_budget=budget,
            now_ms=session.now_ms(),
        )


def _print(console: Console, found: Investigation | LogInvestigation) -> None:
    verdict = found.verdict
    console.print(_verdict_panel(verdict))
    if isinstance(found, Investigation) and found.failed_step is not None:
        step = found.failed_step
        console.print(
            f"failed step: {step.stage}/{step.step} ({step.step_type or '?'}), {step.log_lines:,} log lines"
            + (f", {step.new_templates} template(s) new since the last success" if step.new_templates else "")
        )
        if step.message:
            console.print(f"Harness says: {step.message}", markup=False)
    if found.evidence:
        console.print(_evidence_table(found.evidence))
    if isinstance(found, Investigation) and found.history is not None and found.history.tests:
        for line in found.history.tests:
            console.print(f"  test {line}", markup=False)


def _verdict_panel(verdict: Verdict) -> Panel:
    colour = _COLOURS.get(verdict.recommendation, "white")
    lines = [
        f"[bold]{verdict.category}[/]  transient: {'yes' if verdict.transient else 'no'}  "
        f"confidence {verdict.confidence:.0%}  → [{colour}]{verdict.recommendation.replace('_', ' ')}[/]",
        verdict.summary,
        "",
        verdict.remediation,
    ]
    if verdict.reasons:
        lines += ["", *(f"• {reason}" for reason in verdict.reasons)]
    return Panel("\n".join(lines), title="verdict", expand=False)


def _evidence_table(evidence: list[EvidenceLine]) -> Table:
    table = Table(title="evidence")
    for column in ("step", "line", "text", "why"):
        table.add_column(column)
    for line in evidence:
        where = f"{line.stage}/{line.step}" if line.step else ""
        table.add_row(where, str(line.n), line.text, line.why)
    return table
