"""`harness-connector flaky`: which tests are flaky or broken, what they cost and what to do about each, from the
history store; `--propose` turns the quarantine recommendations into proposals for a person to approve."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness_connector.cli.session import say
from harness_connector.cli.store_access import jsonable, now_ms, opened_store, proposal_json
from harness_connector.config import Settings
from harness_connector.domain.quarantine import QuarantineProposal
from harness_connector.services.flaky import flaky_report, load_codeowners
from harness_connector.services.quarantine import DEFAULT_LIFT_AFTER, auto_lift, propose

__all__ = ["register"]

_CLASS_STYLES = {"broken": "red", "flaky": "yellow", "slow_and_flaky": "magenta", "stable": "green"}
_ADVICE_STYLES = {"fix_now": "red", "quarantine": "yellow", "move_to_scheduled": "cyan", "monitor": "dim"}
_TRENDS = {"rising": "rising", "falling": "falling", "steady": "holding steady"}


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command(name="flaky")(flaky)


def flaky(
    pipeline: Annotated[str | None, typer.Option("--pipeline", help="Only this pipeline (its identifier).")] = None,
    window: Annotated[int, typer.Option("--window", min=1, max=365, help="Days of history to judge.")] = 14,
    branch: Annotated[
        str | None,
        typer.Option(help="The default branch (default: the one most executions outside pull requests ran on)."),
    ] = None,
    codeowners: Annotated[
        Path | None, typer.Option(help="A CODEOWNERS file, or the repository that holds one, to name owners.")
    ] = None,
    make_proposals: Annotated[
        bool, typer.Option("--propose", help="Store quarantine proposals for the tests recommended for quarantine.")
    ] = False,
    include_stable: Annotated[bool, typer.Option("--all", help="Also list tests that failed but are stable.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON.")] = False,
    db: Annotated[Path | None, typer.Option(help="History store file (default: HARNESS_DB).")] = None,
) -> None:
    """Flaky and broken tests over the window, costliest first, with the numbers behind each verdict.

    Approved quarantines whose tests have passed their last 20 first attempts are lifted first.
    """
    settings = Settings()
    with opened_store(db) as store:
        owners = load_codeowners(codeowners)
        now = now_ms(settings)
        lifted = auto_lift(store, now_ms=now)
        report = flaky_report(
            store,
            now_ms=now,
            window_days=window,
            pipeline_id=pipeline,
            default_branch=branch,
            owners=owners,
            include_stable=include_stable,
        )
        proposed = propose(store, report, now_ms=now) if make_proposals else None
    document: dict[str, Any] = jsonable(report)
    if as_json:
        extra: dict[str, Any] = {"lifted_quarantines": [proposal_json(p) for p in lifted]}
        if proposed is not None:
            extra["proposed_quarantines"] = [proposal_json(p) for p in proposed]
        print(json.dumps(document | extra, indent=2))
        return
    console = Console()
    _print_lifted(console, lifted)
    if document["tests"] == 0:
        say(
            f"no test results in the last {window} days in the store; run harness-connector sync first, or "
            "harness-connector ingest junit (its --time dates reports that carry no timestamp)"
        )
    _print_report(console, document, window)
    if proposed is not None:
        _print_proposed(console, proposed, db)


def _print_lifted(console: Console, lifted: Sequence[QuarantineProposal]) -> None:
    for proposal in lifted:
        console.print(
            f"lifted quarantine {proposal.proposal_id} ({proposal.class_name}.{proposal.name}): it passed its last "
            f"{DEFAULT_LIFT_AFTER} first attempts in a row",
            highlight=False,
            markup=False,
        )


def _impact_order(verdict: Mapping[str, Any]) -> tuple[int, float, float]:
    impact = verdict["impact"]
    return impact["failed_executions"] or 0, impact["ci_minutes_lost"], verdict["score"]


def _print_report(console: Console, report: Mapping[str, Any], window: int) -> None:
    verdicts = sorted(report["verdicts"], key=_impact_order, reverse=True)
    if verdicts:
        console.print(_verdict_table(verdicts, window))
    elif report["tests"]:
        console.print(f"no flaky or broken tests in the last {window} days")
    console.print(_summary(report), highlight=False, markup=False)


def _verdict_table(verdicts: Sequence[Mapping[str, Any]], window: int) -> Table:
    table = Table(title=f"flaky and broken tests, last {window} days, by impact")
    for column in (
        "test",
        "classification",
        "failure rate (interval)",
        "runs",
        "fail",
        "flips",
        "failed exec",
        "CI min",
    ):
        table.add_column(
            column, justify="left" if column in ("test", "classification", "failure rate (interval)") else "right"
        )
    table.add_column("recommendation")
    for v in verdicts:
        impact = v["impact"]
        classification, advice = v["classification"], v["recommendation"]
        table.add_row(
            Text(f"{v['class_name']}.{v['name']}"),  # parametrised names hold brackets, which are not markup
            f"[{_CLASS_STYLES.get(classification, 'white')}]{classification}[/]",
            f"{v['score']:.1%} ({v['ci_low']:.1%}-{v['ci_high']:.1%})",
            str(v["runs"]),
            str(v["failures"]),
            _count(v["flips"]),
            _count(impact["failed_executions"]),
            f"{impact['ci_minutes_lost']:.1f}",
            f"[{_ADVICE_STYLES.get(advice, 'white')}]{advice}[/]" if advice else "-",
        )
    return table


def _count(value: int | None) -> str:
    # None means "not measurable from what is stored" (no history, or no per-execution rows), not zero.
    return "-" if value is None else str(value)


def _summary(report: Mapping[str, Any]) -> str:
    impact = report["impact"]
    ignored = f"{report['ignored_executions']} executions ignored as outages"
    if report["ignored_commits"]:
        ignored += f" ({report['ignored_commits']} commits)"
    failed = impact["failed_executions"]
    return (
        f"{report['tests']} tests analysed: {report['flaky']} flaky, {report['slow_and_flaky']} slow and flaky, "
        f"{report['broken']} broken; {ignored}.\n"
        f"Impact of flaky tests: {'unknown' if failed is None else failed} failed executions, "
        f"{_count(impact['reruns'])} reruns, {impact['test_retries']} test retries, "
        f"{impact['ci_minutes_lost']:.1f} CI minutes lost; failures {_TRENDS.get(impact['trend']['direction'], '?')}."
    )


def _print_proposed(console: Console, proposed: Sequence[QuarantineProposal], db: Path | None) -> None:
    if not proposed:
        console.print("no new quarantine proposal: no test is recommended for quarantine without an open one")
        return
    where = f" --db {db}" if db is not None else ""
    for proposal in proposed:
        console.print(
            f"proposed quarantine {proposal.proposal_id} for {proposal.class_name}.{proposal.name}",
            highlight=False,
            markup=False,
        )
    console.print("nothing is quarantined until a person approves; to approve (or --reject) each proposal:")
    for proposal in proposed:
        console.print(f"  harness-connector approve {proposal.proposal_id}{where}", highlight=False, markup=False)
