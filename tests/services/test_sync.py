"""Sync against the sandbox served over real HTTP: full, incremental, interrupted then resumed, under faults."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from harness_connector.analysis.flaky_history import should_lift
from harness_connector.domain.quarantine import QuarantineAuditEntry, QuarantineProposal, QuarantineStatus
from harness_connector.errors import HarnessError
from harness_connector.harness.client import HarnessClient
from harness_connector.sandbox import Faults, SandboxContext, SandboxState, open_account
from harness_connector.sandbox.scenario import generate_scenario
from harness_connector.services.connection import Connection
from harness_connector.services.quarantine import AUTO_LIFT_ACTOR, DEFAULT_LIFT_AFTER
from harness_connector.services.sync import sync_project
from harness_connector.store import ExecutionFilter, Store, open_store
from tests.sandbox.conftest import serve_sandbox

pytestmark = pytest.mark.anyio

ANCHOR_MS = 1_790_006_400_000
SINCE_MS = ANCHOR_MS - 20 * 3_600_000


@pytest.fixture(scope="module")
def scenario_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sync") / "state.sqlite"
    state = SandboxState(path)
    generate_scenario(state, seed=21, days=2, anchor_ms=ANCHOR_MS)
    state.close()
    return path


def _serve(path: Path, faults: Faults) -> Iterator[tuple[str, str, str]]:
    state = SandboxState(path)
    keys = open_account(state)
    assert keys is not None
    ctx = SandboxContext(state=state, account_id=keys.account_id, clock=lambda: ANCHOR_MS, faults=faults)
    for base_url in serve_sandbox(ctx):
        yield base_url, keys.admin_pat, keys.account_id
    state.close()


@pytest.fixture(scope="module")
def clean_server(scenario_db: Path) -> Iterator[tuple[str, str, str]]:
    yield from _serve(scenario_db, Faults())


@pytest.fixture
def faulty_server(scenario_db: Path) -> Iterator[tuple[str, str, str]]:
    yield from _serve(scenario_db, Faults(error_rate=0.25, error_statuses=(429, 500, 502, 503), seed=3))


async def _no_wait(seconds: float) -> None:
    return None


def _connection(server: tuple[str, str, str], *, max_retries: int = 3) -> Connection:
    base_url, pat, account = server
    client = HarnessClient(base_url, api_key=pat, max_retries=max_retries, rate_limit_rps=10_000, sleep=_no_wait)
    return Connection(client=client, account_id=account, org="default", project="payments")


async def _sync(conn: Connection, store: Store) -> object:
    return await sync_project(conn, store, org="default", project="payments", since_ms=SINCE_MS, now_ms=ANCHOR_MS)


async def test_a_full_sync_stores_every_finished_execution_with_nodes_tests_and_signatures(
    clean_server: tuple[str, str, str],
) -> None:
    store = open_store(":memory:")
    conn = _connection(clean_server)
    report = await sync_project(conn, store, org="default", project="payments", since_ms=SINCE_MS, now_ms=ANCHOR_MS)
    await conn.aclose()
    counts = store.counts()
    assert report.errors == []
    assert report.new_executions == counts["executions"] > 10
    assert report.new_executions + report.still_running == report.listed
    assert counts["nodes"] > counts["executions"]
    assert counts["test_results"] == report.test_results > 50
    assert counts["log_signatures"] == report.log_signatures > 0
    # ti-service answers test cases one suite at a time, so a CI build costs a request per suite.
    assert report.requests_made / report.new_executions < 40
    assert report.synced_until_ms is not None


async def test_a_second_sync_adds_nothing_and_asks_only_for_the_list(clean_server: tuple[str, str, str]) -> None:
    store = open_store(":memory:")
    conn = _connection(clean_server)
    await _sync(conn, store)
    before = store.counts()
    again = await sync_project(conn, store, org="default", project="payments", since_ms=SINCE_MS, now_ms=ANCHOR_MS)
    await conn.aclose()
    assert again.new_executions == 0
    assert store.counts() == before
    assert again.requests_made <= 3


@pytest.mark.slow
async def test_an_interrupted_sync_under_faults_resumes_to_the_same_store_without_duplicates(
    clean_server: tuple[str, str, str], faulty_server: tuple[str, str, str]
) -> None:
    reference = open_store(":memory:")
    clean = _connection(clean_server)
    await _sync(clean, reference)
    resumed = open_store(":memory:")
    flaky = _connection(faulty_server, max_retries=0)
    try:
        first = await sync_project(
            flaky, resumed, org="default", project="payments", since_ms=SINCE_MS, now_ms=ANCHOR_MS
        )
    except HarnessError:  # the listing itself may fail under faults: that is an interruption too
        first = None
    if first is not None:
        assert first.errors
        assert resumed.get_cursor(clean.account_id, "default", "payments") is None
    retried = _connection(faulty_server, max_retries=6)
    await _sync(retried, resumed)
    await _sync(clean, resumed)
    for conn in (clean, flaky, retried):
        await conn.aclose()
    assert resumed.counts() == reference.counts()


def test_cursor_records_are_plain_values() -> None:
    from harness_connector.domain import SyncCursor

    cursor = SyncCursor(account_id="a", org="o", project="p", synced_until_ms=5)
    assert replace(cursor, synced_until_ms=6).synced_until_ms == 6


async def test_keep_logs_stores_each_failed_steps_log_compressed_and_readable(
    clean_server: tuple[str, str, str],
) -> None:
    store = open_store(":memory:")
    conn = _connection(clean_server)
    report = await sync_project(
        conn, store, org="default", project="payments", since_ms=SINCE_MS, now_ms=ANCHOR_MS, keep_logs=True
    )
    await conn.aclose()
    assert report.errors == []
    counts = store.counts()
    assert counts["step_logs"] > 0
    signature = store.log_signatures(_first_failed(store))[0]
    kept = store.step_log(signature.execution_id, signature.step_id)
    assert kept is not None
    text = kept.text()
    assert text.count("\n") == kept.line_count
    assert len(text.encode()) == kept.byte_count
    assert len(kept.content) < kept.byte_count
    # The signature's sample is one of the kept lines, at the line number it names.
    assert signature.sample in text.splitlines()[signature.first_line - 1]


def _first_failed(store: Store) -> str:
    for fact in store.executions(ExecutionFilter(failed_only=True), size=50).items:
        if store.log_signatures(fact.execution_id):
            return fact.execution_id
    raise AssertionError("no failed execution with signatures")


async def test_without_keep_logs_no_raw_log_is_stored(clean_server: tuple[str, str, str]) -> None:
    store = open_store(":memory:")
    conn = _connection(clean_server)
    await _sync(conn, store)
    await conn.aclose()
    assert store.counts()["step_logs"] == 0


async def test_new_test_results_lift_the_quarantines_their_tests_have_earned_back(
    clean_server: tuple[str, str, str],
) -> None:
    # Every test seen by a first sync is quarantined; the next sync brings twelve hours of results.
    approved_ms = ANCHOR_MS - 12 * 3_600_000
    store = open_store(":memory:")
    conn = _connection(clean_server)
    first = await sync_project(conn, store, org="default", project="payments", since_ms=SINCE_MS, now_ms=approved_ms)
    tests = sorted({row.test_id for row in store.test_totals(since_ms=SINCE_MS, until_ms=approved_ms)})
    for test_id in tests:
        store.save_quarantine(*_approved(test_id, approved_ms))
    report = await sync_project(conn, store, org="default", project="payments", since_ms=SINCE_MS, now_ms=ANCHOR_MS)
    again = await sync_project(conn, store, org="default", project="payments", since_ms=SINCE_MS, now_ms=ANCHOR_MS)
    await conn.aclose()
    histories = store.test_histories(tests, since_ms=approved_ms, limit=DEFAULT_LIFT_AFTER * 4)
    earned = {test for test, rows in histories.items() if should_lift(rows, consecutive_passes=DEFAULT_LIFT_AFTER)}
    lifted = store.quarantines(statuses={QuarantineStatus.LIFTED})
    assert first.quarantines_lifted == 0
    assert report.test_results > 0
    assert report.quarantines_lifted == len(lifted) > 0
    assert {p.test_id for p in lifted} == earned
    assert len(lifted) < len(tests)  # the tests that failed since stay quarantined
    assert all(p.lifted_ms == ANCHOR_MS for p in lifted)
    assert store.quarantine_audit(lifted[0].proposal_id)[-1].actor == AUTO_LIFT_ACTOR
    assert again.quarantines_lifted == 0  # nothing new arrived


def _approved(test_id: str, at_ms: int) -> tuple[QuarantineProposal, QuarantineAuditEntry]:
    proposal = QuarantineProposal(
        proposal_id=f"q-{test_id}",
        test_id=test_id,
        suite="suite",
        class_name="Class",
        name=test_id,
        file=None,
        status=QuarantineStatus.APPROVED,
        reason="flaky",
        evidence="{}",
        proposed_ms=at_ms,
        decided_by="alice",
        decided_ms=at_ms,
    )
    return proposal, QuarantineAuditEntry(
        proposal_id=proposal.proposal_id, at_ms=at_ms, actor="alice", action="approved"
    )
