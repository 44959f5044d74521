"""Emptying the outbox: each finished task's log lines, test cases and result, oldest task first.

One thread delivers, so parts arrive in order: a task's logs before its reports before its result, and task
after task in the order they finished. The manager being away (or answering 429/5xx) is waited out with
backoff, for as long as the delegate runs; a part the manager refuses for good (another 4xx) is logged and
dropped, since sending it again would be refused again. A 401 means the token was revoked: nothing more can be
delivered, the records stay on disk, and the agent is told to stop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from harness_connector.delegate.link import Backoff, Link, TokenRevoked, is_unauthorized
from harness_connector.delegate.manager_api import ManagerApi, is_delegate_not_found
from harness_connector.delegate.outbox import Outbox, PendingDelivery
from harness_connector.delegate.wire import WireError, WireUnavailable

__all__ = ["Deliverer"]

_log = logging.getLogger("harness_connector.delegate")

# Batches of log lines kept in the outbox are merged up to this many lines per call on their way out.
_MERGED_LOG_LINES = 2000
_IDLE_WAIT_S = 1.0


class _Retry(Exception):
    """The part was not delivered and may be later."""


class Deliverer:
    """The outbox's delivery thread. `first_pass` is set once the outbox was empty or the manager was away."""

    def __init__(
        self,
        outbox: Outbox,
        api: ManagerApi,
        link: Link,
        *,
        backoff: Backoff,
        on_revoked: Callable[[WireError], None],
    ) -> None:
        self._outbox = outbox
        self._api = api
        self._link = link
        self._backoff = backoff
        self._on_revoked = on_revoked
        self._wake = threading.Event()
        self._closed = threading.Event()
        self.first_pass = threading.Event()

    def poke(self) -> None:
        """Try again now rather than at the end of a backoff (a task ended, the manager came back)."""
        self._wake.set()

    def close(self) -> None:
        """Make `run` return at its next step; what is left stays in the outbox."""
        self._closed.set()
        self._wake.set()

    def run(self) -> None:
        """Deliver until closed (the thread's target)."""
        while not self._closed.is_set():
            pending = self._outbox.oldest()
            if pending is None:
                self.first_pass.set()
                self._wake.wait(_IDLE_WAIT_S)
                self._wake.clear()
                continue
            try:
                self.deliver(pending, self._registered())
            except TokenRevoked as exc:
                self._on_revoked(exc.error)
                return
            except Exception as exc:
                if not isinstance(exc, _Retry):  # e.g. the disk is full: keep the thread, try again later
                    _log.exception("delivering the result of task %s failed", pending.task_id)
                self.first_pass.set()
                self._wake.wait(self._backoff.next_delay())
                self._wake.clear()
                continue
            self._backoff.reset()

    def _registered(self) -> str:
        """The delegate id, registering first if the link has none (the poll loop may be in a backoff)."""
        return str(self._send(partial(self._link.ensure, self._api), "the registration"))

    def deliver(self, pending: PendingDelivery, delegate_id: str) -> None:
        """Send what `pending` still owes, recording progress after each part.

        Raises:
            _Retry: a part could not be delivered now.
            TokenRevoked: the manager refused the token.
        """
        while pending.log_batches:
            merged, used = _merge(pending.log_batches)
            self._send(partial(self._api.send_logs, pending.log_key, merged), f"{len(merged)} log lines")
            del pending.log_batches[:used]
            self._outbox.put(pending)
        while pending.report_batches:
            rows = pending.report_batches[0]
            self._send(partial(self._api.write_reports, pending.report_query, rows), f"{len(rows)} test cases")
            del pending.report_batches[0]
            self._outbox.put(pending)
        answer = self._send(
            partial(self._api.send_result, delegate_id, pending.task_id, pending.result),
            f"the result of task {pending.task_id}",
        )
        if answer is not None and not answer[0]:
            _log.info("the manager no longer waited for task %s (%s)", pending.task_id, answer[1] or "no reason")
        self._outbox.remove(pending.task_id)
        _log.info("delivered the result of task %s (%s)", pending.task_id, pending.result.get("status"))

    def _send(self, call: Callable[[], Any], what: str) -> Any:
        """Make one call; None when the manager refused the part for good (it is dropped)."""
        try:
            return call()
        except WireUnavailable as exc:
            self._link.lost(str(exc))
            raise _Retry from exc
        except WireError as exc:
            if is_unauthorized(exc):
                raise TokenRevoked(exc) from exc
            if is_delegate_not_found(exc):
                self._link.forget()
                raise _Retry from exc
            if exc.retryable:
                _log.warning("the manager could not take %s now (%s); will retry", what, exc)
                raise _Retry from exc
            _log.error("the manager refused %s (%s); it is dropped", what, exc)
            return None


def _merge(batches: list[list[dict[str, Any]]]) -> tuple[list[dict[str, Any]], int]:
    """The first batches joined up to `_MERGED_LOG_LINES` lines (at least one batch), and how many were used."""
    merged: list[dict[str, Any]] = []
    used = 0
    for batch in batches:
        if merged and len(merged) + len(batch) > _MERGED_LOG_LINES:
            break
        merged.extend(batch)
        used += 1
    return merged, used
