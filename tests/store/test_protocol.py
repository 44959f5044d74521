"""The `Store` contract for writes, transactions, cursors and point reads, run against every backend."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from harness_connector.domain.history import StepLog, SyncCursor, TestOutcome
from harness_connector.errors import UsageError
from harness_connector.store import ExecutionFilter, Store, StoreError
from harness_connector.store.schema import SCHEMA_VERSION
from tests.store.records import deployment, event, execution, result, signature, step

EMPTY = {
    "executions": 0,
    "nodes": 0,
    "test_results": 0,
    "tests": 0,
    "log_signatures": 0,
    "deployments": 0,
    "telemetry": 0,
    "step_logs": 0,
    "sync_cursors": 0,
    "quarantine": 0,
    "quarantine_audit": 0,
}
TOO_BIG = 2**70  # no BIGINT holds it, so the engine rejects the row that carries it


def _write_one_of_each(store: Store) -> list[int]:
    return [
        store.upsert_executions([execution("e1"), execution("e2")]),
        store.upsert_nodes([step("e1", "compile"), step("e1", "test")]),
        store.add_test_results(
            [result("a", "e1", TestOutcome.PASSED), result("a", "e1", TestOutcome.FAILED, attempt=2)]
        ),
        store.add_log_signatures([signature("e1", "t1"), signature("e1", "t2")]),
        store.add_deployments([deployment("e1", "prod"), deployment("e2", "prod")]),
        store.add_telemetry([event(1, "dns_error"), event(1, "dns_error", host="h1")]),
    ]


def test_a_new_store_is_empty_and_at_the_latest_schema(store: Store) -> None:
    assert store.counts() == EMPTY
    assert store.migrate() == SCHEMA_VERSION


def test_writes_report_how_many_records_were_new(store: Store) -> None:
    assert _write_one_of_each(store) == [2, 2, 2, 2, 2, 2]
    assert store.counts() == EMPTY | {
        "executions": 2,
        "nodes": 2,
        "test_results": 2,
        "tests": 1,
        "log_signatures": 2,
        "deployments": 2,
        "telemetry": 2,
    }


def test_ingesting_the_same_records_again_adds_nothing(store: Store) -> None:
    _write_one_of_each(store)
    before = store.counts()

    assert _write_one_of_each(store) == [0, 0, 0, 0, 0, 0]
    assert store.counts() == before


def test_a_batch_with_repeated_records_stores_each_once(store: Store) -> None:
    twice = [result("a", "e1", TestOutcome.PASSED)] * 2

    assert store.add_test_results(twice) == 1
    assert store.upsert_executions([execution("e1"), execution("e1", status="Failed")]) == 1
    assert store.execution("e1") == execution("e1", status="Failed")


def test_an_upsert_replaces_the_stored_version_and_counts_only_new_records(store: Store) -> None:
    store.upsert_executions([execution("e1", status="Running")])
    store.add_deployments([deployment("e1", "prod", status="Running", started_ms=10)])

    assert store.upsert_executions([execution("e1", status="Failed"), execution("e2")]) == 1
    assert store.add_deployments([deployment("e1", "prod", status="Success", started_ms=10)]) == 0
    assert store.execution("e1") == execution("e1", status="Failed")
    assert store.deployments_between(0, 100) == [deployment("e1", "prod", status="Success", started_ms=10)]


def test_facts_keep_the_first_version_stored(store: Store) -> None:
    store.add_test_results([result("a", "e1", TestOutcome.FAILED, message="first", started_ms=5)])
    store.add_test_results([result("a", "e1", TestOutcome.FAILED, message="second", started_ms=5)])

    assert [row.message for row in store.test_history("a", since_ms=0)] == ["first"]


def test_an_execution_reads_back_as_written_with_its_status_in_display_spelling(store: Store) -> None:
    written = execution(
        "e1",
        pipeline_name="Build",
        run_sequence=7,
        status="FAILED",
        started_ms=1_000,
        ended_ms=2_000,
        trigger_type="WEBHOOK",
        triggered_by="dev@example.com",
        target_branch="main",
        commit_sha="abc",
        repo="acme/shop",
        pr_number=12,
        failure_message="step compile failed",
        failure_types=("APPLICATION_ERROR", "TIMEOUT_ERROR"),
        retry_of="e0",
        is_rerun=True,
    )
    store.upsert_executions([written])

    assert store.execution("e1") == replace(written, status="Failed")
    assert store.execution("missing") is None


def test_an_unknown_status_is_kept_as_given(store: Store) -> None:
    store.upsert_executions([execution("e1", status="SomethingNew")])

    assert store.execution("e1") == execution("e1", status="SomethingNew")


def test_nodes_and_log_signatures_read_back_per_execution_in_order(store: Store) -> None:
    compile_step = step(
        "e1",
        "compile",
        name="Compile",
        step_type="Run",
        status="Failed",
        failure_types=("APPLICATION_ERROR",),
        failure_message="exit 1",
        delegate="delegate-1",
        started_ms=20,
        ended_ms=30,
        log_key="k/compile",
    )
    stage = step("e1", "ci", kind="stage", stage_id=None, started_ms=10, ended_ms=40)
    store.upsert_nodes([compile_step, stage, step("e2", "compile")])
    late = signature("e1", "t2", first_line=9, level="ERROR")
    early = signature("e1", "t1", first_line=3, stage_id="ci", count=4)
    store.add_log_signatures([late, early, signature("e2", "t1")])

    assert store.nodes("e1") == [stage, compile_step]
    assert store.log_signatures("e1") == [early, late]


def test_known_execution_ids_are_the_stored_subset(store: Store) -> None:
    store.upsert_executions([execution("e1"), execution("e2")])

    assert store.known_execution_ids(["e2", "e3", "e2"]) == {"e2"}
    assert store.known_execution_ids([]) == set()


def test_cursors_round_trip_and_are_replaced(store: Store) -> None:
    first = SyncCursor(account_id="acct", org="default", project="payments", synced_until_ms=100)
    later = SyncCursor(
        account_id="acct",
        org="default",
        project="payments",
        synced_until_ms=200,
        last_execution_id="e9",
        updated_ms=300,
        extra={"page_token": "abc", "mode": "full"},
    )
    other = SyncCursor(account_id="acct", org="default", project="checkout", synced_until_ms=5)

    assert store.get_cursor("acct", "default", "payments") is None
    store.set_cursor(first)
    store.set_cursor(other)
    store.set_cursor(later)

    assert store.get_cursor("acct", "default", "payments") == later
    assert store.get_cursor("acct", "default", "checkout") == other
    assert store.counts()["sync_cursors"] == 2


def test_a_failing_write_inside_a_transaction_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(StoreError), store.transaction():
        store.upsert_executions([execution("e1")])
        store.upsert_nodes([step("e1", "compile")])
        store.add_test_results([result("a", "e1", TestOutcome.PASSED, duration_ms=TOO_BIG)])

    assert store.counts() == EMPTY


def test_an_error_raised_by_the_caller_inside_a_transaction_undoes_its_writes(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.upsert_executions([execution("e1")])
        store.set_cursor(SyncCursor(account_id="a", org="o", project="p", synced_until_ms=1))
        raise RuntimeError("sync interrupted")

    assert store.counts() == EMPTY


def test_nested_transactions_commit_or_roll_back_with_the_outermost(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        with store.transaction():
            store.upsert_executions([execution("e1")])
        raise RuntimeError("outer fails after the inner block ended")

    with store.transaction(), store.transaction():
        store.upsert_executions([execution("e2")])

    assert store.known_execution_ids(["e1", "e2"]) == {"e2"}


def test_a_failing_batch_stores_none_of_its_records(store: Store) -> None:
    good = result("a", "e1", TestOutcome.PASSED)
    bad = result("b", "e1", TestOutcome.PASSED, duration_ms=TOO_BIG)

    with pytest.raises(StoreError):
        store.add_test_results([good, bad])

    assert store.counts() == EMPTY
    assert store.add_test_results([good]) == 1  # the store is still usable


def test_writes_from_several_threads_all_land(store: Store) -> None:
    def write(thread: int) -> None:
        for batch in range(3):
            results = [result(f"t{i}", f"e{thread}-{batch}", TestOutcome.PASSED) for i in range(20)]
            with store.transaction():
                store.upsert_executions([execution(f"e{thread}-{batch}")])
                store.add_test_results(results)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert store.counts() == EMPTY | {"executions": 12, "test_results": 240, "tests": 20}


def test_list_queries_refuse_a_negative_page_or_an_oversized_page(store: Store) -> None:
    with pytest.raises(UsageError):
        store.executions(ExecutionFilter(), page=-1)
    with pytest.raises(UsageError):
        store.executions(ExecutionFilter(), size=1001)
    with pytest.raises(UsageError):
        store.executions(ExecutionFilter(), size=0)


def test_a_closed_store_refuses_calls_and_closing_again_is_harmless(store: Store) -> None:
    store.close()
    store.close()

    with pytest.raises(StoreError):
        store.counts()


def test_a_step_log_comes_back_as_written_and_a_second_write_keeps_the_first(store: Store) -> None:
    lines = [f"line {n}: downloading artifact {n % 7}" for n in range(1, 2001)] + ["ERROR: npm ERR! 503 \u2014 done"]
    log = StepLog.of_lines("e1", "build", "compile", lines)
    assert store.add_step_logs([log]) == 1
    assert store.add_step_logs([StepLog.of_lines("e1", "build", "compile", ["other"])]) == 0
    kept = store.step_log("e1", "compile")
    assert kept == log
    assert kept.text().splitlines() == lines
    assert (kept.line_count, kept.byte_count) == (2001, len("\n".join(lines).encode()) + 1)
    assert len(kept.content) * 5 < kept.byte_count  # repetitive build logs compress well
    assert store.step_log("e1", "missing") is None
    assert store.counts()["step_logs"] == 1
