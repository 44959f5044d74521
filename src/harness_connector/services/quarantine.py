"""Quarantine of flaky tests: proposals from a flaky report, a person's decision, automatic lifting, and the files
test runners read.

A proposal is made for each test the report recommends quarantining and that has no open proposal; it holds the
evidence (score, interval, runs, failures, same-commit flakes, flips, impact) as it was when proposed. Approving,
rejecting and lifting are done by a person (`harness-connector approve`, or `harness_execute` on `quarantine`,
which asks through elicitation); lifting is also automatic once the test has passed `lift_after` first attempts in
a row. Every step is an audit entry with who and when. Only approved proposals are exported.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from enum import StrEnum

from harness_connector.analysis.flaky import FlakyReport, FlakyVerdict, Recommendation, should_lift
from harness_connector.domain.quarantine import QuarantineAuditEntry, QuarantineProposal, QuarantineStatus
from harness_connector.errors import UsageError
from harness_connector.junit import QUARANTINE_XFAIL_PREFIX
from harness_connector.store import Store

__all__ = [
    "AUTO_LIFT_ACTOR",
    "DEFAULT_LIFT_AFTER",
    "ExportFormat",
    "QuarantineAction",
    "auto_lift",
    "decide",
    "export_quarantine",
    "propose",
]

DEFAULT_LIFT_AFTER = 20  # consecutive passing first attempts; see `should_lift` for why 20 and not 5
AUTO_LIFT_ACTOR = "harness-connector (auto-lift)"
PROPOSER = "harness-connector (flaky detection)"


class QuarantineAction(StrEnum):
    """What a person can do to a proposal."""

    APPROVE = "approve"
    REJECT = "reject"
    LIFT = "lift"


class ExportFormat(StrEnum):
    """Files a test runner reads."""

    PYTEST = "pytest"  # a pytest plugin: quarantined tests run but their failures are expected (xfail)
    JUNIT = "junit"  # one `classname#name` a line, the form of Surefire's `-Dtest` filters
    JSON = "json"  # every approved proposal with its evidence


_ALLOWED_FROM = {
    QuarantineAction.APPROVE: (QuarantineStatus.PROPOSED,),
    QuarantineAction.REJECT: (QuarantineStatus.PROPOSED,),
    QuarantineAction.LIFT: (QuarantineStatus.APPROVED,),
}
_RESULT = {
    QuarantineAction.APPROVE: QuarantineStatus.APPROVED,
    QuarantineAction.REJECT: QuarantineStatus.REJECTED,
    QuarantineAction.LIFT: QuarantineStatus.LIFTED,
}


def _proposal_id(test_id: str, proposed_ms: int) -> str:
    return "q-" + hashlib.blake2b(f"{test_id}@{proposed_ms}".encode(), digest_size=5).hexdigest()


def _evidence(verdict: FlakyVerdict, report: FlakyReport) -> str:
    impact = verdict.impact
    return json.dumps(
        {
            "classification": str(verdict.classification),
            "score": round(verdict.score, 4),
            "interval": [round(verdict.ci_low, 4), round(verdict.ci_high, 4)],
            "runs": verdict.runs,
            "failures": verdict.failures,
            "retries": verdict.retries,
            "same_commit_commits": verdict.same_commit_commits,
            "pass_on_retry_commits": verdict.pass_on_retry_commits,
            "flips": verdict.flips,
            "detectors": list(verdict.detectors),
            "failed_executions": impact.failed_executions,
            "reruns": impact.reruns,
            "ci_minutes_lost": round(impact.ci_minutes_lost, 1),
            "pipelines": list(impact.pipelines),
            "owners": list(impact.owners),
            "window": {"since_ms": report.since_ms, "until_ms": report.until_ms},
        },
        sort_keys=True,
    )


def propose(
    store: Store, report: FlakyReport, *, now_ms: int, files: Mapping[str, str] | None = None
) -> list[QuarantineProposal]:
    """Store a proposal for every test the report recommends quarantining that has no open proposal; return them.

    `files` maps test ids to their source file, for the export and for owners; by default, the files the stored
    results of those tests name.
    """
    open_tests = {p.test_id for p in store.quarantines(statuses={QuarantineStatus.PROPOSED, QuarantineStatus.APPROVED})}
    wanted = [
        verdict
        for verdict in report.verdicts
        if verdict.recommendation is Recommendation.QUARANTINE and verdict.test_id not in open_tests
    ]
    if files is None:
        files = store.test_files([verdict.test_id for verdict in wanted])
    made = []
    for verdict in wanted:
        proposal = QuarantineProposal(
            proposal_id=_proposal_id(verdict.test_id, now_ms),
            test_id=verdict.test_id,
            suite=verdict.suite,
            class_name=verdict.class_name,
            name=verdict.name,
            file=files.get(verdict.test_id),
            status=QuarantineStatus.PROPOSED,
            reason=verdict.reason,
            evidence=_evidence(verdict, report),
            proposed_ms=now_ms,
        )
        store.save_quarantine(
            proposal,
            QuarantineAuditEntry(
                proposal_id=proposal.proposal_id, at_ms=now_ms, actor=PROPOSER, action="proposed", detail=verdict.reason
            ),
        )
        made.append(proposal)
    return made


def decide(
    store: Store, proposal_id: str, action: QuarantineAction | str, *, actor: str, now_ms: int, note: str | None = None
) -> QuarantineProposal:
    """Approve or reject a proposal, or lift an approved one, as `actor`; returns the proposal as stored.

    Raises:
        UsageError: no such proposal, an unknown action, no actor, or an action its status does not allow.
    """
    try:
        chosen = QuarantineAction(str(action).lower())
    except ValueError:
        raise UsageError(f"unknown quarantine action {action!r}; use approve, reject or lift") from None
    if not actor.strip():
        raise UsageError("say who decides: every quarantine decision is audited with its author")
    proposal = store.quarantine(proposal_id)
    if proposal is None:
        raise UsageError(
            f"no quarantine proposal {proposal_id}; list them with `harness-connector quarantine list` or "
            "harness_list resource_type=quarantine"
        )
    if proposal.status not in _ALLOWED_FROM[chosen]:
        allowed = " or ".join(str(status) for status in _ALLOWED_FROM[chosen])
        raise UsageError(f"{proposal_id} is {proposal.status}; only a {allowed} proposal can be {_RESULT[chosen]}")
    status = _RESULT[chosen]
    if chosen is QuarantineAction.LIFT:
        updated = replace(proposal, status=status, lifted_ms=now_ms, lift_reason=note or f"lifted by {actor}")
    else:
        updated = replace(proposal, status=status, decided_by=actor, decided_ms=now_ms)
    store.save_quarantine(
        updated,
        QuarantineAuditEntry(proposal_id=proposal_id, at_ms=now_ms, actor=actor, action=str(status), detail=note),
    )
    return updated


def auto_lift(store: Store, *, now_ms: int, lift_after: int = DEFAULT_LIFT_AFTER) -> list[QuarantineProposal]:
    """Lift every approved quarantine whose test has passed its latest `lift_after` first attempts; return them.

    Only results newer than the approval count: a test is lifted for how it did while quarantined.
    """
    if lift_after < 1:
        raise UsageError("lift_after must be at least 1")
    active = store.quarantines(statuses={QuarantineStatus.APPROVED})
    if not active:
        return []
    since = min(p.decided_ms or p.proposed_ms for p in active)
    histories = store.test_histories({p.test_id for p in active}, since_ms=since, limit=lift_after * 4)
    lifted = []
    for proposal in active:
        approved_ms = proposal.decided_ms or proposal.proposed_ms
        history = [row for row in histories.get(proposal.test_id, []) if (row.run_ms or 0) >= approved_ms]
        if not should_lift(history, consecutive_passes=lift_after):
            continue
        reason = f"passed its last {lift_after} first attempts in a row since it was quarantined"
        updated = replace(proposal, status=QuarantineStatus.LIFTED, lifted_ms=now_ms, lift_reason=reason)
        store.save_quarantine(
            updated,
            QuarantineAuditEntry(
                proposal_id=proposal.proposal_id, at_ms=now_ms, actor=AUTO_LIFT_ACTOR, action="lifted", detail=reason
            ),
        )
        lifted.append(updated)
    return lifted


def export_quarantine(proposals: Sequence[QuarantineProposal], fmt: ExportFormat | str) -> str:
    """The file a test runner reads, listing the approved proposals among `proposals`.

    Raises:
        UsageError: an unknown format.
    """
    try:
        chosen = ExportFormat(str(fmt).lower())
    except ValueError:
        raise UsageError(f"unknown export format {fmt!r}; use pytest, junit or json") from None
    active = sorted(
        (p for p in proposals if p.status is QuarantineStatus.APPROVED), key=lambda p: (p.class_name, p.name)
    )
    if chosen is ExportFormat.JUNIT:
        return "".join(f"{p.class_name}#{p.name}\n" for p in active)
    if chosen is ExportFormat.JSON:
        rows = [
            {
                "proposal_id": p.proposal_id,
                "test_id": p.test_id,
                "suite": p.suite,
                "class_name": p.class_name,
                "name": p.name,
                "file": p.file,
                "approved_by": p.decided_by,
                "approved_ms": p.decided_ms,
                "reason": p.reason,
                "evidence": p.evidence_data,
            }
            for p in active
        ]
        return json.dumps({"quarantined": rows}, indent=2, sort_keys=True) + "\n"
    return _pytest_plugin(active)


def _xfail_reason(proposal: QuarantineProposal) -> str:
    """The xfail reason the pytest plugin gives a quarantined test.

    It starts with the marker the JUnit reader looks for, so that `--junitxml`'s report of the test's failure (a
    skip of type `pytest.xfail` with this reason as its message) is read back as a failure, not a skip.
    """
    return f"{QUARANTINE_XFAIL_PREFIX}{proposal.proposal_id}: {proposal.reason}"


def _pytest_plugin(active: Sequence[QuarantineProposal]) -> str:
    entries = "".join(f"    ({p.class_name!r}, {p.name!r}): {_xfail_reason(p)!r},\n" for p in active)
    return f'''"""Quarantined flaky tests, written by `harness-connector quarantine export --format pytest`.

Load it with `pytest -p quarantine_plugin` (this file on the import path) or from a conftest.py with
`pytest_plugins = ["quarantine_plugin"]`. Listed tests still run; a failure is reported as xfail and does not fail
the run, and a pass as xpass. Tests are matched by their JUnit class name and name, as `--junitxml` writes them.
Keep the xfail reasons as written: `harness-connector ingest junit` reads an xfail whose reason starts with
"{QUARANTINE_XFAIL_PREFIX.strip()}" as a failure, so quarantined tests keep their history (and are not lifted on
passes alone).
"""

import pytest

QUARANTINED = {{
{entries}}}


def _junit_names(item):
    path, *rest = item.nodeid.split("::")
    module = path[:-3] if path.endswith(".py") else path
    classname = ".".join([module.replace("/", "."), *rest[:-1]])
    return classname, item.name


def pytest_collection_modifyitems(config, items):
    for item in items:
        reason = QUARANTINED.get(_junit_names(item))
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=False))
'''
