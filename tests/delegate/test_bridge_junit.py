"""JUnit the bridge writes itself: rows found in report JSON of either dialect, and downloads it will not trust."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from harness_connector.delegate.bridge_junit import Case, extract_cases, junit_document, looks_like_junit, run_case
from tests.delegate.test_agent.agent_process import BILLION_LAUGHS


def test_our_agents_report_rows_become_cases_with_their_durations_and_messages() -> None:
    report = {
        "status": "Completed",
        "summary": {"tests": 2},
        "testcases": [
            {"classname": "test_cart", "name": "test_add", "status": "passed", "durationMs": 120, "message": None},
            {"classname": "test_cart", "name": "test_rm", "status": "failed", "durationMs": 5, "message": "1 != 0"},
        ],
    }

    assert extract_cases(report) == [
        Case(classname="test_cart", name="test_add", outcome="passed", seconds=0.12),
        Case(classname="test_cart", name="test_rm", outcome="failed", seconds=0.005, message="1 != 0"),
    ]


@pytest.mark.parametrize(
    "report",
    [{"testcases": []}, {"overallstatus": "Pass"}, [], {"rows": [{"name": "no status here"}]}, "text"],
    ids=["empty-testcases", "summary-only", "empty-list", "rows-without-status", "not-json-object"],
)
def test_a_report_without_per_test_rows_gives_no_cases(report: Any) -> None:
    assert extract_cases(report) == []


def test_the_document_counts_each_outcome_and_a_whole_run_case_carries_the_servers_message() -> None:
    cases = [
        Case(classname="web", name="login", outcome="passed", seconds=1.0),
        Case(classname="web", name="search", outcome="skipped"),
        run_case(key="web", execution_id="e-1", overall="Aborted", message="stopped by a user"),
    ]

    root = etree.fromstring(junit_document(cases, suite_name="web"))

    suite = root[0]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "3",
        "0",
        "1",
        "1",
    )
    assert [child.tag for case in suite for child in case] == ["skipped", "error"]
    assert suite[2].get("name") == "whole run"
    assert suite[2][0].text == "stopped by a user (execution e-1)"


@pytest.mark.parametrize(
    ("data", "trusted"),
    [
        (b"<testsuites><testsuite name='a'/></testsuites>", True),
        (b"<?xml version='1.0'?><testsuite name='a' tests='0'/>", True),
        (BILLION_LAUGHS.encode(), False),
        (b"<!doctype html><html><body>Avo Assure</body></html>", False),
        (b"<html><body/></html>", False),
        (b"<testsuites><testsuite", False),
    ],
    ids=["testsuites", "testsuite", "billion-laughs", "html-page", "xhtml", "truncated"],
)
def test_only_a_plain_junit_download_is_written_as_is(data: bytes, trusted: bool) -> None:
    assert looks_like_junit(data) is trusted
