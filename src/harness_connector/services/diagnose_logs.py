"""Choose the lines of a step log worth a model's tokens: pure, no I/O, bounded memory for any log size.

The official server keeps the last 120 lines of logs under 2 MB, so the compile error on line 40 of a 90,000-line
build is never seen. Here a log is read once, line by line, and an `ExcerptSelector` keeps only:

- error-looking lines (`HITS`, or level ERROR/FATAL), each with a few lines of context before (from a ring buffer)
  and after; the first `max_hits / 2` distinct ones and the last `max_hits / 2`, because the first error is
  usually the cause and the last ones are what finally stopped the step;
- the last `tail` lines, where the exit code and the final message are;
- one copy of an error that repeats: lines equal once numbers and ids are blanked count as repeats of the first.

Every kept line is cut to `max_line_chars`, so memory is bounded by the settings, not the log. `excerpt(budget)`
then spends a character budget by priority: the first and last error and the last line; then the other errors
and the two lines before the last; then context, nearest first; then the rest of the tail. Output is in log
order with 1-based line numbers.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from harness_connector.domain.logs import LogLine

__all__ = ["HITS", "Excerpt", "ExcerptSelector", "PickedLine", "allocate_budget", "line_cost", "looks_like_error"]

HITS = re.compile(
    r"""\bnpm\ err! | \b(?:
        errors? | failed | failures? | failing | exception | fatal | panic(?:ked)? | traceback
      | time[ds]?[\s-]?out | deadline\ exceeded | denied | refused | forbidden | unauthori[sz]ed
      | oomkilled | out\ of\ memory | killed | segmentation\ fault | exit(?:ed)?\ (?:code|status|with)
      | cannot | can't | could\ not | unable\ to | no\ such\ (?:file|host) | not\ found | aborted
      | crashloopbackoff | imagepullbackoff | errimagepull | evicted
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)
# "0 errors", "Failures: 0", "exit code 0" say that something did NOT fail.
_NOT_A_FAILURE = re.compile(
    r"""\b(?:0|no|zero)\s+(?:errors?|failures?|failed|exceptions?)\b
      | \b(?:errors?|failures?|failed|exceptions?)\s*[:=]\s*0\b
      | \bexit(?:ed)?(?:\s+with)?(?:\s+(?:exit\s+)?(?:code|status))?\s*[:=]?\s*0\b""",
    re.IGNORECASE | re.VERBOSE,
)
# A cheap first pass over lower-cased text: most lines hold none of these stems and skip the full pattern, which is
# several times slower. Every alternative of HITS contains one of them.
_STEMS = re.compile(
    "err|fail|exce|fatal|panic|trace|time|deadline|denied|refused|forbid|unauthori|oom|memory|killed|segment|exit"
    "|cannot|can't|could not|unable|no such|not found|abort|backoff|evicted"
)
_ERROR_LEVELS = frozenset({"ERROR", "FATAL", "CRITICAL", "SEVERE"})
_VOLATILE = re.compile(r"0x[0-9a-f]+|[0-9a-f]{8,}|\d+", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINE_OVERHEAD = 28  # {"n":..,"level":"..","text":".."} around the text, as a model sees it
_REPEATS_OVERHEAD = 12  # ,"repeats":..
_MIN_USEFUL_CHARS = 60


def looks_like_error(text: str, level: str = "INFO") -> bool:
    """Whether a line reads as an error: level ERROR/FATAL, or an error word not negated by a zero count."""
    if level.upper() in _ERROR_LEVELS:
        return True
    if not _STEMS.search(text.lower()) or not HITS.search(text):
        return False
    return bool(HITS.search(_NOT_A_FAILURE.sub(" ", text)))


def line_cost(line: PickedLine) -> int:
    """Characters a line costs in the result, its JSON framing included."""
    extra = len(str(line.repeats)) + _REPEATS_OVERHEAD if line.repeats else 0
    return len(line.text) + len(line.level) + len(str(line.n)) + _LINE_OVERHEAD + extra


@dataclass(frozen=True, slots=True)
class PickedLine:
    n: int
    level: str
    text: str
    repeats: int = 0


@dataclass(frozen=True, slots=True)
class Excerpt:
    lines: list[PickedLine]
    total_lines: int
    error_lines: int
    truncated: bool
    chars: int


@dataclass(slots=True)
class _Hit:
    line: PickedLine
    before: list[PickedLine]
    after: list[PickedLine] = field(default_factory=list)
    key: str = ""
    repeats: int = 0


class ExcerptSelector:
    """Feed it a log's lines in order; ask for an excerpt within a character budget at the end."""

    def __init__(
        self, *, before: int = 3, after: int = 3, tail: int = 10, max_hits: int = 24, max_line_chars: int = 400
    ) -> None:
        if min(before, after, tail) < 0 or max_hits < 2 or max_line_chars < _MIN_USEFUL_CHARS:
            raise ValueError("context and tail must be >= 0, max_hits >= 2, max_line_chars >= 60")
        self._after = after
        self._max_line_chars = max_line_chars
        self._head_cap = max_hits // 2
        self._ring: deque[PickedLine] = deque(maxlen=before)
        self._tail: deque[PickedLine] = deque(maxlen=tail)
        self._head: list[_Hit] = []
        self._recent: deque[_Hit] = deque(maxlen=max_hits - self._head_cap)
        self._pending: deque[_Hit] = deque()
        self._seen: dict[str, _Hit] = {}  # only hits still held, so it is bounded by max_hits
        self.total_lines = 0
        self.error_lines = 0

    def feed(self, line: LogLine) -> None:
        """Take the next line of the log."""
        self.total_lines += 1
        picked = PickedLine(line.number, line.level or "INFO", self._clean(line.text))
        while self._pending and len(self._pending[0].after) >= self._after:
            self._pending.popleft()
        for hit in self._pending:
            hit.after.append(picked)
        if looks_like_error(line.text, line.level or "INFO"):
            self.error_lines += 1
            self._hit(picked)
        self._ring.append(picked)
        self._tail.append(picked)

    def _clean(self, text: str) -> str:
        # Control characters other than tab and newline have no business in a result; long lines are cut.
        text = _CONTROL.sub("", text)
        if len(text) <= self._max_line_chars:
            return text
        cut = len(text) - self._max_line_chars
        return f"{text[: self._max_line_chars]} [... {cut} more chars]"

    def _hit(self, picked: PickedLine) -> None:
        key = _VOLATILE.sub("#", picked.text.lower()).strip()
        key = " ".join(key.split())
        seen = self._seen.get(key)
        if seen is not None:
            seen.repeats += 1
            return
        hit = _Hit(picked, list(self._ring), key=key)
        self._seen[key] = hit
        if self._after:
            self._pending.append(hit)
        if len(self._head) < self._head_cap:
            self._head.append(hit)
            return
        if len(self._recent) == self._recent.maxlen:
            dropped = self._recent[0]
            if self._seen.get(dropped.key) is dropped:
                del self._seen[dropped.key]
        self._recent.append(hit)

    def needed_chars(self) -> int:
        """What the excerpt would cost with every kept line: the most a budget for this log needs."""
        lines = {line.n: line for line in self._candidates()}
        return sum(line_cost(line) for line in lines.values())

    def excerpt(self, budget_chars: int) -> Excerpt:
        """The kept lines that fit `budget_chars`, by priority, returned in log order."""
        chosen: dict[int, PickedLine] = {}
        used = 0
        for tier, line in self._prioritised():
            if line.n in chosen:
                continue
            cost = line_cost(line)
            room = budget_chars - used
            if cost > room and tier == 0 and room - (cost - len(line.text)) >= _MIN_USEFUL_CHARS:
                # A first-tier line is worth showing cut rather than not at all.
                keep = room - (cost - len(line.text)) - 20
                line = PickedLine(line.n, line.level, f"{line.text[:keep]} [... cut]", line.repeats)
                cost = line_cost(line)
            if cost <= room:
                chosen[line.n] = line
                used += cost
        lines = [chosen[n] for n in sorted(chosen)]
        return Excerpt(lines, self.total_lines, self.error_lines, len(lines) < self.total_lines, used)

    def _hits(self) -> list[_Hit]:
        return [*self._head, *self._recent]

    def _candidates(self) -> list[PickedLine]:
        return [line for _, line in self._prioritised()]

    def _prioritised(self) -> list[tuple[int, PickedLine]]:
        hits = _outside_in(self._hits())
        tail = list(self._tail)
        out: list[tuple[int, PickedLine]] = [(0, hit.line) for hit in hits[:2]]
        out += [(0, line) for line in tail[-1:]]
        out += [(1, hit.line) for hit in hits[2:]]
        out += [(1, line) for line in reversed(tail[-3:-1])]
        reach = max((max(len(h.before), len(h.after)) for h in hits), default=0)
        for distance in range(1, reach + 1):
            for hit in hits:
                if distance <= len(hit.before):
                    out.append((2, hit.before[-distance]))
                if distance <= len(hit.after):
                    out.append((2, hit.after[distance - 1]))
        out += [(3, line) for line in reversed(tail[:-3])]
        # A line can be reached as a hit, as context and as tail; wherever it is reached, it carries its repeats.
        repeats = {hit.line.n: hit.repeats for hit in hits if hit.repeats}
        if not repeats:
            return out
        return [
            (tier, PickedLine(line.n, line.level, line.text, repeats[line.n]) if line.n in repeats else line)
            for tier, line in out
        ]


def _outside_in(hits: list[_Hit]) -> list[_Hit]:
    """First, last, second, second to last, ...: the ends of a log's errors matter most."""
    out: list[_Hit] = []
    low, high = 0, len(hits) - 1
    while low <= high:
        out.append(hits[low])
        if high != low:
            out.append(hits[high])
        low, high = low + 1, high - 1
    return out


def allocate_budget(needs: list[int], budget: int, *, first_share: float = 0.6) -> list[int]:
    """Split a character budget over logs in rank order: the first (root cause) gets up to `first_share`, the
    others an even share of the rest, and whatever a log does not need goes back to the earliest ranks."""
    if not needs:
        return []
    given = [0] * len(needs)
    left = max(0, budget)
    given[0] = min(needs[0], left if len(needs) == 1 else int(left * first_share))
    left -= given[0]
    for index in range(1, len(needs)):
        given[index] = min(needs[index], left // (len(needs) - index))
        left -= given[index]
    for index, need in enumerate(needs):
        extra = min(need - given[index], left)
        given[index] += extra
        left -= extra
    return given
