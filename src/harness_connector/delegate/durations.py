"""Durations as Harness writes them (`10m`, `1h30m`, `1d`, `45s`), or a plain number of seconds.

Test profiles and the bridge's `--timeout` take the same notation as a pipeline step's `timeout`, so a value can
be copied from one to the other.
"""

from __future__ import annotations

import math
import re

__all__ = ["parse_duration"]

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def parse_duration(value: str | float) -> float:
    """Seconds in `value`: a number of seconds, or units like `1h30m`.

    Raises:
        ValueError: not a duration, or not positive (the message shows the accepted forms).
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration: use seconds (90) or units like '10m', '1h30m'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = re.sub(r"\s+", "", value).lower()
        parts = _PART.findall(text)
        if _NUMBER.fullmatch(text):
            seconds = float(text)
        elif parts and "".join(number + unit for number, unit in parts) == text:
            seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
        else:
            raise ValueError(f"{value!r} is not a duration: use seconds (90) or units like '10m', '1h30m', '1d'")
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ValueError(f"{value!r} is not a positive, finite duration")
    return seconds
