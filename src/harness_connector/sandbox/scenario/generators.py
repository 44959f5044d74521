"""Values generated per log line (`{ms}`, `{kb}`, `{npm_dep}`, ...): cheap draws from the render's random stream.

A name a template uses that no recipe param fills is looked up here; generators read the stream and the time of
the line being rendered (`LineState`), so the same recipe always renders the same values.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from harness_connector.sandbox.scenario.pools import POOLS

__all__ = ["GENERATORS", "TIME_FIELDS", "Generator", "LineState", "second_prefix"]

# Generated from the time of the line that prints them, so never drawn once for several lines.
TIME_FIELDS = frozenset({"now", "now_local", "date", "log_stamp", "k_secs", "minute", "reset_epoch"})


class LineState:
    """What generators may read: the stream and the time of the line being rendered."""

    __slots__ = ("now", "prefix", "rng", "start")

    def __init__(self, rng: random.Random, start: int) -> None:
        self.rng = rng
        self.start = start
        self.now = start
        self.prefix = second_prefix(start // 1000)  # "2026-09-21T14:03:07." of `now`


def second_prefix(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))


Generator = Callable[[LineState], str]


def _int(low: int, high: int) -> Generator:
    span = high - low + 1
    return lambda s: str(low + int(s.rng.random() * span))


def _pool(name: str) -> Generator:
    items = POOLS[name]
    size = len(items)
    return lambda s: items[int(s.rng.random() * size)]


def _semver(s: LineState) -> str:
    r = s.rng.random
    return f"{int(r() * 9)}.{int(r() * 30)}.{int(r() * 12)}"


def _npm_tarball(s: LineState) -> str:
    name = POOLS["npm_dep"][int(s.rng.random() * len(POOLS["npm_dep"]))]
    return f"{name}/-/{name.rsplit('/', 1)[-1]}-{_semver(s)}.tgz"


GENERATORS: dict[str, Generator] = {
    "ms": _int(3, 900),
    "kb": _int(1, 2400),
    "kbs": _int(180, 9800),
    "n": _int(1, 480),
    "ready": _int(0, 2),
    "pct": _int(0, 100),
    "line": _int(12, 420),
    "line2": _int(12, 420),
    "col": _int(5, 60),
    "port": _int(32768, 60999),
    "pct_small": lambda s: f"{s.rng.random() * 1.5:.2f}",
    "secs": lambda s: f"{s.rng.random() * 40 + 0.2:.3f}",
    "mbs": lambda s: f"{s.rng.random() * 60 + 1:.1f}",
    "hex7": lambda s: f"{s.rng.getrandbits(28):07x}",
    "hex12": lambda s: f"{s.rng.getrandbits(48):012x}",
    "sha256": lambda s: f"{s.rng.getrandbits(256):064x}",
    "semver": _semver,
    "semver_v": lambda s: "v" + _semver(s),
    "ip4": lambda s: f"10.{int(s.rng.random() * 64)}.{int(s.rng.random() * 255)}.{int(s.rng.random() * 254) + 1}",
    "pod5": lambda s: f"{s.rng.getrandbits(25):05x}"[-5:],
    "now": lambda s: s.prefix[:-1] + "Z",
    "now_local": lambda s: f"{s.prefix}{s.now % 1000:03d}Z",
    "date": lambda s: s.prefix[:10],
    "log_stamp": lambda s: s.prefix[:-1].replace(":", "_") + f"_{s.now % 1000:03d}Z",
    "k_secs": lambda s: f"{(s.now - s.start) // 1000:04d}",
    "minute": lambda s: str((s.now - s.start) // 60_000 + 1),
    "npm_tarball": _npm_tarball,
    "reset_epoch": lambda s: str(s.now // 1000 + 1800),
    **{name: _pool(name) for name in POOLS},
}
