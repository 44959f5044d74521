"""A run's JUnit files: finding the ones it produced, counting them, and merging them into one report.

Reports are read with the connector's JUnit reader, which refuses hostile or broken files (entity bombs,
external DTDs, truncation, absurd sizes) with a reason; a refused file is left out of the counts and of the
merged report, and its reason goes into the run's message. Only files the reader accepted are parsed again to be
merged, with the same locked-down parser options, one file at a time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from harness_connector.delegate.files import write_atomically
from harness_connector.delegate.test_agent.store import Summary
from harness_connector.domain.history import TestOutcome, TestResult
from harness_connector.junit import JUnitContext, JUnitError, find_report_files, parse_file

__all__ = ["RunReport", "find_run_reports", "read_reports", "write_merged_junit", "write_report_json"]

# Files whose modification time is this much older than the run's start still count as the run's own: file
# systems keep coarse times, and the run's first write can land in the same tick as its start.
_MTIME_SLACK_S = 1.0


@dataclass(slots=True)
class RunReport:
    """What a run's reports say: counts, one row per test attempt, the files used and the files refused."""

    summary: Summary = field(default_factory=Summary)
    duration_ms: int = 0
    cases: list[dict[str, Any]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    file_names: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def find_run_reports(
    *, reports_dir: Path, workdir: Path, patterns: Sequence[str], since: float, executions_root: Path
) -> list[Path]:
    """The JUnit files of one run: all of its TEST_REPORTS_DIR, and the profile's globs under its workdir that
    were written since the run started (other runs' directories under `executions_root` excluded)."""
    own = set(find_report_files([reports_dir]).files) if reports_dir.is_dir() else set()
    others = executions_root.resolve()
    for path in find_report_files(patterns, base=workdir).files:
        if path.is_relative_to(others):
            continue
        try:
            if path.stat().st_mtime >= since - _MTIME_SLACK_S:
                own.add(path)
        except OSError:
            continue
    return sorted(own)


def read_reports(files: Iterable[Path], *, execution_id: str, relative_to: Sequence[Path] = ()) -> RunReport:
    """Count the tests of every readable file; a refused file is named with the reader's reason."""
    report = RunReport()
    context = JUnitContext(execution_id=execution_id)
    summary = report.summary
    for path in files:
        try:
            parsed = parse_file(path, context)
        except JUnitError as exc:
            where = f"{_display(path, relative_to)}:{exc.line}" if exc.line else _display(path, relative_to)
            report.refused.append(f"{where}: {exc.problem}")
            continue
        counts = parsed.summary
        summary.tests += counts.cases
        summary.passed += counts.passed + counts.flaky
        summary.failed += counts.failed
        summary.errors += counts.errors
        summary.skipped += counts.skipped
        report.duration_ms += counts.duration_ms
        report.files.append(path)
        report.file_names.append(_display(path, relative_to))
        report.cases.extend(_case(result) for result in parsed.results)
    return report


def _case(result: TestResult) -> dict[str, Any]:
    status = "passed" if result.outcome is TestOutcome.FLAKY else result.outcome.value
    return {
        "suite": result.suite,
        "classname": result.class_name,
        "name": result.name,
        "status": status,
        "attempt": result.attempt,
        "durationMs": result.duration_ms,
        "message": result.message,
        "failureType": result.failure_type,
        "file": result.file,
    }


def _display(path: Path, bases: Sequence[Path]) -> str:
    for base in bases:
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return path.name


def write_merged_junit(report: RunReport, out: Path, *, name: str) -> None:
    """One `<testsuites>` holding every `<testsuite>` of the run's accepted files, with the run's totals."""
    summary = report.summary
    attributes = {
        "name": name,
        "tests": str(summary.tests),
        "failures": str(summary.failed),
        "errors": str(summary.errors),
        "skipped": str(summary.skipped),
        "time": f"{report.duration_ms / 1000:.3f}",
    }
    temporary = out.with_name(f".{out.name}.merging")
    try:
        with etree.xmlfile(str(temporary), encoding="utf-8") as xml:
            xml.write_declaration()
            with xml.element("testsuites", attributes):
                for path in report.files:
                    for suite in _suites(etree.parse(str(path), _parser()).getroot()):
                        xml.write(suite)
        os.replace(temporary, out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _parser() -> etree.XMLParser:
    # The JUnit reader's own options (`junit.safety.PARSER_OPTIONS`): nothing fetched, expanded or defaulted.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _suites(element: etree._Element) -> Iterable[etree._Element]:
    local = etree.QName(element).localname
    if local == "testsuite":
        yield element
    elif local == "testsuites":
        for child in element:
            if isinstance(child.tag, str):
                yield from _suites(child)


def write_report_json(report: RunReport, out: Path) -> None:
    """Keep the per-test rows and the file lists beside the status, for the report endpoint."""
    document = {
        "testcases": report.cases,
        "reportFiles": report.file_names,
        "refusedReports": report.refused,
    }
    write_atomically(out, json.dumps(document).encode())
