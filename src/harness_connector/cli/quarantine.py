"""`harness-connector approve` and `harness-connector quarantine list|show|lift|export|audit`: a person's decisions on
quarantine proposals, the audit trail of every decision, and the files test runners read."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness_connector.cli.session import say
from harness_connector.cli.store_access import jsonable, now_ms, opened_store, person, proposal_json, when
from harness_connector.config import Settings
from harness_connector.domain.quarantine import QuarantineAuditEntry, QuarantineProposal, QuarantineStatus
from harness_connector.services.quarantine import ExportFormat, QuarantineAction, decide, export_quarantine

__all__ = ["register"]

quarantine_app = typer.Typer(
    help="Quarantined flaky tests: list, show, lift, export for test runners, audit.", no_args_is_help=True
)

_DB = typer.Option(help="History store file (default: HARNESS_DB).")
_BY = typer.Option("--by", help="Who decides, for the audit trail (default: $USER@hostname).")
_NOTE = typer.Option(help="Why, for the audit trail.")
_JSON = typer.Option("--json", help="Print JSON for scripts.")
_STATUS_STYLES = {"proposed": "yellow", "approved": "red", "rejected": "dim", "lifted": "green"}


def register(app: typer.Typer) -> None:
    """Add `approve` and the `quarantine` command group to the CLI."""
    app.command(name="approve")(approve)
    app.add_typer(quarantine_app, name="quarantine")


def approve(
    proposal_id: Annotated[str, typer.Argument(help="The proposal, as `flaky --propose` printed it (q-...).")],
    reject: Annotated[bool, typer.Option("--reject", help="Reject the proposal instead.")] = False,
    by: Annotated[str | None, _BY] = None,
    note: Annotated[str | None, _NOTE] = None,
    db: Annotated[Path | None, _DB] = None,
) -> None:
    """Approve (or reject) a quarantine proposal: a person's decision, audited with who and when."""
    action = QuarantineAction.REJECT if reject else QuarantineAction.APPROVE
    settings = Settings()
    with opened_store(db) as store:
        decided = decide(store, proposal_id, action, actor=by or person(), now_ms=now_ms(settings), note=note)
    console = Console()
    console.print(
        f"{decided.proposal_id} {decided.status} by {decided.decided_by} at {when(decided.decided_ms)}: "
        f"{_test(decided)}",
        highlight=False,
        markup=False,
    )
    if decided.status is QuarantineStatus.APPROVED:
        console.print(
            "the test keeps running but no longer fails builds once the runner reads the list: "
            "harness-connector quarantine export --format pytest|junit --output FILE",
            highlight=False,
            markup=False,
        )


@quarantine_app.command("list")
def list_(
    status: Annotated[
        list[QuarantineStatus] | None, typer.Option("--status", help="Only these statuses; repeat for several.")
    ] = None,
    as_json: Annotated[bool, _JSON] = False,
    db: Annotated[Path | None, _DB] = None,
) -> None:
    """Quarantine proposals, newest first: proposed, approved (active), rejected and lifted."""
    with opened_store(db) as store:
        proposals = store.quarantines(statuses=set(status) if status else None)
    if as_json:
        print(json.dumps([proposal_json(p) for p in proposals], indent=2))
        return
    if not proposals:
        say("no quarantine proposals; `harness-connector flaky --propose` makes them")
        return
    table = Table(title="quarantine proposals")
    for column in ("id", "status", "test", "failure rate", "failed exec", "proposed", "decided by", "lifted"):
        table.add_column(column)
    for p in proposals:
        evidence = p.evidence_data
        table.add_row(
            p.proposal_id,
            f"[{_STATUS_STYLES.get(p.status, 'white')}]{p.status}[/]",
            Text(_test(p)),
            _rate(evidence.get("score")),
            str(evidence.get("failed_executions", "-")),
            when(p.proposed_ms),
            Text(p.decided_by or "-"),
            when(p.lifted_ms),
        )
    Console().print(table)


@quarantine_app.command("show")
def show(
    proposal_id: Annotated[str, typer.Argument(help="The proposal (q-...).")],
    as_json: Annotated[bool, _JSON] = False,
    db: Annotated[Path | None, _DB] = None,
) -> None:
    """One proposal: the test, the evidence it was proposed on, the decisions, and its audit trail."""
    with opened_store(db) as store:
        proposal = store.quarantine(proposal_id)
        if proposal is None:
            say(f"error: no quarantine proposal {proposal_id}; list them with `harness-connector quarantine list`")
            raise typer.Exit(2)
        trail = store.quarantine_audit(proposal_id)
    if as_json:
        document = proposal_json(proposal) | {"audit": [jsonable(entry) for entry in trail]}
        print(json.dumps(document, indent=2))
        return
    console = Console()
    for label, value in _details(proposal):
        console.print(Text.assemble((f"{label:>11}  ", "bold"), value))
    console.print(_audit_table(trail, {proposal.proposal_id: proposal}))


