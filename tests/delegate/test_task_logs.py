"""A task's log stream: batches, order, and what happens while the log service is away or refuses."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from harness_connector.delegate.task_logs import LogStream, cut_line, iso_ms
from harness_connector.delegate.wire import WireError, WireUnavailable


class LogService:
    """Records batches; `failure` (when set) is raised instead of accepting."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.failure: Exception | None = None
        self.attempts = 0
        self.lock = threading.Lock()

    def __call__(self, batch: list[dict[str, Any]]) -> None:
        with self.lock:
            self.attempts += 1
            if self.failure is not None:
                raise self.failure
            self.batches.append(list(batch))

    def texts(self) -> list[str]:
        with self.lock:
            return [line["out"] for batch in self.batches for line in batch]


def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def stream(service: LogService, **kwargs: Any) -> LogStream:
    return LogStream(service, clock_ms=lambda: 1_795_000_000_123, flush_interval_s=0.02, **kwargs)


def test_lines_arrive_in_order_with_their_level_and_time() -> None:
    service = LogService()
    logs = stream(service)
    logs.write("INFO", "first")
    logs.write("WARN", "second")
    wait_until(lambda: len(service.texts()) == 2)

    assert logs.close() == []
    assert service.batches == [
        [
            {"level": "INFO", "out": "first", "time": "2026-11-18T11:06:40.123Z"},
            {"level": "WARN", "out": "second", "time": "2026-11-18T11:06:40.123Z"},
        ]
    ]


def test_batches_hold_at_most_batch_lines_lines() -> None:
    service = LogService()
    service.failure = WireUnavailable("away")
    logs = stream(service, batch_lines=200)
    for n in range(450):
        logs.write("INFO", f"line {n}")

    left = logs.close()

    assert [len(batch) for batch in left] == [200, 200, 50]


def test_lines_written_while_the_service_is_away_arrive_later_in_order() -> None:
    service = LogService()
    service.failure = WireUnavailable("connection refused")
    logs = stream(service, batch_lines=3)
    for n in range(7):
        logs.write("INFO", f"line {n}")
    wait_until(lambda: service.attempts >= 2)

    service.failure = None
    wait_until(lambda: len(service.texts()) == 7)

    assert service.texts() == [f"line {n}" for n in range(7)]
    assert logs.close() == []


def test_what_could_not_be_sent_is_handed_back_at_close_for_the_outbox() -> None:
    service = LogService()
    service.failure = WireError(503, "UNAVAILABLE", "try later")
    logs = stream(service)
    logs.write("INFO", "kept")

    left = logs.close()

    assert [[line["out"] for line in batch] for batch in left] == [["kept"]]


def test_a_batch_the_service_refuses_for_good_is_dropped_and_the_next_one_sent() -> None:
    service = LogService()
    service.failure = WireError(400, "INVALID_REQUEST", "bad key")
    logs = stream(service)
    logs.write("INFO", "refused")
    wait_until(lambda: service.attempts >= 1)
    service.failure = None
    logs.write("INFO", "accepted")
    wait_until(lambda: service.texts() == ["accepted"])

    assert logs.close() == []


def test_a_401_tells_the_agent_and_keeps_the_lines() -> None:
    service = LogService()
    service.failure = WireError(401, "INVALID_TOKEN", "revoked")
    told: list[WireError] = []
    logs = stream(service, on_unauthorized=told.append)
    logs.write("INFO", "kept")
    wait_until(lambda: bool(told))

    assert [[line["out"] for line in batch] for batch in logs.close()] == [["kept"]]
    assert told[0].status == 401


def test_a_text_longer_than_64_kib_is_cut_with_a_mark() -> None:
    service = LogService()
    logs = stream(service)
    logs.write("INFO", "y" * 70_000)
    wait_until(lambda: len(service.texts()) == 1)
    logs.close()

    (text,) = service.texts()
    assert text == "y" * 65_536 + " [line cut at 64 KiB]"


def test_cut_line_drops_the_line_ending_and_replaces_undecodable_bytes() -> None:
    assert cut_line(b"caf\xc3\xa9\r\n") == "café"
    assert cut_line(b"bad \xff byte\n") == "bad \ufffd byte"
    assert cut_line(b"x" * 65_536 + b"\n") == "x" * 65_536


def test_times_are_utc_with_milliseconds() -> None:
    assert iso_ms(0) == "1970-01-01T00:00:00.000Z"
    assert iso_ms(1_795_000_000_007) == "2026-11-18T11:06:40.007Z"
