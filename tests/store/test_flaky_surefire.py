"""A Surefire report ingested as the CLI does, then judged by the flaky report: a case that failed and then passed
on a rerun (`<flakyFailure>`/`<flakyError>`) is stored as failed attempts followed by a final attempt marked flaky,
and that final attempt is a pass on retry."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness_connector.analysis.flaky import Classification
from harness_connector.junit import JUnitContext, test_id
from harness_connector.services.flaky import flaky_report
from harness_connector.services.ingest import ingest_junit
from harness_connector.store import Store

SUREFIRE = Path(__file__).parents[1] / "junit" / "data" / "surefire.xml"
RAN_AT = "2023-11-14T10:00:00"
RAN_MS = 1_699_956_000_000
NOW_MS = RAN_MS + 86_400_000
COMMIT = "9f2c1e0d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e"  # the report's `git.commit` property
SUITE = CLASS_NAME = "com.example.shop.OrderServiceTest"


@pytest.fixture
def ingested(store: Store, tmp_path: Path) -> Store:
    """The sample Surefire report with a suite timestamp, as a build writes it, ingested on `main`."""
    report = tmp_path / "TEST-com.example.shop.OrderServiceTest.xml"
    text = SUREFIRE.read_text(encoding="utf-8")
    report.write_text(text.replace('version="3.0" name=', f'version="3.0" timestamp="{RAN_AT}" name=', 1))
    outcome = ingest_junit(store, [str(report)], JUnitContext(execution_id="e1", branch="main"))
    assert outcome.errors == []
    assert outcome.summaries[0].flaky == 1
    return store


def test_the_final_attempt_of_a_surefire_flaky_case_is_counted_as_a_retry_that_passed(ingested: Store) -> None:
    flaky_id = test_id(SUITE, CLASS_NAME, "sendsConfirmationEmail")
    rows = ingested.test_outcomes_by_commit(since_ms=RAN_MS - 1, until_ms=NOW_MS)
    (row,) = [row for row in rows if row.test_id == flaky_id]
    # Attempt 1 failed, attempt 2 errored, attempt 3 passed (stored as flaky).
    assert (row.commit_sha, row.runs, row.failed, row.flaky) == (COMMIT, 1, 1, 0)
    assert (row.retries, row.retries_passed, row.retries_failed) == (2, 1, 1)
    (totals,) = ingested.test_totals(since_ms=RAN_MS - 1, until_ms=NOW_MS, test_ids={flaky_id})
    assert (totals.retries, totals.retries_passed, totals.retries_failed) == (2, 1, 1)


def test_a_surefire_flaky_case_is_judged_flaky_with_pass_on_retry_evidence(ingested: Store) -> None:
    report = flaky_report(ingested, now_ms=NOW_MS, include_stable=True)
    verdicts = {verdict.name: verdict for verdict in report.verdicts}
    flaky = verdicts["sendsConfirmationEmail"]
    assert flaky.classification is Classification.FLAKY
    assert flaky.detectors == ("same_commit",)
    assert (flaky.same_commit_commits, flaky.pass_on_retry_commits, flaky.runner_flaky) == (1, 1, 0)
    assert (flaky.first_flaky_commit, flaky.first_flaky_ms) == (COMMIT, RAN_MS)
    assert (flaky.failures, flaky.runs, flaky.retries, flaky.retries_passed) == (1, 1, 2, 1)
    assert "failed and passed on the same commit 1 time in 14 days (1 passed on retry)" in flaky.reason
    # A case whose reruns all failed too (`<rerunFailure>`, `<rerunError>`) was never contradicted by a pass.
    assert verdicts["refundsCancelledOrder"].classification is Classification.STABLE
    assert report.flaky == 1
