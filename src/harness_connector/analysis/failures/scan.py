"""Read a failed step's log once and keep what a classifier needs, in bounded memory and a few string tests a line.

A build log can have half a million lines, and the connector has a few seconds. Running the whole pattern library
on every line costs tens of microseconds a line in Python's regex engine, so the scan keeps two small sets:

- the *tail*: the last `tail` lines (a ring buffer), because a step fails shortly after its cause, and the exit
  code, the final error and the tool's summary are there;
- the *error-looking lines*: lines whose level is ERROR/FATAL or whose text holds one of a handful of words
  (`error`, `fail`, `fatal`, ...), found with plain substring tests, the first and the last `keep` of them.

The rules and the template miner then run on these few thousand lines, not on the whole log. What the scan can
miss is a line with none of those words, outside the tail; the rules' patterns that need other words
(`Killed`, `TOOMANYREQUESTS`) are the ones that appear at the end of a failed step.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from harness_connector.domain.logs import LogLine

__all__ = ["ScannedLog", "StepLogScan"]

# Plain substring tests on the raw text (a lower-cased copy would cost more than the tests), written out in
# `feed` because a generator over a tuple costs three times as much at half a million lines:
# error/Error/ERROR, fail/Fail/FAIL, fatal/Fatal/FATAL, panic, ERR!/Err:.
_ERROR_LEVELS = frozenset({"ERROR", "FATAL", "CRITICAL", "SEVERE", "error", "fatal"})
_MAX_TEXT = 2_000  # characters of a kept line; a 1 MB line must not hold a megabyte


@dataclass(frozen=True, slots=True)
class ScannedLog:
    """What the scan kept of one log: lines in log order without duplicates, and how much it saw."""

    lines: tuple[LogLine, ...]
    total_lines: int
    error_lines: int
    last_line: LogLine | None = None


@dataclass(slots=True)
class StepLogScan:
    """Feed it lines in order; `result()` when the log ends."""

    tail: int = 3_000
    keep: int = 400
    total: int = 0
    errors: int = 0
    _tail: deque[LogLine] = field(init=False)
    _first: list[LogLine] = field(default_factory=list)
    _last: deque[LogLine] = field(init=False)

    def __post_init__(self) -> None:
        self._tail = deque(maxlen=self.tail)
        self._last = deque(maxlen=self.keep)

    def feed(self, line: LogLine) -> None:
        self.total += 1
        text = line.text
        if len(text) > _MAX_TEXT:
            line = LogLine(number=line.number, text=text[:_MAX_TEXT], level=line.level, time=line.time)
            text = line.text
        self._tail.append(line)
        if (
            "rror" in text
            or "fail" in text
            or "RROR" in text
            or "Fail" in text
            or "FAIL" in text
            or "atal" in text
            or "ATAL" in text
            or "anic" in text
            or "ERR" in text
            or "Err:" in text
            or line.level in _ERROR_LEVELS
        ):
            self.errors += 1
            if len(self._first) < self.keep:
                self._first.append(line)
            else:
                self._last.append(line)

    def feed_all(self, lines: Iterable[LogLine]) -> StepLogScan:
        for line in lines:
            self.feed(line)
        return self

    def result(self) -> ScannedLog:
        by_number = {line.number: line for line in (*self._first, *self._last, *self._tail)}
        ordered = tuple(by_number[n] for n in sorted(by_number))
        return ScannedLog(
            lines=ordered,
            total_lines=self.total,
            error_lines=self.errors,
            last_line=self._tail[-1] if self._tail else None,
        )
