"""Deterministic identifiers, random streams and time spellings for the scenario.

Every random choice comes from a `random.Random` derived from the scenario seed and a label, so adding a new
kind of randomness in one place never shifts the draws of another (and the same seed and anchor always give the
same account).
"""

from __future__ import annotations

import hashlib
import random
import time

__all__ = [
    "DAY_MS",
    "HOUR_MS",
    "MINUTE_MS",
    "derive_seed",
    "hex_id",
    "rfc3339",
    "stream",
    "url_safe_id",
]

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

_URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def derive_seed(seed: int, *labels: object) -> int:
    """A 63-bit seed for one purpose, stable across Python runs (unlike `hash`)."""
    text = ":".join([str(seed), *(str(label) for label in labels)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def stream(seed: int, *labels: object) -> random.Random:
    """An independent random stream for one purpose."""
    return random.Random(derive_seed(seed, *labels))


def url_safe_id(seed: int, *labels: object, length: int = 22) -> str:
    """A url-safe id such as Harness uses for plan executions (22 characters by default)."""
    digest = hashlib.sha256(":".join([str(seed), *(str(label) for label in labels)]).encode()).digest()
    return "".join(_URL_SAFE[b & 63] for b in digest[:length])


def hex_id(seed: int, *labels: object, length: int = 40) -> str:
    """A hex id (a git SHA when `length` is 40)."""
    return hashlib.sha256(":".join([str(seed), *(str(label) for label in labels)]).encode()).hexdigest()[:length]


def rfc3339(ms: int) -> str:
    """`2026-09-21T14:03:07.123Z`: the log service's and the events file's time spelling."""
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"
