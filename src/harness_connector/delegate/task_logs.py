"""A task's log on its way to the log service: batched, sent in order, kept when it cannot be sent.

Lines are grouped into batches of at most `batch_lines`, and a background thread sends the oldest batch every
`flush_interval_s` (sooner when a batch fills up). A batch that cannot be delivered (the manager is away, or
answers 429/5xx) stays at the head of the queue and is tried again on the next tick, so lines arrive in the order
they were written; when the task ends, whatever is still queued goes into the outbox with the result. A batch
the log service refuses for good (another 4xx) is dropped: sending it again would be refused again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from harness_connector.delegate.wire import WireError, WireUnavailable

__all__ = ["MAX_LINE_BYTES", "LogLevel", "LogStream", "cut_line", "iso_ms"]

_log = logging.getLogger(__name__)

LogLevel = Literal["INFO", "WARN", "ERROR"]
MAX_LINE_BYTES = 64 * 1024
_CUT_MARK = " [line cut at 64 KiB]"
# While the log service is away, a chatty script could fill the memory; past this many queued lines, new lines
# are counted and dropped, and one line says how many were lost.
_MAX_QUEUED_LINES = 200_000


def iso_ms(epoch_ms: int) -> str:
    """`2026-11-22T10:00:00.000Z`, the log service's time format."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def cut_line(raw: bytes, *, was_cut: bool = False) -> str:
    """A line as text: undecodable bytes replaced, the newline dropped, marked when it was longer than allowed."""
    body = raw[:-1] if raw.endswith(b"\n") else raw
    body = body[:-1] if body.endswith(b"\r") else body
    text = body[:MAX_LINE_BYTES].decode("utf-8", errors="replace")
    return text + _CUT_MARK if was_cut or len(body) > MAX_LINE_BYTES else text


class LogStream:
    """One task's log stream. `write` from any thread; `close` once, when the task has ended."""

    def __init__(
        self,
        send: Callable[[list[dict[str, Any]]], None],
        *,
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
        flush_interval_s: float = 0.5,
        batch_lines: int = 200,
        on_unauthorized: Callable[[WireError], None] = lambda exc: None,
    ) -> None:
        self._send = send
        self._clock_ms = clock_ms
        self._interval = flush_interval_s
        self._batch_lines = batch_lines
        self._on_unauthorized = on_unauthorized
        self._lock = threading.Lock()
        self._queue: deque[list[dict[str, Any]]] = deque()
        self._queued_lines = 0
        self._dropped = 0
        self._sending = False
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-stream", daemon=True)
        self._thread.start()

    def write(self, level: LogLevel, text: str) -> None:
        """Queue one line (a longer text is cut at 64 KiB)."""
        if len(text) > MAX_LINE_BYTES:
            text = text[:MAX_LINE_BYTES] + _CUT_MARK
        line = {"level": level, "out": text, "time": iso_ms(self._clock_ms())}
        with self._lock:
            if self._queued_lines >= _MAX_QUEUED_LINES:
                self._dropped += 1
                return
            self._append(line)
            full = len(self._queue[-1]) >= self._batch_lines
        if full:
            self._wake.set()

    def _append(self, line: dict[str, Any]) -> None:
        # The head batch may be on the wire right now, so it is never extended while a send is in flight.
        tail_in_flight = self._sending and len(self._queue) == 1
        if self._queue and len(self._queue[-1]) < self._batch_lines and not tail_in_flight:
            self._queue[-1].append(line)
        else:
            self._queue.append([line])
        self._queued_lines += 1

    def _run(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            self._send_queued()

    def _send_queued(self) -> None:
        while not self._closed.is_set():
            with self._lock:
                if not self._queue:
                    return
                batch = self._queue[0]
                self._sending = True
            try:
                delivered = self._try(batch)
            finally:
                with self._lock:
                    self._sending = False
            if not delivered:
                return
            with self._lock:
                self._queue.popleft()
                self._queued_lines -= len(batch)
                self._note_dropped()

    def _try(self, batch: list[dict[str, Any]]) -> bool:
        """Send one batch; True when it is done with (delivered, or refused for good)."""
        try:
            self._send(batch)
        except WireUnavailable:
            return False
        except WireError as exc:
            if exc.status == 401:
                self._on_unauthorized(exc)
                return False
            if exc.retryable:
                return False
            _log.warning("the log service refused %d log lines (%s); they are dropped", len(batch), exc)
        return True

    def _note_dropped(self) -> None:
        if self._dropped and self._queued_lines < _MAX_QUEUED_LINES:
            text = f"{self._dropped} log lines were dropped while the log service could not be reached"
            self._dropped = 0
            self._append({"level": "WARN", "out": text, "time": iso_ms(self._clock_ms())})

    def close(self) -> list[list[dict[str, Any]]]:
        """Stop sending; return the batches not delivered yet, oldest first, for the outbox."""
        self._closed.set()
        self._wake.set()
        self._thread.join()
        with self._lock:
            self._note_dropped()
            return [batch for batch in self._queue if batch]
