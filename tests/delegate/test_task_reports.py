"""A step's JUnit files turned into ti-service test-case rows, and what happens to files that cannot be read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness_connector.delegate.protocol import TaskPayload
from harness_connector.delegate.task_reports import collect_reports, report_query
from tests.delegate.manager_double import task_payload

PYTEST_XML = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4" failures="1" errors="1" skipped="1" time="0.5">
  <testcase classname="tests.test_cart" name="test_total" file="tests/test_cart.py" time="0.012">
    <system-out>computed 42</system-out>
  </testcase>
  <testcase classname="tests.test_cart" name="test_discount" file="tests/test_cart.py" time="0.250">
    <failure message="assert 9 == 10" type="AssertionError">def test_discount():
&gt;       assert 9 == 10</failure>
  </testcase>
  <testcase classname="tests.test_cart" name="test_db" file="tests/test_cart.py" time="0.001">
    <error message="fixture 'db' not found" type="LookupError">trace</error>
  </testcase>
  <testcase classname="tests.test_cart" name="test_later" file="tests/test_cart.py" time="0">
    <skipped message="not yet" type="pytest.skip">skipped</skipped>
  </testcase>
</testsuite></testsuites>
"""

SUREFIRE_FLAKY_XML = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.acme.PaymentTest" tests="1" failures="0" errors="0" skipped="0" time="2.0">
  <testcase name="charges" classname="com.acme.PaymentTest" time="1.5">
    <flakyFailure message="timeout" type="java.net.SocketTimeoutException">stack</flakyFailure>
  </testcase>
</testsuite>
"""


def payload(report_paths: list[str]) -> TaskPayload:
    return TaskPayload.model_validate(task_payload("t1", "true", reportPaths=report_paths))


def collect(workspace: Path, report_paths: list[str]) -> tuple[list[dict[str, Any]], int, list[str]]:
    warnings: list[str] = []
    collected = collect_reports(payload(report_paths), workspace, warnings.append)
    return collected.rows, collected.files, warnings


def test_pytest_cases_become_rows_with_ti_service_statuses_and_texts(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "junit.xml").write_text(PYTEST_XML, encoding="utf-8")

    rows, files, warnings = collect(tmp_path, ["reports/*.xml"])

    assert (files, warnings) == (1, [])
    by_name = {row["name"]: row for row in rows}
    assert [row["name"] for row in rows] == ["test_total", "test_discount", "test_db", "test_later"]
    assert by_name["test_total"] == {
        "name": "test_total",
        "class_name": "tests.test_cart",
        "suite_name": "pytest",
        "file_name": "tests/test_cart.py",
        "result": {"status": "passed", "message": "", "type": "", "desc": ""},
        "duration_ms": 12,
        "stdout": "computed 42",
        "stderr": "",
    }
    assert by_name["test_discount"]["result"] == {
        "status": "failed",
        "message": "assert 9 == 10",
        "type": "AssertionError",
        "desc": "def test_discount():\n>       assert 9 == 10",
    }
    assert by_name["test_discount"]["duration_ms"] == 250
    assert by_name["test_db"]["result"]["status"] == "error"
    assert by_name["test_later"]["result"] == {"status": "skipped", "message": "not yet", "type": "", "desc": ""}


def test_a_flaky_surefire_test_is_one_passed_row(tmp_path: Path) -> None:
    (tmp_path / "TEST-PaymentTest.xml").write_text(SUREFIRE_FLAKY_XML, encoding="utf-8")

    rows, files, _ = collect(tmp_path, ["TEST-*.xml"])

    assert files == 1
    assert [(row["name"], row["result"]["status"]) for row in rows] == [("charges", "passed")]


def test_a_bad_report_is_a_warning_and_the_good_ones_are_still_read(tmp_path: Path) -> None:
    (tmp_path / "good.xml").write_text(PYTEST_XML, encoding="utf-8")
    (tmp_path / "broken.xml").write_text("<testsuite><testcase name='x'>", encoding="utf-8")
    (tmp_path / "bomb.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        '<testsuite name="s"><testcase name="&b;"/></testsuite>',
        encoding="utf-8",
    )

    rows, files, warnings = collect(tmp_path, ["*.xml"])

    assert files == 1 and len(rows) == 4
    assert len(warnings) == 2
    assert any(w.startswith("test reports: broken.xml cannot be read") for w in warnings)
    assert any(w.startswith("test reports: bomb.xml cannot be read") for w in warnings)


def test_a_pattern_that_matches_nothing_is_a_warning(tmp_path: Path) -> None:
    rows, files, warnings = collect(tmp_path, ["target/surefire-reports/*.xml"])

    assert (rows, files) == ([], 0)
    assert warnings == ["test reports: no file matches 'target/surefire-reports/*.xml'"]


def test_a_report_outside_the_workspace_is_not_read(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (tmp_path / "secret.xml").write_text(PYTEST_XML, encoding="utf-8")
    (tmp_path / "other.xml").write_text(PYTEST_XML, encoding="utf-8")
    (workspace / "link.xml").symlink_to(tmp_path / "other.xml")

    rows, files, warnings = collect(workspace, ["../secret.xml", "link.xml"])

    assert (rows, files) == ([], 0)
    assert len(warnings) == 2 and all("outside the step's workspace" in w for w in warnings)


def test_no_report_paths_reads_nothing(tmp_path: Path) -> None:
    assert collect(tmp_path, []) == ([], 0, [])


def test_the_report_query_names_the_build_by_its_run_sequence() -> None:
    assert report_query(payload([])) == {
        "orgId": "default",
        "projectId": "payments",
        "pipelineId": "build",
        "buildId": "7",
        "stageId": "test",
        "stepId": "step_t1",
    }
