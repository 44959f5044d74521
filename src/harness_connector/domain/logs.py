"""One line of a step log, as the log service stores it, with terminal colour codes removed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class LogLine:
    """A parsed log line. `number` counts from 1 within its log; `level` is `INFO`, `WARN`, `ERROR`, ..."""

    number: int
    text: str
    level: str = "INFO"
    time: str | None = None
