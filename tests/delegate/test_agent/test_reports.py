"""A run's JUnit files: which count as the run's, what they add up to, and the one merged report served."""

from __future__ import annotations

import os
import time
from pathlib import Path

from lxml import etree

from harness_connector.delegate.test_agent.reports import find_run_reports, read_reports, write_merged_junit
from harness_connector.delegate.test_agent.store import Summary
from tests.delegate.test_agent.agent_process import BILLION_LAUGHS

PYTEST_REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3" failures="1" errors="0" skipped="1" time="0.5">
  <testcase classname="tests.test_cart" name="test_add" time="0.1"/>
  <testcase classname="tests.test_cart" name="test_remove" time="0.2"><failure message="assert 1 == 0">trace</failure>
  </testcase>
  <testcase classname="tests.test_cart" name="test_later" time="0"><skipped message="not yet"/></testcase>
</testsuite></testsuites>
"""

SUREFIRE_REPORT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.shop.PaymentTest" tests="2" failures="0" errors="1" time="1.2">
  <testcase classname="com.shop.PaymentTest" name="paysByCard" time="0.7"/>
  <testcase classname="com.shop.PaymentTest" name="paysByVoucher" time="0.5">
    <error type="java.lang.NullPointerException" message="voucher is null">at com.shop...</error>
  </testcase>
</testsuite>
"""


def test_the_counts_add_up_over_files_and_the_merge_keeps_every_suite(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text(PYTEST_REPORT, encoding="utf-8")
    (tmp_path / "b.xml").write_text(SUREFIRE_REPORT, encoding="utf-8")

    report = read_reports([tmp_path / "a.xml", tmp_path / "b.xml"], execution_id="e-1", relative_to=[tmp_path])
    write_merged_junit(report, tmp_path / "merged.xml", name="unit")

    merged = etree.parse(str(tmp_path / "merged.xml")).getroot()
    assert report.summary == Summary(tests=5, passed=2, failed=1, errors=1, skipped=1)
    assert report.file_names == ["a.xml", "b.xml"]
    assert report.refused == []
    assert [(case["name"], case["status"]) for case in report.cases] == [
        ("test_add", "passed"),
        ("test_remove", "failed"),
        ("test_later", "skipped"),
        ("paysByCard", "passed"),
        ("paysByVoucher", "error"),
    ]
    assert merged.tag == "testsuites"
    assert dict(merged.attrib) == {
        "name": "unit",
        "tests": "5",
        "failures": "1",
        "errors": "1",
        "skipped": "1",
        "time": "1.500",
    }
    assert [suite.get("name") for suite in merged] == ["pytest", "com.shop.PaymentTest"]
    error = merged.find(".//error")
    assert error is not None and error.get("type") == "java.lang.NullPointerException"


def test_hostile_and_truncated_files_are_refused_with_a_reason_and_left_out(tmp_path: Path) -> None:
    (tmp_path / "good.xml").write_text(SUREFIRE_REPORT, encoding="utf-8")
    (tmp_path / "evil.xml").write_text(BILLION_LAUGHS, encoding="utf-8")
    (tmp_path / "cut.xml").write_text(PYTEST_REPORT[:300], encoding="utf-8")
    files = [tmp_path / name for name in ("cut.xml", "evil.xml", "good.xml")]

    report = read_reports(files, execution_id="e-1", relative_to=[tmp_path])
    write_merged_junit(report, tmp_path / "merged.xml", name="unit")

    merged = etree.parse(str(tmp_path / "merged.xml")).getroot()
    assert report.summary.tests == 2
    assert len(report.refused) == 2
    assert report.refused[0].startswith("cut.xml:") and "truncated" in report.refused[0]
    assert report.refused[1].startswith("evil.xml:2: refused before parsing") and "billion laughs" in report.refused[1]
    assert [suite.get("name") for suite in merged] == ["com.shop.PaymentTest"]


def test_a_run_owns_its_reports_dir_and_only_the_files_it_wrote_elsewhere(tmp_path: Path) -> None:
    workdir, executions = tmp_path / "repo", tmp_path / "repo" / ".agent" / "executions"
    own_dir = executions / "this-run" / "reports"
    for folder in (workdir / "build", own_dir, executions / "other-run" / "reports"):
        folder.mkdir(parents=True)
    started = time.time()
    stale = workdir / "build" / "TEST-old.xml"
    for path in (stale, workdir / "build" / "TEST-new.xml", own_dir / "junit.xml"):
        path.write_text(SUREFIRE_REPORT, encoding="utf-8")
    (executions / "other-run" / "reports" / "junit.xml").write_text(SUREFIRE_REPORT, encoding="utf-8")
    (workdir / "pom.xml").write_text("<project/>", encoding="utf-8")
    os.utime(stale, (started - 3600, started - 3600))
    os.utime(own_dir / "junit.xml", (started - 3600, started - 3600))  # in its own directory, age does not matter

    found = find_run_reports(
        reports_dir=own_dir, workdir=workdir, patterns=["**/*.xml"], since=started, executions_root=executions
    )

    assert found == sorted([(workdir / "build" / "TEST-new.xml").resolve(), (own_dir / "junit.xml").resolve()])
