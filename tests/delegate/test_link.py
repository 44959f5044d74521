"""Backoff between retries, and the link's registrations against a manager over real HTTP."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from harness_connector.delegate.auth import DelegateCredentials
from harness_connector.delegate.link import Backoff, Link
from harness_connector.delegate.manager_api import ManagerApi, Registration
from harness_connector.delegate.wire import WireClient
from tests.delegate.manager_double import ACCOUNT, TOKEN, ManagerDouble, running_manager


class FixedRandom(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def test_delays_double_up_to_the_cap() -> None:
    backoff = Backoff(base_s=0.5, cap_s=30.0, rng=FixedRandom(1.0))
    assert [backoff.next_delay() for _ in range(8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_jitter_keeps_each_delay_between_half_and_all_of_it() -> None:
    low, high = Backoff(rng=FixedRandom(0.0)), Backoff(rng=FixedRandom(0.999))
    for _ in range(3):
        low.next_delay(), high.next_delay()
    assert low.next_delay() == 2.0
    assert 3.99 < high.next_delay() < 4.0


def test_a_success_starts_again_from_the_shortest_delay() -> None:
    backoff = Backoff(base_s=1.0, rng=FixedRandom(1.0))
    backoff.next_delay(), backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 1.0


def test_a_long_outage_never_overflows_the_delay() -> None:
    backoff = Backoff(cap_s=30.0, rng=FixedRandom(1.0))
    for _ in range(2000):
        delay = backoff.next_delay()
    assert delay == 30.0


@pytest.fixture
def manager() -> Iterator[ManagerDouble]:
    with running_manager() as started:
        yield started


def test_the_link_registers_once_and_again_after_losing_the_manager_with_what_it_holds(
    manager: ManagerDouble, caplog: pytest.LogCaptureFixture
) -> None:
    credentials = DelegateCredentials(ACCOUNT, TOKEN)
    api = ManagerApi(WireClient(manager.url, headers=credentials.headers, timeout_s=5), ACCOUNT)
    held = ["t9"]
    registration = Registration(name="d1", host_name="h", tags=("a",), org="default", project="payments")
    link = Link(registration, lambda: held)
    caplog.set_level("INFO", logger="harness_connector.delegate")
    try:
        first = link.ensure(api)
        assert link.ensure(api) == first
        link.lost("connection refused")
        again = link.ensure(api)
    finally:
        api.close()

    assert first == again == "dlg-1" and link.connected
    assert [r["runningTaskIds"] for r in manager.registrations] == [["t9"], ["t9"]]
    assert manager.registrations[0]["orgIdentifier"] == "default"
    assert manager.registrations[0]["projectIdentifier"] == "payments"
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("registered as 'd1'") for m in messages)
    assert any(m.startswith("lost the manager (connection refused)") for m in messages)
    assert any(m.startswith("reconnected: registered again as 'd1'") for m in messages)
