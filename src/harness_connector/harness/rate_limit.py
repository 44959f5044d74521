"""A client-side token bucket, so the connector stays under Harness's per-key limits instead of hitting 429s."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

__all__ = ["TokenBucket"]


class TokenBucket:
    """Allows `rate` acquisitions per second on average, with bursts of up to `capacity`.

    The clock and the sleep are injected so tests run without waiting.
    """

    def __init__(
        self,
        rate: float,
        *,
        capacity: float | None = None,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = capacity if capacity is not None else max(1.0, rate)
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = anyio.Lock()

    async def acquire(self) -> float:
        """Take one token, waiting for it if needed; returns the seconds waited.

        A caller that finds the bucket empty reserves its token (the balance goes negative) and sleeps outside
        the lock, so waiters queue in order without re-checking a clock that may not have moved.
        """
        async with self._lock:
            self._refill()
            self._tokens -= 1.0
            delay = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if delay > 0:
            await self._sleep(delay)
        return delay

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._updated = now
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
