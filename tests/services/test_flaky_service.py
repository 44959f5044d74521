"""The flaky-test service and quarantine lifecycle over a real store, with hand-built histories."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest

from harness_connector.analysis.flaky import Classification, CodeOwners, Recommendation
from harness_connector.domain.history import ExecutionFact, TestOutcome, TestResult
from harness_connector.domain.quarantine import QuarantineStatus
from harness_connector.errors import UsageError
from harness_connector.services.flaky import explain_test, flaky_report
from harness_connector.services.quarantine import auto_lift, decide, export_quarantine, propose
from harness_connector.store import Store, open_store
from tests.store.records import execution, result

P, F = TestOutcome.PASSED, TestOutcome.FAILED
DAY = 86_400_000
NOW = 1_790_000_000_000
START = NOW - 10 * DAY


class Runs:
    """Executions and their test results, written to the store in one go (one write per record kind)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.executions: list[ExecutionFact] = []
        self.results: list[TestResult] = []

    def add(self, n: int, outcomes: dict[str, TestOutcome], *, commit: str, failed: bool | None = None,
            retry: dict[str, TestOutcome] | None = None, at: int | None = None) -> None:  # fmt: skip
        """Execution `n` with first attempts `outcomes` (and second attempts `retry`)."""
        execution_id = f"e{n:04d}"
        started = at if at is not None else START + n * 600_000
        finals = {**outcomes, **(retry or {})}
        is_failed = any(o is F for o in finals.values()) if failed is None else failed
        self.executions.append(
            execution(
                execution_id,
                commit_sha=commit,
                started_ms=started,
                ended_ms=started + 300_000,
                status="Failed" if is_failed else "Success",
            )
        )
        for attempt, tried in ((1, outcomes), (2, retry or {})):
            self.results.extend(
                result(
                    test,
                    execution_id,
                    outcome,
                    attempt=attempt,
                    commit_sha=commit,
                    branch="main",
                    started_ms=started + attempt - 1,
                    duration_ms=1_000,
                )
                for test, outcome in tried.items()
            )

    def write(self) -> None:
        self.store.upsert_executions(self.executions)
        self.store.add_test_results(self.results)
        self.executions, self.results = [], []


@pytest.fixture
def store() -> Iterator[Store]:
    opened = open_store(":memory:")
    yield opened
    opened.close()


def _flaky_history(store: Store) -> None:
    """`flaky` fails 1 time in 5 and passes on retry; `steady` always passes; `broken` fails since commit c60."""
    runs = Runs(store)
    filler = {f"t{k}": P for k in range(25)}
    for n in range(120):
        outcomes: dict[str, TestOutcome] = {"flaky": F if n % 5 == 0 else P, "steady": P, **filler}
        outcomes["broken"] = F if n >= 60 else P
        retry = {"flaky": P} if n % 5 == 0 else None
        runs.add(n, outcomes, commit=f"c{n}", retry=retry, failed=n >= 60)
    runs.write()


def test_the_report_flags_the_flaky_test_and_names_the_broken_one_with_its_commit(store: Store) -> None:
    _flaky_history(store)
    report = flaky_report(store, now_ms=NOW)
    by_id = {v.test_id: v for v in report.verdicts}
    assert by_id["flaky"].classification is Classification.FLAKY
    assert by_id["flaky"].pass_on_retry_commits == 24
    assert by_id["flaky"].runs == 120 and by_id["flaky"].failures == 24
    assert 0.15 < by_id["flaky"].score < 0.25 and by_id["flaky"].ci_low < by_id["flaky"].score < by_id["flaky"].ci_high
    assert by_id["broken"].classification is Classification.BROKEN
    assert by_id["broken"].broken_since_commit == "c60"
    assert "steady" not in by_id
    assert report.tests == 28


