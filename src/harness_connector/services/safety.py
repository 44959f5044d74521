"""Whether a write may go ahead: read-only mode, the operator's auto-approve level, and asking the human.

The decision is pure so every path is testable without a client: the MCP layer turns `ASK` into an elicitation
and reports the outcome back through `after_answer`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from harness_connector.harness.registry import Risk

__all__ = ["Gate", "GateDecision", "after_answer", "decide", "person_only_refusal", "question"]

# DESIGN §5: a quarantine takes effect only once a person approved it, by answering the client's question (MCP
# elicitation) or with `harness-connector approve ID`. A caller's confirm=true is the model's word that the person
# agreed, so it cannot approve one. Rejecting and lifting only make builds stricter again; confirm=true still
# serves them.
_PERSON_ONLY = frozenset({("quarantine", "approve")})


class Gate(StrEnum):
    """What to do with a write."""

    PROCEED = "proceed"
    ASK = "ask"
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class GateDecision:
    """The decision and the reason a person would be given."""

    gate: Gate
    reason: str


def decide(
    risk: Risk,
    *,
    operation: str,
    read_only: bool,
    auto_approve: Risk | None,
    can_ask: bool,
    caller_confirmed: bool,
    person_required: bool = False,
) -> GateDecision:
    """Decide for one operation of the given risk.

    With `person_required` (a decision that is a person's to make, such as approving a quarantine), neither the
    operator's auto-approve level nor a low risk lets the operation through: only the person's answer or the
    caller's confirm=true does (for approving a quarantine, not even confirm=true: see `person_only_refusal`).
    """
    if risk is Risk.READ:
        return GateDecision(Gate.PROCEED, "reads need no confirmation")
    if read_only:
        return GateDecision(
            Gate.REFUSE,
            "the connector is read-only (HARNESS_READ_ONLY=true); ask the operator to turn it off to make changes",
        )
    if not person_required:
        # Deletes are destructive in the registry, so only `all` approves them without a person.
        if auto_approve is not None and risk.rank <= auto_approve.rank:
            return GateDecision(Gate.PROCEED, f"auto-approved: HARNESS_AUTO_APPROVE_RISK covers {risk.value}")
        if risk is Risk.LOW_WRITE and operation != "delete":
            return GateDecision(Gate.PROCEED, "low-risk writes need no confirmation")
    if can_ask:
        if person_required:
            return GateDecision(Gate.ASK, "this decision is a person's to make")
        return GateDecision(Gate.ASK, f"{risk.value} operations are confirmed by a person")
    if caller_confirmed:
        return GateDecision(Gate.PROCEED, "confirmed by the caller (confirm=true) in a client that cannot prompt")
    if person_required:
        return GateDecision(
            Gate.REFUSE,
            "this is a person's decision and this client cannot ask them. Show the person what they are deciding; "
            "after they agreed, call again with confirm=true, or use a client that supports MCP elicitation "
            "(HARNESS_AUTO_APPROVE_RISK does not cover it)",
        )
    return GateDecision(
        Gate.REFUSE,
        f"this is a {risk.value} operation and this client cannot ask you to confirm it. After the person has "
        "agreed, call again with confirm=true, or use a client that supports MCP elicitation, or have the "
        f"operator set HARNESS_AUTO_APPROVE_RISK={risk.value}",
    )


def person_only_refusal(
    resource_type: str | None, action: str, *, can_ask: bool, target: str | None
) -> GateDecision | None:
    """The refusal of an approval that only a person may give, when this client cannot ask them; else None."""
    if can_ask or (resource_type, action.lower()) not in _PERSON_ONLY:
        return None
    command = f"harness-connector approve {target or '<proposal id>'}"
    return GateDecision(
        Gate.REFUSE,
        "approving a quarantine is a person's decision and this client cannot ask them (it does not support MCP "
        "elicitation); confirm=true does not stand in for them. Show the person the proposal (harness_get "
        f"resource_type=quarantine) and let them run `{command}` themselves, or use a client that supports MCP "
        "elicitation",
    )


def question(risk: Risk, *, resource_type: str, operation: str, target: str | None, preview: str | None) -> str:
    """The confirmation question shown to the person."""
    what = f"{operation} {resource_type}" + (f" '{target}'" if target else "")
    warning = " This cannot be undone." if operation == "delete" or risk is Risk.DESTRUCTIVE else ""
    text = f"Allow {what}? Risk: {risk.value}.{warning}"
    if preview:
        text += "\n\n" + preview[:2000]
    return text


def after_answer(accepted: bool, confirmed: bool) -> GateDecision:
    """The decision once the person answered (a decline is final: confirm=true cannot override it)."""
    if accepted and confirmed:
        return GateDecision(Gate.PROCEED, "confirmed by a person through MCP elicitation")
    return GateDecision(Gate.REFUSE, "a person declined this operation; nothing was changed")
