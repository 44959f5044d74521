"""Emptying the outbox against a manager over real HTTP: order, retries while it is away, refusals, a 401."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness_connector.delegate.auth import DelegateCredentials
from harness_connector.delegate.delivery import Deliverer
from harness_connector.delegate.link import Backoff, Link
from harness_connector.delegate.manager_api import ManagerApi, Registration
from harness_connector.delegate.outbox import Outbox, PendingDelivery
from harness_connector.delegate.wire import WireClient, WireError
from tests.delegate.manager_double import ACCOUNT, TOKEN, ManagerDouble, running_manager


@pytest.fixture
def manager() -> Iterator[ManagerDouble]:
    with running_manager() as started:
        yield started


class Setup:
    def __init__(self, manager: ManagerDouble, state: Path) -> None:
        credentials = DelegateCredentials(ACCOUNT, TOKEN)
        self.api = ManagerApi(WireClient(manager.url, headers=credentials.headers, timeout_s=5), ACCOUNT)
        self.outbox = Outbox(state)
        self.link = Link(Registration(name="d1", host_name="host"), lambda: sorted(self.outbox.task_ids()))
        self.revoked: list[WireError] = []
        self.deliverer = Deliverer(
            self.outbox, self.api, self.link, backoff=Backoff(base_s=0.05, cap_s=0.2), on_revoked=self.revoked.append
        )
        self.thread = threading.Thread(target=self.deliverer.run, daemon=True)

    def put(self, pending: PendingDelivery) -> None:
        """As a finished task does: into the outbox, then a word to the deliverer."""
        self.outbox.put(pending)
        self.deliverer.poke()

    def __enter__(self) -> Setup:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.deliverer.close()
        self.thread.join(5)
        self.api.close()


QUERY = {
    "orgId": "default",
    "projectId": "payments",
    "pipelineId": "build",
    "buildId": "7",
    "stageId": "test",
    "stepId": "run",
}


def record(task_id: str, *, logs: int = 0, rows: int = 0) -> PendingDelivery:
    return PendingDelivery(
        task_id=task_id,
        log_key=f"logs/{task_id}",
        result={"status": "SUCCESS", "exitCode": 0, "startedAt": 1, "finishedAt": 2, "reportsUploaded": 1},
        log_batches=[[{"level": "INFO", "out": f"line {n}", "time": "t"}] for n in range(logs)],
        report_query=QUERY if rows else {},
        report_batches=[[{"name": f"test_{n}", "result": {"status": "passed"}} for n in range(rows)]] if rows else [],
    )


def test_logs_then_reports_then_the_result_are_delivered_and_the_record_removed(
    manager: ManagerDouble, tmp_path: Path
) -> None:
    manager.queue("t1", "true")
    with Setup(manager, tmp_path) as setup:
        setup.link.ensure(setup.api)
        setup.put(record("t1", logs=3, rows=2))
        manager.wait_for(lambda: manager.tasks["t1"].results and not len(setup.outbox), 10, "the result")

    assert manager.log_text("t1") == ["line 0", "line 1", "line 2"]
    ((query, rows),) = manager.reports
    assert query == {**QUERY, "report": "junit"}
    assert [row["name"] for row in rows] == ["test_0", "test_1"]
    assert manager.results("t1") == [record("t1").result]


def test_records_are_delivered_in_the_order_their_tasks_finished(manager: ManagerDouble, tmp_path: Path) -> None:
    for task_id in ("b", "a", "c"):
        manager.queue(task_id, "true")
    with Setup(manager, tmp_path) as setup:
        for n, task_id in enumerate(("b", "a", "c")):
            pending = record(task_id)
            pending.finished_ns = n + 1
            setup.put(pending)
        manager.wait_for(lambda: not len(setup.outbox), 10, "the outbox to empty")

    assert manager.result_order == ["b", "a", "c"]


def test_a_manager_that_is_away_is_waited_for_and_nothing_is_lost(manager: ManagerDouble, tmp_path: Path) -> None:
    manager.queue("t1", "true")
    with Setup(manager, tmp_path) as setup:
        setup.link.ensure(setup.api)
        manager.stop()
        setup.put(record("t1", logs=2))
        manager.wait_for(lambda: not setup.link.connected, 10, "the delegate to notice")
        assert len(setup.outbox) == 1

        manager.start()
        manager.wait_for(lambda: not len(setup.outbox), 10, "the outbox to empty")

    assert manager.log_text("t1") == ["line 0", "line 1"]
    assert len(manager.results("t1")) == 1
    assert manager.registrations[-1]["runningTaskIds"] == ["t1"]


def test_a_result_the_manager_refuses_for_good_is_dropped(manager: ManagerDouble, tmp_path: Path) -> None:
    with Setup(manager, tmp_path) as setup:
        setup.link.ensure(setup.api)
        setup.put(record("unknown-task"))
        manager.wait_for(lambda: not len(setup.outbox), 10, "the record to be dropped")

    assert setup.revoked == []


def test_a_manager_that_forgot_the_delegate_gets_a_new_registration_and_the_result(
    manager: ManagerDouble, tmp_path: Path
) -> None:
    manager.queue("t1", "true")
    with Setup(manager, tmp_path) as setup:
        setup.link.ensure(setup.api)
        with manager.lock:
            manager.delegates.clear()
        setup.put(record("t1"))
        manager.wait_for(lambda: not len(setup.outbox), 10, "the outbox to empty")

    assert len(manager.registrations) == 2
    assert len(manager.results("t1")) == 1


def test_a_revoked_token_stops_delivery_and_keeps_the_record(manager: ManagerDouble, tmp_path: Path) -> None:
    manager.queue("t1", "true")
    with Setup(manager, tmp_path) as setup:
        setup.link.ensure(setup.api)
        manager.revoked = True
        setup.put(record("t1"))
        manager.wait_for(lambda: bool(setup.revoked), 10, "the 401")

    assert setup.revoked[0].status == 401 and setup.revoked[0].code == "INVALID_TOKEN"
    assert [r.task_id for r in Outbox(tmp_path).pending()] == ["t1"]
