"""The streaming reader: one JUnit/xUnit file in, `TestResult`s out, in bounded memory.

`lxml.etree.iterparse` walks the file with start and end events; each `<testcase>` becomes its records at its end
event, and finished elements are deleted as the walk goes, so memory holds the open elements and a few hundred
finished test cases, whatever the file's size. Which suite, file, commit and attempt a case belongs to is decided
in `suites.py`; what a case with children means (failures, Surefire reruns) in `cases.py`.

Repeats: a test case that appears again in the same top-level suite (gotestsum `--rerun-fails`, Gradle's test
retry without `mergeReruns`) is another attempt of the same test: its attempt numbers continue, and a pass after
a failure is FLAKY. The summary counts each test once, by its final outcome; a test that both passed and failed
counts as flaky.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from lxml import etree

from harness_connector.domain.history import TestOutcome, TestResult
from harness_connector.errors import UsageError
from harness_connector.junit.cases import SKIP_STATUSES, Attempt, case_attempts, duration_ms
from harness_connector.junit.ids import id_hasher, normalise_name
from harness_connector.junit.model import CaseDetail, FileSummary, JUnitContext, JUnitError, JUnitLimits
from harness_connector.junit.records import build
from harness_connector.junit.safety import (
    JUNIT_ROOTS,
    FileTooLarge,
    LimitedReader,
    check_prolog,
    syntax_error,
    wrong_root,
    xml_events,
)
from harness_connector.junit.suites import Frame, apply_properties, child_frame, collection_frame, root_frame

__all__ = ["JUnitStream"]

_CHUNK = 64 * 1024
# Finished test cases are deleted, and their records handed over, in batches of this many cases.
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


def _line(element: etree._Element) -> int | None:
    line: object = element.sourceline
    return line if isinstance(line, int) else None


def _size(count: int) -> str:
    return f"{count / 2**20:,.1f} MiB" if count >= 2**20 else f"{count:,} bytes"


def _drop_before(element: etree._Element) -> None:
    """Delete the finished siblings before `element`, which is how memory stays bounded."""
    parent = element.getparent()
    if parent is not None:
        del parent[: parent.index(element)]


def _with_file_time(context: JUnitContext, mtime_s: float) -> JUnitContext:
    """The context with the file's modification time as its fallback start, when the caller asked for that."""
    if not context.file_time_fallback or context.fallback_started_ms is not None:
        return context
    return replace(context, fallback_started_ms=int(mtime_s * 1000))


