"""The `quarantine` resource type: proposals to quarantine flaky tests with their evidence and audit trail, and the
harness_execute actions on them.

`propose` runs the flaky report and stores a proposal for each test it recommends quarantining. It is a low-risk
write: nothing a test runner reads changes until a person approves. `approve`, `reject` and `lift` are that
person's decisions, so their gate never lets the operator's auto-approve level stand in for the person, and the
audit entry names the MCP client and how the person confirmed. An approval must be the person's own answer to the
client's question: a client that cannot ask is refused, whatever confirm it sends (see `safety.person_only_refusal`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio

from harness_connector.domain.quarantine import QuarantineAuditEntry, QuarantineProposal, QuarantineStatus
from harness_connector.errors import UsageError
from harness_connector.harness.registry import Risk
from harness_connector.services.arguments import coerce_mapping
from harness_connector.services.connection import Connection
from harness_connector.services.flaky import flaky_report
from harness_connector.services.flaky_tests import DEFAULT_WINDOW_DAYS, test_label
from harness_connector.services.local_model import (
    LocalAction,
    LocalActionCall,
    LocalType,
    choice_arg,
    page_of,
    require_store,
    window_days_arg,
)
from harness_connector.services.quarantine import DEFAULT_LIFT_AFTER, propose
from harness_connector.services.quarantine import decide as decide_proposal
from harness_connector.services.results import ExecuteResult, ItemDetail, ItemList
from harness_connector.services.shaping import iso_time, prune
from harness_connector.store import Store

__all__ = ["QUARANTINES", "proposal_row"]

_STATUSES = tuple(s.value for s in QuarantineStatus)
_PREVIEW_REASON_CHARS = 800
_DECISION_HINTS = {
    "approve": "approved: the test is in the exported quarantine list, so its failures stop failing builds, until "
    f"it is lifted by hand or after {DEFAULT_LIFT_AFTER} passing first attempts in a row",
    "reject": "rejected: nothing changes for the test; a later propose may suggest it again if it keeps flaking",
    "lift": "lifted: the test is out of the exported quarantine list and its failures fail builds again",
}


def _window(evidence: Mapping[str, Any]) -> dict[str, Any]:
    # The evidence keeps the window as epoch milliseconds; people and models read ISO times.
    window = evidence.get("window")
    if not isinstance(window, Mapping):
        return dict(evidence)
    times = {k.removesuffix("_ms"): iso_time(v) for k, v in window.items() if isinstance(v, int)}
    return {**evidence, "window": times}


def proposal_row(proposal: QuarantineProposal) -> dict[str, Any]:
    """A proposal as an item: the test, its status and who decided, the reason and the evidence."""
    row = prune(
        {
            "proposal_id": proposal.proposal_id,
            "test_id": proposal.test_id,
            "test": test_label(proposal.class_name, proposal.suite, proposal.name),
            "suite": proposal.suite,
            "class_name": proposal.class_name,
            "name": proposal.name,
            "file": proposal.file,
            "status": str(proposal.status),
            "proposed_at": iso_time(proposal.proposed_ms),
            "decided_by": proposal.decided_by,
            "decided_at": iso_time(proposal.decided_ms) if proposal.decided_ms is not None else None,
            "lifted_at": iso_time(proposal.lifted_ms) if proposal.lifted_ms is not None else None,
            "lift_reason": proposal.lift_reason,
            "reason": proposal.reason,
            "evidence": _window(proposal.evidence_data),
        }
    )
    return row if isinstance(row, dict) else {}


def _audit_row(entry: QuarantineAuditEntry) -> dict[str, Any]:
    row = prune({"at": iso_time(entry.at_ms), "actor": entry.actor, "action": entry.action, "detail": entry.detail})
    return row if isinstance(row, dict) else {}


def _proposal(store: Store, proposal_id: str) -> QuarantineProposal:
    found = store.quarantine(proposal_id)
    if found is None:
        raise UsageError(
            f"no quarantine proposal {proposal_id!r}; harness_list resource_type=quarantine shows the proposals and "
            "their ids"
        )
    return found


async def _list_proposals(conn: Connection, args: Mapping[str, Any], page: int, size: int, now_ms: int) -> ItemList:
    store = require_store(conn)
    statuses = {QuarantineStatus(s) for s in choice_arg(args, "status", _STATUSES)} or None
    found = await anyio.to_thread.run_sync(lambda: store.quarantines(statuses=statuses))
    return page_of("quarantine", [proposal_row(p) for p in found], page=page, size=size)


async def _get_proposal(conn: Connection, proposal_id: str, args: Mapping[str, Any], now_ms: int) -> ItemDetail:
    store = require_store(conn)

    def read() -> tuple[QuarantineProposal, list[QuarantineAuditEntry]]:
        return _proposal(store, proposal_id), store.quarantine_audit(proposal_id)

    proposal, audit = await anyio.to_thread.run_sync(read)
    item = {**proposal_row(proposal), "audit": [_audit_row(entry) for entry in audit]}
    return ItemDetail(resource_type="quarantine", id=proposal_id, item=item)


def _required_id(resource_id: str | None, action: str) -> str:
    if not resource_id:
        raise UsageError(
            f"{action} needs resource_id: the proposal id, from harness_list resource_type=quarantine "
            "filters={status: proposed}"
        )
    return resource_id


def _preview(conn: Connection, resource_id: str | None) -> str:
    """What the person is asked about: the test, where its proposal stands, and why it was proposed."""
    proposal = _proposal(require_store(conn), _required_id(resource_id, "this decision"))
    reason = proposal.reason[:_PREVIEW_REASON_CHARS]
    return (
        f"Test: {test_label(proposal.class_name, proposal.suite, proposal.name)} (suite {proposal.suite})\n"
        f"Proposal status: {proposal.status}\nWhy it was proposed: {reason}"
    )


def _note(args: Mapping[str, Any]) -> str | None:
    """The person's note: `body` as text or {note: ...}, or params' `note`."""
    body = args.get("body")
    if isinstance(body, str) and not body.lstrip().startswith("{"):
        return body.strip() or None
    note = coerce_mapping(body, "body").get("note") or args.get("note")
    text = str(note).strip() if note else ""
    return text or None


async def _decide(conn: Connection, call: LocalActionCall) -> ExecuteResult:
    store = require_store(conn)
    proposal_id = _required_id(call.resource_id, call.action)
    note = _note(call.args)
    # The audit entry keeps how the person agreed next to their note, so the trail shows it was not automatic.
    detail = f"{note} ({call.confirmation})" if note else call.confirmation
    updated = await anyio.to_thread.run_sync(
        lambda: decide_proposal(store, proposal_id, call.action, actor=call.actor, now_ms=call.now_ms, note=detail)
    )
    return ExecuteResult(
        resource_type="quarantine",
        action=call.action,
        id=proposal_id,
        status=str(updated.status),
        result=proposal_row(updated),
        hint=_DECISION_HINTS.get(call.action),
    )


async def _propose(conn: Connection, call: LocalActionCall) -> ExecuteResult:
    store = require_store(conn)
    window_days = window_days_arg(call.args, DEFAULT_WINDOW_DAYS)
    pipeline_id = str(call.args["pipeline_id"]) if call.args.get("pipeline_id") else None

    def run() -> tuple[int, list[QuarantineProposal]]:
        report = flaky_report(store, now_ms=call.now_ms, window_days=window_days, pipeline_id=pipeline_id)
        flagged = report.flaky + report.slow_and_flaky
        return flagged, propose(store, report, now_ms=call.now_ms)

    flagged, made = await anyio.to_thread.run_sync(run)
    if made:
        hint = (
            "a person reviews each proposal's evidence, then harness_execute resource_type=quarantine "
            "action=approve (or reject) resource_id=<proposal_id>, which asks them; in a client that cannot ask, "
            "they run `harness-connector approve <proposal_id>` themselves"
        )
    else:
        hint = (
            f"nothing new to propose among {flagged} flaky tests: a proposal needs a test that is clearly flaky and "
            "costly, without an open proposal (harness_list resource_type=quarantine shows those)"
        )
    return ExecuteResult(
        resource_type="quarantine",
        action="propose",
        result={"window_days": window_days, "proposed": len(made), "proposals": [proposal_row(p) for p in made]},
        hint=hint,
    )


_DECISION = (
    "A person's decision, audited with the MCP client's name: elicitation asks them, or confirm=true after they "
    "agreed; HARNESS_AUTO_APPROVE_RISK never stands in for them. Optional note: body (text) or params.note."
)
# Approval is what takes a test's failures out of builds, so only the person's own answer counts (DESIGN §5).
_APPROVAL = (
    "Only a person approves, audited with the MCP client's name: the client asks them through MCP elicitation; a "
    "client that cannot ask is refused, and the person runs `harness-connector approve ID` themselves. "
    "HARNESS_AUTO_APPROVE_RISK never stands in for them, nor does confirm=true. Optional note: body (text) or "
    "params.note."
)

QUARANTINES = LocalType(
    name="quarantine",
    description="Proposals to quarantine flaky tests (the test keeps running, its failures stop failing builds), "
    "with the evidence they were proposed on and the audit trail of every decision. harness_execute actions: "
    "propose, approve, reject, lift.",
    id_field="proposal_id",
    filters={"status": "proposed, approved, rejected or lifted (default: all, newest first)."},
    list_items=_list_proposals,
    list_description="proposals with their evidence, newest first",
    get_item=_get_proposal,
    get_description="one proposal with its audit trail: who, when, what",
    actions={
        "propose": LocalAction(
            risk=Risk.LOW_WRITE,
            description="Run the flaky report (params: window_days, pipeline_id) and propose quarantining each "
            "clearly flaky, costly test without an open proposal; returns the new proposals.",
            perform=_propose,
        ),
        "approve": LocalAction(
            risk=Risk.MEDIUM_WRITE,
            description=f"Approve a proposed quarantine (resource_id = proposal id). {_APPROVAL}",
            perform=_decide,
            person_required=True,
            preview=_preview,
        ),
        "reject": LocalAction(
            risk=Risk.MEDIUM_WRITE,
            description=f"Reject a proposed quarantine. {_DECISION}",
            perform=_decide,
            person_required=True,
            preview=_preview,
        ),
        "lift": LocalAction(
            risk=Risk.MEDIUM_WRITE,
            description=f"Lift an approved quarantine before it lifts itself. {_DECISION}",
            perform=_decide,
            person_required=True,
            preview=_preview,
        ),
    },
    example={"filters": {"status": "proposed"}},
)