def test_an_outage_execution_is_left_out_of_the_counts(store: Store) -> None:
    _flaky_history(store)
    everything_fails = {"flaky": F, "steady": F, **{f"t{k}": F for k in range(25)}}
    runs = Runs(store)
    runs.add(500, everything_fails, commit="c500", at=NOW - DAY)
    runs.write()
    report = flaky_report(store, now_ms=NOW)
    by_id = {v.test_id: v for v in report.verdicts}
    assert report.ignored_executions == 1
    assert "steady" not in by_id  # its one failure was the outage's
    assert by_id["flaky"].runs == 120


def test_the_window_and_the_pipeline_narrow_the_report(store: Store) -> None:
    _flaky_history(store)
    assert flaky_report(store, now_ms=NOW, pipeline_id="other").verdicts == ()
    with pytest.raises(UsageError, match="1 to 365"):
        flaky_report(store, now_ms=NOW, window_days=0)


def test_one_test_is_explained_with_its_verdict_and_history(store: Store) -> None:
    _flaky_history(store)
    explained = explain_test(store, "flaky", now_ms=NOW)
    assert explained.verdict is not None and explained.verdict.classification is Classification.FLAKY
    assert explained.history[0].run_ms is not None and len(explained.history) == 50
    steady = explain_test(store, "steady", now_ms=NOW)
    assert steady.verdict is None and steady.history
    with pytest.raises(UsageError, match="no stored results"):
        explain_test(store, "missing", now_ms=NOW)


def test_execution_aggregates_count_first_attempts_and_name_the_tests_that_failed_the_run(store: Store) -> None:
    runs = Runs(store)
    runs.add(1, {"a": F, "b": F, "c": P}, commit="c1", retry={"a": P})
    runs.write()
    rows = store.execution_tests(since_ms=0, until_ms=NOW)
    assert len(rows) == 1
    row = rows[0]
    assert (row.tests, row.tests_failed, row.failed_tests, row.failed) == (3, 2, ("b",), True)
    assert row.duration_ms == 300_000


def test_batched_histories_equal_one_query_per_test(store: Store) -> None:
    _flaky_history(store)
    batched = store.test_histories({"flaky", "broken", "missing"}, since_ms=START, limit=30)
    assert set(batched) == {"flaky", "broken"}
    for test_id, rows in batched.items():
        assert rows == store.test_history(test_id, since_ms=START, limit=30)
    assert store.busiest_branch(since_ms=0, until_ms=NOW) == "main"


def _proposed(store: Store) -> str:
    # Flaky in many pipelines and failing many executions: clearly worth quarantining.
    runs = Runs(store)
    for n in range(60):
        outcomes = {"flaky": F if n % 4 == 0 else P, **{f"t{k}": P for k in range(25)}}
        runs.add(n, outcomes, commit=f"c{n // 2}")
    runs.write()
    report = flaky_report(store, now_ms=NOW)
    verdict = next(v for v in report.verdicts if v.test_id == "flaky")
    assert verdict.recommendation is Recommendation.QUARANTINE, verdict.reason
    made = propose(store, report, now_ms=NOW)
    assert [p.test_id for p in made] == ["flaky"]
    assert propose(store, report, now_ms=NOW + 1) == []  # one open proposal per test
    return made[0].proposal_id


def test_a_proposal_keeps_its_evidence_and_is_exported_only_once_approved(store: Store) -> None:
    proposal_id = _proposed(store)
    stored = store.quarantine(proposal_id)
    assert stored is not None and stored.status is QuarantineStatus.PROPOSED
    assert stored.evidence_data["failures"] == 15 and stored.evidence_data["runs"] == 60
    assert export_quarantine(store.quarantines(), "junit") == ""
    decide(store, proposal_id, "approve", actor="ana@example.com", now_ms=NOW + 10, note="agreed in triage")
    assert export_quarantine(store.quarantines(), "junit") == "com.acme.flakyTest#test_flaky\n"
    exported = json.loads(export_quarantine(store.quarantines(), "json"))["quarantined"]
    assert exported[0]["approved_by"] == "ana@example.com" and exported[0]["evidence"]["runs"] == 60
    plugin = export_quarantine(store.quarantines(), "pytest")
    assert "('com.acme.flakyTest', 'test_flaky')" in plugin
    compile(plugin, "quarantine_plugin.py", "exec")
    audit = store.quarantine_audit(proposal_id)
    assert [(a.action, a.actor, a.at_ms) for a in audit] == [
        ("proposed", "harness-connector (flaky detection)", NOW),
        ("approved", "ana@example.com", NOW + 10),
    ]
    assert audit[1].detail == "agreed in triage"