def _ends_early(path: Path) -> bool:
    """Whether the file stops before a closing root tag: the sign of a report cut off while being written."""
    try:
        with path.open("rb") as raw:
            raw.seek(max(0, path.stat().st_size - 512))
            tail = raw.read().replace(b"\x00", b"").rstrip()
    except OSError:
        return False
    return not tail.endswith((b"testsuites>", b"testsuite>", b"/>"))


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
        return itertools.chain.from_iterable(self.batches())

    def batches(self) -> Iterator[list[TestResult]]:
        """The records in lists of a few hundred, in file order: cheaper than one by one at a million records."""
        if self._started:
            raise UsageError(f"{self.path}: a JUnitStream can be iterated once; call iter_results again")
        self._started = True
        return self._run()

    def _run(self) -> Iterator[list[TestResult]]:
        where, limits = str(self.path), self._limits
        try:
            stat = self.path.stat()
            raw = self.path.open("rb")
        except FileNotFoundError:
            raise JUnitError(where, "no such file", hint="Check the path or glob") from None
        except IsADirectoryError:
            raise JUnitError(where, "this is a directory", hint="Expand it with find_report_files first") from None
        except OSError as error:
            raise JUnitError(where, f"cannot read the file ({error.strerror})", hint="Check its permissions") from None
        size = stat.st_size
        self._context = _with_file_time(self._context, stat.st_mtime)
        with raw:
            if size > limits.max_file_bytes:
                raise self._too_large(size)
            if size == 0:
                hint = "The test run probably stopped before writing its report; re-run it or leave this file out"
                raise JUnitError(where, "the file is empty", hint=hint)
            check_prolog(where, raw, limits.max_prolog_bytes)
            etree.clear_error_log()
            reader = LimitedReader(raw, limits.max_file_bytes)
            events = xml_events(reader, chunk_size=_CHUNK)
            try:
                yield from self._walk(events)
            except FileTooLarge:
                raise self._too_large(reader.count) from None
            except etree.XMLSyntaxError as error:
                raise self._syntax(error) from None
        self._done = True

    def _walk(self, events: Iterator[tuple[str, etree._Element]]) -> Iterator[list[TestResult]]:
        # The per-case path is written out here, not in helpers: at a million cases every call shows.
        max_depth, max_name = self._limits.max_depth, self._limits.max_name_chars
        counts = dict.fromkeys(_CODES, 0)
        passed = records = duration = swept = depth = 0
        out: list[TestResult] = []
        stack: list[Frame] = []
        case_tag, suite_tags = "", frozenset[str]()
        for event, element in events:
            if event == "start":
                depth += 1
                if depth > max_depth:
                    raise self._too_deep(element)
                if depth == 1:
                    case_tag, suite_tags = self._open_root(element, stack)
                elif element.tag in suite_tags:
                    self._push_suite(element, stack)
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
            else:
                class_name = frame.class_name  # one string object for all the class's records, not one each
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
                out.extend(batch)
                element.clear()
            else:
                attempt = frame.attempt
                seen[tid] = attempt << 5 | 1
                passed += 1
                duration += case_ms
                out.append(
                    build(
                        tid, frame.suite, class_name, name, _PASSED, case_ms, None, None, attempt, file, frame.context
                    )
                )
            swept += 1
            if swept == _SWEEP:
                swept = 0
                _drop_before(element)
                yield out
                out = []
        yield out  # possibly empty: cheaper to hand over than to test
        counts[_PASSED] += passed
        summary = self._summary
        summary.cases = sum(counts.values())
        summary.records, summary.duration_ms = records + passed, duration
        summary.passed, summary.failed, summary.errors = counts[_PASSED], counts[_FAILED], counts[_ERROR]
        summary.skipped, summary.flaky = counts[_SKIPPED], counts[_FLAKY]

    def _open_root(self, element: etree._Element, stack: list[Frame]) -> tuple[str, frozenset[str]]:
        """Check the root and learn the document's namespace; the tag names to look for come back."""
        tag = element.tag
        namespace = tag[: tag.index("}") + 1] if tag[:1] == "{" else ""
        local = tag[len(namespace) :]
        if local not in JUNIT_ROOTS:
            if any(root.startswith(local) for root in JUNIT_ROOTS) and _ends_early(self.path):
                # libxml2 names the element before it finds the file cut in the middle of its name.
                raise syntax_error(str(self.path), "the file ends inside the root tag", _line(element), truncated=True)
            raise wrong_root(str(self.path), tag, _line(element))
        self._tags = frozenset(namespace + name for name in ("testsuite", "testsuites"))
        self._suite_tag = namespace + "testsuite"
        self._side_tags = frozenset(namespace + name for name in ("properties", "system-out", "system-err"))
        self._props_tag = namespace + "properties"
        self._playwright = local == "testsuites" and element.get("id") is not None
        stack.append(root_frame(element, self._context, self._playwright, named=local == "testsuite"))
        if len(stack[-1].suite) > self._limits.max_name_chars:
            raise self._too_long(element)
        return namespace + "testcase", self._tags

    def _push_suite(self, element: etree._Element, stack: list[Frame]) -> None:
        if element.tag != self._suite_tag:  # a <testsuites> inside another, as merged reports have
            stack.append(collection_frame(stack[-1]))
            return
        frame = child_frame(element, stack[-1], self._context, self._playwright)
        if len(frame.suite) > self._limits.max_name_chars:
            raise self._too_long(element)
        stack.append(frame)

    def _end_other(self, element: etree._Element, stack: list[Frame]) -> None:
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
                    apply_properties(element, stack[-1], self._context)
                element.clear()

    def _attempts(
        self,
        element: etree._Element,
        frame: Frame,
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
            attempts, decisive = case_attempts(element, case_ms, limits.max_message_chars, limits.max_output_chars)
        else:
            status = (element.get("status") or "").lower()
            outcome = _SKIPPED if status in SKIP_STATUSES else _PASSED
            attempts, decisive = [Attempt(outcome, case_ms, None, None, None, None, None)], 0
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
        final = batch[decisive].outcome
        if final in (_FAILED, _ERROR) and passed:
            final = _FLAKY
        counts[final] += 1
        frame.seen[tid] = (number - 1) << 5 | _INDEX[final] << 2 | failed << 1 | passed
        return batch

    def _too_large(self, size: int) -> JUnitError:
        return JUnitError(
            self.path,
            f"the file is {_size(size)} or more, over the limit of {_size(self._limits.max_file_bytes)}",
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
