"""Quarantine of flaky tests: a proposal with its evidence, a person's decision, and the audit trail of both.

A quarantined test keeps running but stops failing builds: the test runner reads the exported list. Nothing is
quarantined by detection alone; a proposal becomes active only when a person approves it, and it is lifted when the
test has passed enough times in a row (or by hand). Every change is an audit entry: who, when, what.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["QuarantineAuditEntry", "QuarantineProposal", "QuarantineStatus"]


class QuarantineStatus(StrEnum):
    """Where a proposal is in its life."""

    PROPOSED = "proposed"  # waiting for a person
    APPROVED = "approved"  # active: the test is in the exported list
    REJECTED = "rejected"  # a person said no
    LIFTED = "lifted"  # was active, and is no longer

    @property
    def is_open(self) -> bool:
        """Proposed or active: a test has at most one open proposal."""
        return self in (QuarantineStatus.PROPOSED, QuarantineStatus.APPROVED)


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantineProposal:
    """One proposal to quarantine one test. `evidence` is a JSON object: the numbers behind the proposal."""

    proposal_id: str
    test_id: str
    suite: str
    class_name: str
    name: str
    file: str | None
    status: QuarantineStatus
    reason: str
    evidence: str
    proposed_ms: int
    decided_by: str | None = None
    decided_ms: int | None = None
    lifted_ms: int | None = None
    lift_reason: str | None = None

    @property
    def evidence_data(self) -> dict[str, Any]:
        data = json.loads(self.evidence)
        return data if isinstance(data, dict) else {}


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantineAuditEntry:
    """One change to a proposal: `action` is proposed, approved, rejected or lifted; `actor` who did it."""

    proposal_id: str
    at_ms: int
    actor: str
    action: str
    detail: str | None = None
