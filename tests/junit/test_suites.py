"""What a suite gives its cases: name, file, commit, branch, start time and attempt number."""

from __future__ import annotations

import os
from pathlib import Path

from harness_connector.domain.history import TestOutcome
from harness_connector.junit import JUnitContext, ParsedFile, parse_file

CONTEXT = JUnitContext(execution_id="exec-1")


def parse_text(tmp_path: Path, text: str, context: JUnitContext = CONTEXT) -> ParsedFile:
    report = tmp_path / "report.xml"
    report.write_text(text, encoding="utf-8")
    return parse_file(report, context)


def test_a_retry_property_numbers_the_attempts_of_a_re_run_step(tmp_path: Path) -> None:
    parsed = parse_text(
        tmp_path,
        '<testsuite name="s"><properties><property name="retry" value="1"/><property name="branch" value="feat/x"/>'
        '</properties><testcase classname="c" name="t"><flakyFailure message="m"/></testcase></testsuite>',
    )
    assert [(r.attempt, r.outcome, r.branch) for r in parsed.results] == [
        (2, TestOutcome.FAILED, "feat/x"),
        (3, TestOutcome.FLAKY, "feat/x"),
    ]


def test_a_suite_timestamp_without_a_zone_is_utc_and_the_callers_start_wins(tmp_path: Path) -> None:
    text = '<testsuite name="s" timestamp="2024-05-01T10:00:00"><testcase classname="c" name="t"/></testsuite>'
    [from_file] = parse_text(tmp_path, text).results
    assert from_file.started_ms == 1714557600000
    [given] = parse_text(tmp_path, text, JUnitContext(execution_id="e", started_ms=5)).results
    assert given.started_ms == 5


def test_a_default_namespace_on_the_report_does_not_hide_its_cases(tmp_path: Path) -> None:
    parsed = parse_text(
        tmp_path,
        '<testsuites xmlns="urn:example:junit"><testsuite name="s"><testcase classname="c" name="t">'
        '<skipped message="later"/></testcase></testsuite></testsuites>',
    )
    assert [(r.suite, r.outcome, r.message) for r in parsed.results] == [("s", TestOutcome.SKIPPED, "later")]


def test_cases_directly_under_testsuites_have_an_empty_suite(tmp_path: Path) -> None:
    parsed = parse_text(tmp_path, '<testsuites name="jest tests"><testcase classname="c" name="t"/></testsuites>')
    assert [(r.suite, r.class_name) for r in parsed.results] == [("", "c")]
    assert parsed.summary.suites == 0


def test_the_same_test_in_two_top_level_suites_is_not_a_rerun(tmp_path: Path) -> None:
    parsed = parse_text(
        tmp_path,
        '<testsuites><testsuite name="a"><testcase classname="c" name="t"><failure/></testcase></testsuite>'
        '<testsuite name="b"><testcase classname="c" name="t"/></testsuite></testsuites>',
    )
    assert [(r.suite, r.attempt, r.outcome) for r in parsed.results] == [
        ("a", 1, TestOutcome.FAILED),
        ("b", 1, TestOutcome.PASSED),
    ]


def test_a_test_that_failed_after_passing_in_the_same_suite_counts_as_flaky(tmp_path: Path) -> None:
    parsed = parse_text(
        tmp_path,
        '<testsuite name="s"><testcase classname="c" name="t"/>'
        '<testcase classname="c" name="t"><failure message="second run"/></testcase></testsuite>',
    )
    assert [(r.attempt, r.outcome) for r in parsed.results] == [(1, TestOutcome.PASSED), (2, TestOutcome.FAILED)]
    assert (parsed.summary.cases, parsed.summary.flaky, parsed.summary.passed) == (1, 1, 0)


def test_merged_reports_with_nested_testsuites_keep_every_suite(tmp_path: Path) -> None:
    parsed = parse_text(
        tmp_path,
        "<testsuites><testsuites>"
        '<testsuite name="a"><testcase classname="c" name="t"/></testsuite>'
        "</testsuites><testsuites>"
        '<testsuite name="b"><testcase classname="c" name="t"><failure/></testcase></testsuite>'
        "</testsuites></testsuites>",
    )
    assert [(r.suite, r.attempt, r.outcome) for r in parsed.results] == [
        ("a", 1, TestOutcome.PASSED),
        ("b", 1, TestOutcome.FAILED),
    ]
    assert parsed.summary.suites == 2


def test_a_report_without_a_timestamp_takes_the_callers_fallback_time_and_its_own_timestamp_wins(
    tmp_path: Path,
) -> None:
    undated = '<testsuite name="com.acme.CartTest"><testcase classname="com.acme.CartTest" name="t"/></testsuite>'
    [plain] = parse_text(tmp_path, undated).results
    assert plain.started_ms is None  # without a fallback the result has no time, as before
    [fallback] = parse_text(tmp_path, undated, JUnitContext(execution_id="e", fallback_started_ms=7)).results
    assert fallback.started_ms == 7
    dated = '<testsuite name="s" timestamp="2024-05-01T10:00:00"><testcase classname="c" name="t"/></testsuite>'
    [own] = parse_text(tmp_path, dated, JUnitContext(execution_id="e", fallback_started_ms=7)).results
    assert own.started_ms == 1714557600000
    nested = (
        '<testsuites><testsuite name="a"><testcase classname="c" name="t"/></testsuite>'
        '<testsuite name="b" timestamp="2024-05-01T10:00:00Z"><testcase classname="c" name="t"/></testsuite>'
        "</testsuites>"
    )
    times = [
        r.started_ms
        for r in parse_text(tmp_path, nested, JUnitContext(execution_id="e", fallback_started_ms=7)).results
    ]
    assert times == [7, 1714557600000]


def test_the_file_time_dates_an_undated_report_when_the_caller_asks_for_it(tmp_path: Path) -> None:
    report = tmp_path / "TEST-com.acme.CartTest.xml"
    report.write_text(
        '<testsuite name="com.acme.CartTest"><testcase classname="com.acme.CartTest" name="t"/></testsuite>'
    )
    os.utime(report, (1714557600, 1714557600.25))
    [result] = parse_file(report, JUnitContext(execution_id="e", file_time_fallback=True)).results
    assert result.started_ms == 1714557600250
    given = JUnitContext(execution_id="e", file_time_fallback=True, fallback_started_ms=9)
    assert [r.started_ms for r in parse_file(report, given).results] == [9]
