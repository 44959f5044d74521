"""Read a failed step's log once and keep what a classifier needs, in bounded memory and a few string tests a line.

A build log can have half a million lines, and the connector has a few seconds. Running the whole pattern library
on every line costs tens of microseconds a line in Python's regex engine, so the scan keeps two small sets:

- the *tail*: the last `tail` lines, because a step fails shortly after its cause, and the exit code, the final
  error and the tool's summary are there;
- the *error-looking lines*: lines whose level is ERROR or FATAL, or whose text holds `error`, `fail`, `fatal`,
  `panic` or `err:` in any case, or `ERR` (npm's `ERR!`, `ERR_...` codes); the first and the last `keep` of them.

The rules and the template miner then run on these few thousand lines, not on the whole log. What the scan can
miss is a line with none of those words, outside the tail; the rules' patterns that need other words
(`Killed`, `TOOMANYREQUESTS`) are the ones that appear at the end of a failed step.

`feed_batch` takes lines still undecoded. Decoding a log-service JSON line costs most of the time of reading it,
and most lines of a long log are neither kept nor in the tail, so the words are searched in the batch's raw bytes
(six searches over the whole batch, in C), and only the lines kept are decoded, a few thousand at most. The level
is in the raw JSON as `"level":"error"`, so the same words find it. The result is the one `feed` gives on the
decoded lines, except where an escape hides or forms a word: a word split by a terminal escape sequence
(`ER\\x1b[0mROR`) or spelled with JSON escapes (`\\u0065rror`) shows only once decoded, and a word inside a
terminal title sequence shows only before.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from operator import add
from typing import Protocol

from harness_connector.domain.logs import LogLine

__all__ = ["ScannedLog", "StepLogScan", "UndecodedLines"]

_ERROR_LEVELS = frozenset({"ERROR", "FATAL"})
_LOWER_WORDS = ("error", "fail", "fatal", "panic", "err:")  # looked for in the lower-cased text
_EXACT_WORDS = ("ERR",)  # looked for as written: a lower-case `err` is in stderr, override, interrupt
_LOWER_BYTES = tuple(word.encode() for word in _LOWER_WORDS)
_EXACT_BYTES = tuple(word.encode() for word in _EXACT_WORDS)
_MAX_TEXT = 2_000  # characters of a kept line; a 1 MB line must not hold a megabyte
_LONG_LINES = 2_000  # bytes a line on average above which a batch is decoded at once rather than held raw


class UndecodedLines(Protocol):
    """A batch of consecutive, non-blank log lines not yet decoded, numbered from `first_number`."""

    @property
    def first_number(self) -> int: ...

    @property
    def raw(self) -> Sequence[bytes]:
        """Each line's bytes as they came (a JSON line of the log service, or plain text)."""
        ...

    def line(self, index: int) -> LogLine:
        """The decoded line at `index` of `raw`."""
        ...

    def single(self, index: int) -> UndecodedLines:
        """A batch of the one line at `index`, holding nothing else of this batch."""
        ...


@dataclass(frozen=True, slots=True)
class ScannedLog:
    """What the scan kept of one log: lines in log order without duplicates, and how much it saw."""

    lines: tuple[LogLine, ...]
    total_lines: int
    error_lines: int
    last_line: LogLine | None = None


@dataclass(slots=True)
class StepLogScan:
    """Feed it lines in order (decoded with `feed`, or undecoded in batches with `feed_batch`); then `result()`."""

    tail: int = 3_000
    keep: int = 400
    total: int = 0
    errors: int = 0
    _tail: deque[LogLine | tuple[UndecodedLines, int]] = field(init=False)
    _first: list[LogLine] = field(default_factory=list)
    _last: deque[LogLine | tuple[UndecodedLines, int]] = field(init=False)

    def __post_init__(self) -> None:
        self._tail = deque(maxlen=self.tail)
        self._last = deque(maxlen=self.keep)

    def feed(self, line: LogLine) -> None:
        self.total += 1
        error = looks_like_error(line)  # on the whole text: a word past the cut still counts
        line = _capped(line)
        self._tail.append(line)
        if error:
            self._keep(line)

    def feed_all(self, lines: Iterable[LogLine]) -> StepLogScan:
        for line in lines:
            self.feed(line)
        return self

    def feed_batch(self, batch: UndecodedLines) -> None:
        """Feed a batch of undecoded lines: only those whose bytes hold a word are decoded now."""
        raw = batch.raw
        if not raw:
            return
        joined = b"\n".join(raw)
        if len(joined) > _LONG_LINES * len(raw):  # few, long lines: holding them raw in the tail would cost more
            for index in range(len(raw)):
                self.feed(batch.line(index))
            return
        self.total += len(raw)
        # The tail holds (batch, index) until the end; only the last `tail` of them are ever decoded.
        start = max(0, len(raw) - self.tail)
        self._tail.extend((batch, index) for index in range(start, len(raw)))
        # A line whose bytes hold a word is taken as error-looking without decoding it: the JSON keys hold none
        # of the words, so the word is in its level or text. Only the first `keep` are decoded now; the last
        # `keep` wait, each detached from its batch so a long log's batches are not held for one line each.
        hits = _lines_with_words(joined, raw)
        self.errors += len(hits)
        room = max(0, self.keep - len(self._first))
        self._first.extend(_capped(batch.line(index)) for index in hits[:room])
        self._last.extend((batch.single(index), 0) for index in hits[room:][-self.keep :])

    def result(self) -> ScannedLog:
        tail = [_decoded(entry) for entry in self._tail]
        last = [_decoded(entry) for entry in self._last]
        by_number = {line.number: line for line in (*self._first, *last, *tail)}
        ordered = tuple(by_number[n] for n in sorted(by_number))
        return ScannedLog(
            lines=ordered,
            total_lines=self.total,
            error_lines=self.errors,
            last_line=tail[-1] if tail else None,
        )

    def _keep(self, line: LogLine) -> None:
        self.errors += 1
        if len(self._first) < self.keep:
            self._first.append(line)
        else:
            self._last.append(line)


def looks_like_error(line: LogLine) -> bool:
    """Whether a line is worth keeping: an error level, or one of the scan's words in its text."""
    if line.level in _ERROR_LEVELS:
        return True
    text = line.text
    lower = text.lower()
    return any(word in lower for word in _LOWER_WORDS) or any(word in text for word in _EXACT_WORDS)


def _lines_with_words(joined: bytes, raw: Sequence[bytes]) -> list[int]:
    """Indexes (ascending) of the lines of `joined` (`raw` joined by newlines) whose bytes hold a scan word."""
    # ends[i] is where line i ends in `joined` (its newline, or the end).
    ends = list(map(add, accumulate(map(len, raw)), range(len(raw))))
    hits: set[int] = set()
    lower = joined.lower()
    for text, words in ((lower, _LOWER_BYTES), (joined, _EXACT_BYTES)):
        for word in words:
            at = text.find(word)
            while at >= 0:
                index = bisect_left(ends, at)
                hits.add(index)
                at = text.find(word, ends[index] + 1)  # one hit a line is enough
    return sorted(hits)


def _decoded(entry: LogLine | tuple[UndecodedLines, int]) -> LogLine:
    if isinstance(entry, LogLine):
        return entry
    batch, index = entry
    return _capped(batch.line(index))


def _capped(line: LogLine) -> LogLine:
    if len(line.text) <= _MAX_TEXT:
        return line
    return LogLine(number=line.number, text=line.text[:_MAX_TEXT], level=line.level, time=line.time)