def test_decisions_are_refused_when_the_status_does_not_allow_them(store: Store) -> None:
    proposal_id = _proposed(store)
    with pytest.raises(UsageError, match="only a approved proposal can be lifted"):
        decide(store, proposal_id, "lift", actor="ana", now_ms=NOW)
    with pytest.raises(UsageError, match="unknown quarantine action"):
        decide(store, proposal_id, "delete", actor="ana", now_ms=NOW)
    with pytest.raises(UsageError, match="say who decides"):
        decide(store, proposal_id, "approve", actor=" ", now_ms=NOW)
    with pytest.raises(UsageError, match="no quarantine proposal q-nope"):
        decide(store, "q-nope", "approve", actor="ana", now_ms=NOW)
    decide(store, proposal_id, "reject", actor="ana", now_ms=NOW)
    with pytest.raises(UsageError, match="is rejected"):
        decide(store, proposal_id, "approve", actor="ana", now_ms=NOW)


def test_an_approved_quarantine_is_lifted_after_enough_passes_since_approval(store: Store) -> None:
    proposal_id = _proposed(store)
    decide(store, proposal_id, "approve", actor="ana", now_ms=NOW)
    runs = Runs(store)
    for n in range(19):
        runs.add(1_000 + n, {"flaky": P}, commit=f"d{n}", at=NOW + (n + 1) * 60_000)
    runs.write()
    assert auto_lift(store, now_ms=NOW + DAY) == []
    runs.add(2_000, {"flaky": P}, commit="d19", at=NOW + 30 * 60_000)
    runs.write()
    lifted = auto_lift(store, now_ms=NOW + DAY)
    assert [p.proposal_id for p in lifted] == [proposal_id]
    stored = store.quarantine(proposal_id)
    assert stored is not None and stored.status is QuarantineStatus.LIFTED and stored.lifted_ms == NOW + DAY
    assert store.quarantine_audit(proposal_id)[-1].actor == "harness-connector (auto-lift)"
    assert export_quarantine(store.quarantines(), "junit") == ""


def test_codeowners_rules_match_the_stored_file_of_a_test_and_its_proposal_carries_the_file(store: Store) -> None:
    runs = Runs(store)
    for n in range(60):
        runs.add(n, {"flaky": F if n % 4 == 0 else P, **{f"t{k}": P for k in range(25)}}, commit=f"c{n // 2}")
    # The test moved halfway: its newest results name the file it lives in now.
    moved_ms = START + 30 * 600_000
    runs.results = [
        replace(
            r, file="src/old/test_billing.py" if (r.started_ms or 0) < moved_ms else "tests/billing/test_invoice.py"
        )
        if r.test_id == "flaky"
        else r
        for r in runs.results
    ]
    runs.write()
    owners = CodeOwners.parse("* @acme/everyone\n/tests/billing/ @acme/billing\n")
    report = flaky_report(store, now_ms=NOW, owners=owners)
    verdict = next(v for v in report.verdicts if v.test_id == "flaky")
    assert verdict.impact.owners == ("@acme/billing",)
    assert report.impact.owners == ("@acme/billing",)
    [made] = propose(store, report, now_ms=NOW)
    assert made.file == "tests/billing/test_invoice.py"
    assert made.evidence_data["owners"] == ["@acme/billing"]
    assert store.test_files(["flaky", "t0", "missing"]) == {"flaky": "tests/billing/test_invoice.py"}
