"""What the JUnit reader takes (context, limits) and gives back besides `TestResult` records (summary, details)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness_connector.domain.history import TestResult
from harness_connector.errors import UsageError

__all__ = ["CaseDetail", "FileSummary", "JUnitContext", "JUnitError", "JUnitLimits", "ParsedFile"]

_MiB = 1024 * 1024


class JUnitError(UsageError):
    """A report that cannot be ingested: malformed, truncated, hostile, too large, or not JUnit at all.

    The message names the file, the line when there is one, the problem and what to do about it. Nothing of the
    file is kept when this is raised: the caller's transaction rolls back whatever was streamed before it.
    """

    def __init__(self, path: str | Path, problem: str, *, line: int | None = None, hint: str | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        self.hint = hint
        where = f"{self.path}:{line}" if line else self.path
        text = f"{where}: {problem}"
        if hint:
            text += f". {hint}"
        super().__init__(text)


@dataclass(frozen=True, slots=True, kw_only=True)
class JUnitContext:
    """Where the report came from. Every record of the file carries these.

    Commit, branch and start time may also come from the report itself (suite `<properties>` and `timestamp`);
    a value given here always wins over the file's.

    Surefire, Failsafe, PHPUnit and NUnit write no suite `timestamp`, and a result without a time falls outside
    every time window (flaky detection, history). For those reports the start time is `fallback_started_ms`, or,
    with `file_time_fallback`, the file's modification time (when the runner finished writing it). A report's
    own `timestamp` wins over either.
    """

    execution_id: str
    pipeline_id: str | None = None
    stage_id: str | None = None
    step_id: str | None = None
    commit_sha: str | None = None
    branch: str | None = None
    pr_number: int | None = None
    started_ms: int | None = None
    fallback_started_ms: int | None = None
    file_time_fallback: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class JUnitLimits:
    """Bounds that keep a hostile or broken file from costing more than a big honest one.

    libxml2 itself (we never set `huge_tree`) refuses single text nodes and attribute values over 10 MB, and
    entity expansion never happens, so memory per element stays bounded whatever the file says.
    """

    max_file_bytes: int = 512 * _MiB
    max_depth: int = 64
    # A name this long is not a test name; it is a wrong or hostile file, and would be useless in the store.
    max_name_chars: int = 16 * 1024
    max_message_chars: int = 2000
    # Stack traces and system-out/err handed to `on_detail` are trimmed to this (head and tail kept).
    max_output_chars: int = 64 * 1024
    # A prolog (XML declaration, comments, DOCTYPE) longer than this is refused before parsing.
    max_prolog_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        for name in ("max_file_bytes", "max_depth", "max_name_chars", "max_message_chars", "max_output_chars"):
            if getattr(self, name) <= 0:
                raise UsageError(f"JUnitLimits.{name} must be positive")
        if self.max_prolog_bytes < 1024:
            raise UsageError("JUnitLimits.max_prolog_bytes must be at least 1024")


@dataclass(slots=True, kw_only=True)
class FileSummary:
    """Counts for one file. `cases` counts distinct tests by their final outcome (so passed + failed + errors +
    skipped + flaky == cases); `records` counts `TestResult`s, one per attempt; `duration_ms` sums all attempts."""

    path: str
    suites: int = 0
    cases: int = 0
    records: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    flaky: int = 0
    duration_ms: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseDetail:
    """The long text of one attempt, for callers that keep it: the failure body (stack trace) and output.

    Each is trimmed to `JUnitLimits.max_output_chars`, keeping the head and the tail. Key: (`test_id`, `attempt`).
    """

    test_id: str
    attempt: int
    text: str | None = None
    stdout: str | None = None
    stderr: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedFile:
    """A whole file, fully validated, held in memory: for small files and callers without a transaction."""

    summary: FileSummary
    results: tuple[TestResult, ...] = field(default_factory=tuple)
