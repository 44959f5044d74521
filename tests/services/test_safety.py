from __future__ import annotations

import pytest

from harness_connector.harness.registry import Risk
from harness_connector.services.safety import Gate, after_answer, decide, person_only_refusal, question


def _decide(
    risk: Risk,
    *,
    operation: str = "run",
    read_only: bool = False,
    auto: Risk | None = None,
    can_ask: bool = True,
    confirmed: bool = False,
) -> Gate:
    return decide(
        risk, operation=operation, read_only=read_only, auto_approve=auto, can_ask=can_ask, caller_confirmed=confirmed
    ).gate


@pytest.mark.parametrize(
    ("risk", "operation", "read_only", "auto", "can_ask", "confirmed", "expected"),
    [
        (Risk.READ, "get", True, None, False, False, Gate.PROCEED),
        (Risk.LOW_WRITE, "create", False, None, False, False, Gate.PROCEED),
        (Risk.LOW_WRITE, "create", True, None, True, True, Gate.REFUSE),
        (Risk.HIGH_WRITE, "run", False, None, True, False, Gate.ASK),
        (Risk.HIGH_WRITE, "run", False, None, False, False, Gate.REFUSE),
        (Risk.HIGH_WRITE, "run", False, None, False, True, Gate.PROCEED),
        (Risk.HIGH_WRITE, "run", False, Risk.HIGH_WRITE, False, False, Gate.PROCEED),
        (Risk.HIGH_WRITE, "run", False, Risk.MEDIUM_WRITE, True, False, Gate.ASK),
        (Risk.DESTRUCTIVE, "delete", False, Risk.HIGH_WRITE, True, False, Gate.ASK),
        (Risk.DESTRUCTIVE, "delete", False, Risk.DESTRUCTIVE, False, False, Gate.PROCEED),
        (Risk.DESTRUCTIVE, "delete", False, None, False, False, Gate.REFUSE),
    ],
    ids=[
        "reads-always",
        "low-write-silently",
        "read-only-refuses-writes",
        "high-write-asks",
        "cannot-ask-refuses",
        "cannot-ask-but-confirmed",
        "auto-approved",
        "auto-approve-below-asks",
        "delete-asks-despite-high-auto",
        "delete-auto-approved-only-by-all",
        "delete-cannot-ask-refuses",
    ],
)
def test_the_gate_follows_risk_read_only_auto_approve_and_the_clients_abilities(
    risk: Risk, operation: str, read_only: bool, auto: Risk | None, can_ask: bool, confirmed: bool, expected: Gate
) -> None:
    assert (
        _decide(risk, operation=operation, read_only=read_only, auto=auto, can_ask=can_ask, confirmed=confirmed)
        is expected
    )


def test_a_refusal_says_how_to_proceed() -> None:
    refusal = decide(
        Risk.HIGH_WRITE, operation="run", read_only=False, auto_approve=None, can_ask=False, caller_confirmed=False
    )
    assert "confirm=true" in refusal.reason
    assert "HARNESS_AUTO_APPROVE_RISK=high_write" in refusal.reason


def test_a_person_declining_is_final() -> None:
    assert after_answer(True, False).gate is Gate.REFUSE
    assert after_answer(False, False).gate is Gate.REFUSE
    assert after_answer(True, True).gate is Gate.PROCEED


def test_the_question_names_the_operation_and_warns_about_deletes() -> None:
    text = question(Risk.DESTRUCTIVE, resource_type="pipeline", operation="delete", target="build", preview=None)
    assert text.startswith("Allow delete pipeline 'build'?")
    assert "cannot be undone" in text


@pytest.mark.parametrize(
    ("risk", "read_only", "can_ask", "confirmed", "expected"),
    [
        (Risk.MEDIUM_WRITE, False, True, False, Gate.ASK),
        (Risk.LOW_WRITE, False, True, False, Gate.ASK),
        (Risk.MEDIUM_WRITE, False, False, True, Gate.PROCEED),
        (Risk.MEDIUM_WRITE, False, False, False, Gate.REFUSE),
        (Risk.MEDIUM_WRITE, True, True, True, Gate.REFUSE),
    ],
    ids=["asks", "asks-even-when-low-risk", "caller-confirmed", "cannot-ask-refuses", "read-only-refuses"],
)
def test_a_decision_that_needs_a_person_ignores_the_auto_approve_level(
    risk: Risk, read_only: bool, can_ask: bool, confirmed: bool, expected: Gate
) -> None:
    decision = decide(
        risk,
        operation="approve",
        read_only=read_only,
        auto_approve=Risk.DESTRUCTIVE,
        can_ask=can_ask,
        caller_confirmed=confirmed,
        person_required=True,
    )
    assert decision.gate is expected
    if expected is Gate.REFUSE and not read_only:
        assert "HARNESS_AUTO_APPROVE_RISK does not cover it" in decision.reason


def test_only_a_person_approves_a_quarantine_so_a_client_that_cannot_ask_is_refused() -> None:
    refusal = person_only_refusal("quarantine", "Approve", can_ask=False, target="q-0123456789")
    assert refusal is not None and refusal.gate is Gate.REFUSE
    assert "`harness-connector approve q-0123456789`" in refusal.reason
    assert "confirm=true does not stand in" in refusal.reason
    assert person_only_refusal("quarantine", "approve", can_ask=True, target="q-0123456789") is None


@pytest.mark.parametrize(
    ("resource_type", "action"),
    [("quarantine", "reject"), ("quarantine", "lift"), ("approval_instance", "approve"), (None, "approve")],
)
def test_other_decisions_keep_their_gate(resource_type: str | None, action: str) -> None:
    assert person_only_refusal(resource_type, action, can_ask=False, target="x") is None
