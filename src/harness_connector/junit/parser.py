"""The streaming reader: one JUnit/xUnit file in, `TestResult`s out, in bounded memory.

`lxml.etree.iterparse` walks the file with start and end events; each `<testcase>` becomes its records at its end
event, and processed elements are deleted as the walk goes, so memory holds one suite's open elements and a few
hundred finished test cases, whatever the file's size.

Suites: the suite of a test case is the innermost `<testsuite>` with a non-empty name (PHPUnit nests suites for
the project, the class and each data provider). Playwright writes one suite per (project, spec file) and puts the
project name in `hostname`; in a Playwright report (a root `<testsuites>` with an `id` attribute, which only it
writes) the project is kept in the suite as `spec.ts [chromium]`, or the same test on three browsers would be one.

Repeats: a test case that appears again in the same top-level suite (gotestsum `--rerun-fails`, Gradle's test
retry without `mergeReruns`) is another attempt of the same test: its attempt numbers continue, and a pass after
a failure is FLAKY. The summary counts each test once, by its final outcome; a test that both passed and failed
counts as flaky.

Suite `<properties>` fill what the caller's context leaves empty: `commit`/`commit_sha`/`git_commit`/`git.commit`/
`sha`/`revision` → commit, `branch`/`git_branch`/`git.branch` → branch, `attempt`/`run_attempt` (1-based) or
`retry`/`rerun` (0-based) → the attempt number of the suite's first run. A suite's `timestamp` is its start time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from harness_connector.domain.history import TestOutcome, TestResult
from harness_connector.errors import UsageError
from harness_connector.junit.cases import SKIP_STATUSES, Attempt, case_attempts, duration_ms
from harness_connector.junit.ids import id_hasher, normalise_name
from harness_connector.junit.model import CaseDetail, FileSummary, JUnitContext, JUnitError, JUnitLimits
from harness_connector.junit.records import Context, build
from harness_connector.junit.safety import (
    JUNIT_ROOTS,
    FileTooLarge,
    LimitedReader,
    check_prolog,
    syntax_error,
    wrong_root,
)

__all__ = ["JUnitStream"]

_OPTIONS: dict[str, bool] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "attribute_defaults": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}
_CHUNK = 256 * 1024
# Finished test cases are deleted in batches: one `del` per batch instead of a tree walk per case.
_SWEEP = 256
_PASSED, _FAILED, _ERROR, _SKIPPED, _FLAKY = (
    TestOutcome.PASSED,
    TestOutcome.FAILED,
    TestOutcome.ERROR,
    TestOutcome.SKIPPED,
    TestOutcome.FLAKY,
)
# What the repeat detector remembers of a test, packed in one small int: attempt << 5 | outcome << 2 | failed << 1
# | passed. Small ints are shared objects, so a million remembered tests cost only their dict slots.
_CODES = (_PASSED, _FAILED, _ERROR, _SKIPPED, _FLAKY)
_INDEX = {outcome: i for i, outcome in enumerate(_CODES)}
_COMMIT_KEYS = frozenset({"commit", "commit_sha", "git_commit", "git.commit", "git.sha", "sha", "revision"})
_BRANCH_KEYS = frozenset({"branch", "git_branch", "git.branch"})
_ATTEMPT_KEYS = frozenset({"attempt", "run_attempt", "test_attempt"})
_RETRY_KEYS = frozenset({"retry", "rerun", "retry_count"})
_MAX_ATTEMPT = 1000


class _Frame:
    """What a suite gives its test cases."""

    __slots__ = ("attempt", "carry_file", "class_name", "collection", "context", "file", "hasher", "seen", "suite")

    def __init__(self, suite: str, file: str | None, context: Context, attempt: int, seen: dict[str, int]) -> None:
        self.collection = False  # the root <testsuites>: each suite in it is a top-level suite
        self.suite = suite
        self.file = file
        self.context = context
        self.attempt = attempt
        self.seen = seen
        # The id hash of (suite, last class seen): consecutive cases of one class share it.
        self.class_name: str | None = None
        self.hasher = id_hasher(suite, "")
        # mocha/Cypress write the spec file only on the empty "Root Suite"; its sibling suites inherit it.
        self.carry_file: str | None = None


def _line(element: etree._Element) -> int | None:
    line: object = element.sourceline
    return line if isinstance(line, int) else None


def _drop_before(element: etree._Element) -> None:
    """Delete the finished siblings before `element`, which is how memory stays bounded."""
    parent = element.getparent()
    if parent is not None:
        del parent[: parent.index(element)]


def _ends_early(path: Path) -> bool:
    """Whether the file stops before a closing root tag: the sign of a report cut off while being written."""
    try:
        with path.open("rb") as raw:
            raw.seek(max(0, path.stat().st_size - 512))
            tail = raw.read().replace(b"\x00", b"").rstrip()
    except OSError:
        return False
    return not tail.endswith((b"testsuites>", b"testsuite>", b"/>"))


def _epoch_ms(timestamp: str | None) -> int | None:
    if not timestamp:
        return None
    try:
        moment = datetime.fromisoformat(timestamp.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # gotestsum writes 0001-01-01 when it has no time: no time is better than a wrong one.
    return int(moment.timestamp() * 1000) if moment.year > 1970 else None


class JUnitStream:
    """The records of one file, streamed; `summary` once the iteration is over. Iterable once.

    Iteration raises `JUnitError` the moment the file proves bad, possibly after records were yielded: consume
    it inside a store transaction (or use `parse_file`) so a bad file leaves nothing behind.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        context: JUnitContext,
        *,
        limits: JUnitLimits | None = None,
        on_detail: Callable[[CaseDetail], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self._context = context
        self._limits = limits or JUnitLimits()
        self._on_detail = on_detail
        self._summary = FileSummary(path=str(self.path))
        self._started = False
        self._done = False
        self._playwright = False
        self._tags: frozenset[str] = frozenset()
        self._side_tags: frozenset[str] = frozenset()
        self._suite_tag = self._props_tag = ""

    @property
    def summary(self) -> FileSummary:
        if not self._done:
            raise UsageError("the summary is known only once the whole file was read: iterate the stream first")
        return self._summary

    def __iter__(self) -> Iterator[TestResult]:
        if self._started:
            raise UsageError(f"{self.path}: a JUnitStream can be iterated once; call iter_results again")
        self._started = True
        return self._run()

    def _run(self) -> Iterator[TestResult]:
        where, limits = str(self.path), self._limits
        try:
            size = self.path.stat().st_size
            raw = self.path.open("rb")
        except FileNotFoundError:
            raise JUnitError(where, "no such file", hint="Check the path or glob") from None
        except IsADirectoryError:
            raise JUnitError(where, "this is a directory", hint="Expand it with find_report_files first") from None
        except OSError as error:
            raise JUnitError(where, f"cannot read the file ({error.strerror})", hint="Check its permissions") from None
        with raw:
            if size > limits.max_file_bytes:
                raise self._too_large(size)
            if size == 0:
                hint = "The test run probably stopped before writing its report; re-run it or leave this file out"
                raise JUnitError(where, "the file is empty", hint=hint)
            check_prolog(where, raw, limits.max_prolog_bytes)
            etree.clear_error_log()
            reader = LimitedReader(raw, limits.max_file_bytes)
            events = etree.iterparse(reader, events=("start", "end"), chunk_size=_CHUNK, **_OPTIONS)
            try:
                yield from self._walk(events)
            except FileTooLarge:
                raise self._too_large(reader.count) from None
            except etree.XMLSyntaxError as error:
                raise self._syntax(error) from None
        self._done = True

    def _walk(self, events: Iterator[tuple[str, etree._Element]]) -> Iterator[TestResult]:
        # The per-case path is written out here, not in helpers: at a million cases every call shows.
        max_depth, max_name = self._limits.max_depth, self._limits.max_name_chars
        counts = dict.fromkeys(_CODES, 0)
        passed = records = duration = swept = depth = 0
        stack: list[_Frame] = []
        case_tag = suite_tag = ""
        for event, element in events:
            if event == "start":
                depth += 1
                if depth > max_depth:
                    raise self._too_deep(element)
                if depth == 1:
                    case_tag, suite_tag = self._open_root(element, stack)
                elif element.tag == suite_tag:
                    stack.append(self._frame(element, stack[-1], named=True))
                continue
            depth -= 1
            if element.tag != case_tag:
                self._end_other(element, stack)
                continue
            get = element.get
            name = get("name") or ""
            class_name = get("classname") or get("class") or ""
            if len(name) > max_name or len(class_name) > max_name:
                raise self._too_long(element)
            frame = stack[-1]
            if class_name != frame.class_name:
                frame.class_name, frame.hasher = class_name, id_hasher(frame.suite, class_name)
            hasher = frame.hasher.copy()
            if name.isascii() and name.isprintable() and " " not in name and not name.endswith("()"):
                hasher.update(name.encode())
            else:
                hasher.update(normalise_name(name).encode())
            tid = hasher.hexdigest()
            case_ms = duration_ms(get("time"))
            file = get("file") or frame.file
            status = get("status")
            seen = frame.seen
            if len(element) or tid in seen or (status and status.lower() in SKIP_STATUSES):
                batch = self._attempts(element, frame, tid, class_name, name, case_ms, file, counts)
                records += len(batch)
                duration += sum(record.duration_ms for record in batch)
                yield from batch
                element.clear()
            else:
                attempt = frame.attempt
                seen[tid] = attempt << 5 | 1
                passed += 1
                duration += case_ms
                yield build(
                    tid, frame.suite, class_name, name, _PASSED, case_ms, None, None, attempt, file, frame.context
                )
            swept += 1
            if swept == _SWEEP:
                swept = 0
                _drop_before(element)
        counts[_PASSED] += passed
        summary = self._summary
        summary.cases = sum(counts.values())
        summary.records, summary.duration_ms = records + passed, duration
        summary.passed, summary.failed, summary.errors = counts[_PASSED], counts[_FAILED], counts[_ERROR]
        summary.skipped, summary.flaky = counts[_SKIPPED], counts[_FLAKY]

    def _open_root(self, element: etree._Element, stack: list[_Frame]) -> tuple[str, str]:
        """Check the root and learn the document's namespace; the tag names to look for come back."""
        tag = element.tag
        namespace = tag[: tag.index("}") + 1] if tag[:1] == "{" else ""
        local = tag[len(namespace) :]
        if local not in JUNIT_ROOTS:
            raise wrong_root(str(self.path), tag, _line(element))
        self._tags = frozenset(namespace + name for name in ("testsuite", "testsuites"))
        self._suite_tag = namespace + "testsuite"
        self._side_tags = frozenset(namespace + name for name in ("properties", "system-out", "system-err"))
        self._props_tag = namespace + "properties"
        self._playwright = local == "testsuites" and element.get("id") is not None
        stack.append(self._frame(element, None, named=local == "testsuite"))
        return namespace + "testcase", self._suite_tag

    def _end_other(self, element: etree._Element, stack: list[_Frame]) -> None:
        """The end of anything but a test case: close suites, read suite properties, drop suite output."""
        tag = element.tag
        if tag in self._tags:
            stack.pop()
            if tag == self._suite_tag:
                self._summary.suites += 1
            element.clear()
            _drop_before(element)
        elif tag in self._side_tags:
            parent = element.getparent()
            # Inside a test case these are read at the case's end; at suite level they are done with now.
            if parent is not None and parent.tag in self._tags:
                if tag == self._props_tag:
                    self._apply_properties(element, stack[-1])
                element.clear()

    def _attempts(
        self,
        element: etree._Element,
        frame: _Frame,
        tid: str,
        class_name: str,
        name: str,
        case_ms: int,
        file: str | None,
        counts: dict[TestOutcome, int],
    ) -> list[TestResult]:
        """The slow path: a case with children, a skip written as a status, or a repeat of an earlier case."""
        limits = self._limits
        if len(element):
            attempts = case_attempts(element, case_ms, limits.max_message_chars, limits.max_output_chars)
        else:
            status = (element.get("status") or "").lower()
            outcome = _SKIPPED if status in SKIP_STATUSES else _PASSED
            attempts = [Attempt(outcome, case_ms, None, None, None, None, None)]
        previous = frame.seen.get(tid)
        if previous is None:
            number, failed, passed = frame.attempt, False, False
        else:
            number = (previous >> 5) + 1
            failed, passed = bool(previous & 2), bool(previous & 1)
            counts[_CODES[previous >> 2 & 7]] -= 1
        batch: list[TestResult] = []
        for attempt in attempts:
            outcome = attempt.outcome
            if outcome is _FAILED or outcome is _ERROR:
                failed = True
            elif outcome is _PASSED:
                outcome = _FLAKY if failed else _PASSED
                passed = True
            record = build(
                tid,
                frame.suite,
                class_name,
                name,
                outcome,
                attempt.duration_ms,
                attempt.message,
                attempt.failure_type,
                number,
                file,
                frame.context,
            )
            batch.append(record)
            if self._on_detail is not None and (attempt.text or attempt.stdout or attempt.stderr):
                detail = CaseDetail(
                    test_id=tid, attempt=number, text=attempt.text, stdout=attempt.stdout, stderr=attempt.stderr
                )
                self._on_detail(detail)
            number += 1
        final = batch[-1].outcome
        if final in (_FAILED, _ERROR) and passed:
            final = _FLAKY
        counts[final] += 1
        frame.seen[tid] = (number - 1) << 5 | _INDEX[final] << 2 | failed << 1 | passed
        return batch

    def _frame(self, element: etree._Element, parent: _Frame | None, *, named: bool) -> _Frame:
        name = (element.get("name") or "").strip() if named else ""
        if len(name) > self._limits.max_name_chars:
            raise self._too_long(element)
        own_file = element.get("file")
        if self._playwright and named:
            own_file = own_file or name or None
            project = (element.get("hostname") or "").strip()
            name = f"{name} [{project}]" if project and name else name
        if parent is None:
            ctx = self._context
            started = ctx.started_ms if ctx.started_ms is not None else _epoch_ms(element.get("timestamp"))
            context: Context = (
                ctx.execution_id,
                ctx.pipeline_id,
                ctx.stage_id,
                ctx.step_id,
                ctx.commit_sha,
                ctx.branch,
                ctx.pr_number,
                started,
            )
            root = _Frame(name, own_file, context, 1, {})
            root.collection = not named
            return root
        context = parent.context
        if self._context.started_ms is None and (started := _epoch_ms(element.get("timestamp"))) is not None:
            context = (*context[:7], started)
        if named and name == "Root Suite" and own_file:
            parent.carry_file = own_file
        # Repeats are looked for within a top-level suite, so memory is bounded by the largest suite.
        seen = {} if parent.collection else parent.seen
        file = own_file or parent.file or parent.carry_file
        return _Frame(name or parent.suite, file, context, parent.attempt, seen)

    def _apply_properties(self, element: etree._Element, frame: _Frame) -> None:
        ctx = self._context
        commit, branch = frame.context[4], frame.context[5]
        for prop in element:
            key = (prop.get("name") or "").strip().lower()
            value = (prop.get("value") or prop.text or "").strip()
            if not value or len(value) > 256:
                continue
            if key in _COMMIT_KEYS and ctx.commit_sha is None:
                commit = value
            elif key in _BRANCH_KEYS and ctx.branch is None:
                branch = value
            elif key in _ATTEMPT_KEYS or key in _RETRY_KEYS:
                try:
                    number = int(value) + (1 if key in _RETRY_KEYS else 0)
                except ValueError:
                    continue
                frame.attempt = min(max(number, 1), _MAX_ATTEMPT)
        context = frame.context
        frame.context = (context[0], context[1], context[2], context[3], commit, branch, context[6], context[7])

    def _too_large(self, size: int) -> JUnitError:
        limit = self._limits.max_file_bytes
        return JUnitError(
            self.path,
            f"the file is {size / 2**20:.1f} MiB or more, over the {limit / 2**20:.0f} MiB limit",
            hint="Split the report, or raise JUnitLimits.max_file_bytes if the file is genuine",
        )

    def _too_deep(self, element: etree._Element) -> JUnitError:
        return JUnitError(
            self.path,
            f"elements are nested more than {self._limits.max_depth} deep",
            line=_line(element),
            hint="JUnit reports nest a few levels; this file is broken or hostile. Leave it out",
        )

    def _too_long(self, element: etree._Element) -> JUnitError:
        return JUnitError(
            self.path,
            f"a test or suite name is longer than {self._limits.max_name_chars} characters",
            line=_line(element),
            hint="This is not a test name; the file is broken or hostile. Leave it out",
        )

    def _syntax(self, error: etree.XMLSyntaxError) -> JUnitError:
        message, line = (error.msg or str(error)).strip(), error.lineno or None
        if line is None:
            # lxml says "no element found" at line 0 when libxml2 stopped before the root; its log has the cause.
            last = error.error_log.last_error  # type: ignore[attr-defined]  # missing from lxml-stubs
            if last is not None and last.line:
                message, line = last.message.strip(), last.line
        return syntax_error(str(self.path), message, line, truncated=_ends_early(self.path))
