"""The delegate's standing with the manager: registered or not, reachable or not, and how long to wait to retry.

Every thread that talks to the manager shares one `Link`. When any call finds the manager gone (connection
refused, no answer), the link forgets the delegate id, so the next call registers again under the same name
first: a manager that restarted may have lost its state, and registering again is how it learns which tasks
this delegate still holds. Registration is done under a lock, so the poll loop and the heartbeat never
register twice for one outage.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence

from harness_connector.delegate.manager_api import ManagerApi, Registration
from harness_connector.delegate.wire import WireError

__all__ = ["Backoff", "Link", "TokenRevoked", "is_unauthorized"]

_log = logging.getLogger("harness_connector.delegate")


class TokenRevoked(Exception):
    """The manager answered 401: the delegate token was revoked or is wrong; nothing will work until it changes."""

    def __init__(self, error: WireError) -> None:
        super().__init__(str(error))
        self.error = error


def is_unauthorized(exc: WireError) -> bool:
    """401: the JWT was refused, so the token behind it was."""
    return exc.status == 401


class Backoff:
    """Exponential delays with jitter: 0.5 s, 1 s, 2 s, ... up to `cap_s`, each scaled by a random 50-100 %.

    The jitter keeps a fleet of delegates that lost the manager together from coming back in lockstep.
    """

    def __init__(self, *, base_s: float = 0.5, cap_s: float = 30.0, rng: random.Random | None = None) -> None:
        self._base_s = base_s
        self._cap_s = cap_s
        self._rng = rng or random.Random()
        self._failures = 0

    def next_delay(self) -> float:
        """The delay before the next attempt; each call doubles the next one, up to the cap."""
        delay: float = min(self._cap_s, self._base_s * 2.0 ** min(self._failures, 30))
        self._failures += 1
        return delay * (0.5 + self._rng.random() / 2)

    def reset(self) -> None:
        """An attempt succeeded: start again from the shortest delay."""
        self._failures = 0


class Link:
    """The delegate id (once registered), whether the manager answers, and the ids the delegate holds."""

    def __init__(
        self,
        registration: Registration,
        held_task_ids: Callable[[], Sequence[str]],
        *,
        on_registered: Callable[[], None] = lambda: None,
    ) -> None:
        self.registration = registration
        self._held = held_task_ids
        self._on_registered = on_registered
        self._lock = threading.Lock()
        self._registered = threading.Condition()
        self.delegate_id: str | None = None
        self.connected = False
        self.heartbeat_interval_ms: int | None = None
        self._ever_registered = False
        self._outage_told = False

    def held_task_ids(self) -> list[str]:
        """Tasks the manager must not queue again: running, being acquired, or with a result in the outbox."""
        return sorted(self._held())

    def ensure(self, api: ManagerApi) -> str:
        """The delegate id, registering first when there is none. Raises what the registration call raises."""
        with self._lock:
            if self.delegate_id is not None:
                return self.delegate_id
            held = self.held_task_ids()
            delegate_id, interval_ms = api.register(self.registration, held)
            again = self._ever_registered
            self._ever_registered = True
            self.heartbeat_interval_ms = interval_ms
            _log.info(
                "%s as %r (delegate id %s) with %d task(s) held: %s",
                "reconnected: registered again" if again else "registered",
                self.registration.name,
                delegate_id,
                len(held),
                ", ".join(held) or "none",
            )
            with self._registered:
                self.delegate_id = delegate_id
                self.connected = True
                self._outage_told = False
                self._registered.notify_all()
        self._on_registered()
        return delegate_id

    def wait_registered(self, timeout_s: float) -> str | None:
        """The delegate id once registered; None if that did not happen within `timeout_s`."""
        with self._registered:
            if self.delegate_id is None:
                self._registered.wait(timeout_s)
            return self.delegate_id

    def lost(self, reason: str) -> None:
        """The manager did not answer: register again once it does. Said once per outage, not per retry."""
        with self._registered:
            was_connected = self.connected
            first = not self._outage_told
            self.connected = False
            self.delegate_id = None
            self._outage_told = True
        if was_connected:
            _log.warning("lost the manager (%s); running tasks go on, results wait in the outbox", reason)
        elif first:
            _log.warning("cannot reach the manager (%s); retrying", reason)

    def forget(self) -> None:
        """The manager does not know this delegate id (404 DELEGATE_NOT_FOUND): register again."""
        with self._registered:
            self.delegate_id = None
        _log.warning("the manager does not know this delegate any more; registering again")