@quarantine_app.command("lift")
def lift(
    proposal_id: Annotated[str, typer.Argument(help="The approved proposal (q-...).")],
    by: Annotated[str | None, _BY] = None,
    note: Annotated[str | None, _NOTE] = None,
    db: Annotated[Path | None, _DB] = None,
) -> None:
    """Lift an active quarantine by hand: the test fails builds again from the next export."""
    settings = Settings()
    with opened_store(db) as store:
        lifted = decide(
            store, proposal_id, QuarantineAction.LIFT, actor=by or person(), now_ms=now_ms(settings), note=note
        )
    Console().print(
        f"{lifted.proposal_id} lifted at {when(lifted.lifted_ms)}: {_test(lifted)} ({lifted.lift_reason})",
        highlight=False,
        markup=False,
    )


@quarantine_app.command("export")
def export(
    fmt: Annotated[ExportFormat, typer.Option("--format", help="What the test runner reads.")] = ExportFormat.PYTEST,
    output: Annotated[Path | None, typer.Option(help="Write to this file (default: print).")] = None,
    db: Annotated[Path | None, _DB] = None,
) -> None:
    """The active quarantines as a file for a test runner: a pytest plugin, a JUnit `class#name` list, or JSON."""
    with opened_store(db) as store:
        active = store.quarantines(statuses={QuarantineStatus.APPROVED})
    text = export_quarantine(active, fmt)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        _write_atomically(output, text)
    except OSError as exc:
        say(f"error: cannot write {output}: {exc}")
        raise typer.Exit(2) from exc
    say(f"wrote {len(active)} quarantined test(s) to {output} ({fmt})")


@quarantine_app.command("audit")
def audit(
    proposal_id: Annotated[str | None, typer.Argument(help="One proposal (default: all).")] = None,
    as_json: Annotated[bool, _JSON] = False,
    db: Annotated[Path | None, _DB] = None,
) -> None:
    """Every quarantine decision, oldest first: when, who, what, and the note."""
    with opened_store(db) as store:
        if proposal_id is not None and store.quarantine(proposal_id) is None:
            say(f"error: no quarantine proposal {proposal_id}; list them with `harness-connector quarantine list`")
            raise typer.Exit(2)
        trail = store.quarantine_audit(proposal_id)
        proposals = {p.proposal_id: p for p in store.quarantines()}
    if as_json:
        print(json.dumps([jsonable(entry) for entry in trail], indent=2))
        return
    if not trail:
        say("no quarantine decisions yet")
        return
    Console().print(_audit_table(trail, proposals))


def _write_atomically(path: Path, text: str) -> None:
    # A test runner reading the file while it is written sees the old list or the new one, never half of one.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _file_mode(path))  # mkstemp's 0600 could hide the list from the user running the tests
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _file_mode(path: Path) -> int:
    """The mode of the file being replaced, or of a new file under the umask."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _test(proposal: QuarantineProposal) -> str:
    return f"{proposal.class_name}.{proposal.name}"


def _rate(score: object) -> str:
    return f"{score:.1%}" if isinstance(score, int | float) else "-"


def _details(p: QuarantineProposal) -> list[tuple[str, str]]:
    evidence = p.evidence_data
    interval = evidence.get("interval") or [None, None]
    rows = [
        ("proposal", f"{p.proposal_id} ({p.status})"),
        ("test", _test(p)),
        ("test id", p.test_id),
        ("suite", p.suite),
        ("file", p.file or "-"),
        ("proposed", when(p.proposed_ms)),
        ("reason", p.reason),
        (
            "evidence",
            f"failure rate {_rate(evidence.get('score'))} (interval {_rate(interval[0])}-{_rate(interval[-1])}), "
            f"{evidence.get('failures', '-')} of {evidence.get('runs', '-')} first attempts failed, "
            f"{evidence.get('same_commit_commits', '-')} same-commit flakes, "
            f"{evidence.get('failed_executions', '-')} failed executions, "
            f"{evidence.get('ci_minutes_lost', '-')} CI minutes lost",
        ),
    ]
    if p.decided_by is not None:
        rows.append(("decided", f"{p.decided_by} at {when(p.decided_ms)}"))
    if p.lifted_ms is not None:
        rows.append(("lifted", f"{when(p.lifted_ms)}: {p.lift_reason or '-'}"))
    return rows


def _audit_table(trail: Sequence[QuarantineAuditEntry], proposals: dict[str, QuarantineProposal]) -> Table:
    table = Table(title="quarantine audit trail")
    for column in ("when", "proposal", "test", "who", "what", "note"):
        table.add_column(column)
    for entry in trail:
        proposal = proposals.get(entry.proposal_id)
        table.add_row(
            when(entry.at_ms),
            entry.proposal_id,
            Text(_test(proposal) if proposal else "-"),
            Text(entry.actor),
            entry.action,
            Text(entry.detail or "-"),
        )
    return table
