"""Files, directories and globs expand to the sorted, de-duplicated JUnit files they name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness_connector.junit import ReportPaths, find_report_files, is_junit_file

DATA = Path(__file__).parent / "data"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A build workspace as a Maven + Node monorepo leaves it."""
    surefire = tmp_path / "service" / "target" / "surefire-reports"
    failsafe = tmp_path / "service" / "target" / "failsafe-reports"
    web = tmp_path / "web" / "reports"
    for folder in (surefire, failsafe, web, tmp_path / ".git" / "refs"):
        folder.mkdir(parents=True)
    shutil.copy(DATA / "surefire.xml", surefire / "TEST-com.example.shop.OrderServiceTest.xml")
    (surefire / "com.example.shop.OrderServiceTest.txt").write_text("Tests run: 7, Failures: 2\n")
    shutil.copy(DATA / "failsafe.xml", failsafe / "TEST-com.example.shop.it.CheckoutIT.xml")
    (failsafe / "failsafe-summary.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<failsafe-summary result="255" timeout="false"><completed>4'
        "</completed></failsafe-summary>\n"
    )
    shutil.copy(DATA / "jest.xml", web / "junit.XML")
    shutil.copy(DATA / "truncated.xml", web / "broken.xml")
    (tmp_path / "service" / "pom.xml").write_text(
        '<?xml version="1.0"?>\n<project><modelVersion>4.0.0</modelVersion></project>'
    )
    (tmp_path / ".git" / "refs" / "junit.xml").write_text("<testsuites/>")
    return tmp_path


def names(found: ReportPaths, root: Path) -> list[str]:
    return [str(path.relative_to(root)) for path in found.files]


def test_a_directory_expands_to_its_junit_files_recursively_skipping_other_xml(workspace: Path) -> None:
    found = find_report_files([workspace])
    assert names(found, workspace) == [
        "service/target/failsafe-reports/TEST-com.example.shop.it.CheckoutIT.xml",
        "service/target/surefire-reports/TEST-com.example.shop.OrderServiceTest.xml",
        "web/reports/broken.xml",  # kept: the parser will say it is truncated
        "web/reports/junit.XML",
    ]
    assert [str(p.relative_to(workspace)) for p in found.skipped] == [
        "service/pom.xml",
        "service/target/failsafe-reports/failsafe-summary.xml",
    ]
    assert found.unmatched == ()


def test_globs_are_relative_to_the_base_and_keep_only_xml_files(workspace: Path) -> None:
    found = find_report_files(["**/surefire-reports/*", "web/**/*.xml"], base=workspace)
    assert names(found, workspace) == [
        "service/target/surefire-reports/TEST-com.example.shop.OrderServiceTest.xml",
        "web/reports/broken.xml",
    ]


def test_the_same_file_named_several_ways_is_listed_once(workspace: Path) -> None:
    report = workspace / "web" / "reports" / "junit.XML"
    found = find_report_files([report, "web/reports", "web/../web/reports/junit.XML", "**/junit.XML"], base=workspace)
    assert names(found, workspace) == ["web/reports/broken.xml", "web/reports/junit.XML"]


def test_a_file_named_explicitly_is_kept_even_if_it_is_not_junit(workspace: Path) -> None:
    found = find_report_files(["service/pom.xml", "service/target/surefire-reports/x.txt"], base=workspace)
    assert names(found, workspace) == ["service/pom.xml"]
    assert found.unmatched == ("service/target/surefire-reports/x.txt",)


def test_patterns_that_match_no_xml_are_reported_as_unmatched(workspace: Path) -> None:
    found = find_report_files(["missing/*.xml", "service/target/surefire-reports/*.txt", "empty"], base=workspace)
    assert found == ReportPaths(files=(), unmatched=("missing/*.xml", "service/target/surefire-reports/*.txt", "empty"))


def test_sniffing_knows_junit_roots_and_leaves_doubtful_files_to_the_parser(tmp_path: Path) -> None:
    cases = {
        "suites.xml": '<?xml version="1.0"?>\n<!-- generated --><testsuites/>',
        "suite.xml": "\ufeff<testsuite name='x'/>",
        "prefixed.xml": '<j:testsuites xmlns:j="urn:x"/>',
        "html.xml": "<!DOCTYPE html><html></html>",
        "empty.xml": "",
        "garbage.xml": "not xml at all",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    verdicts = {name: is_junit_file(tmp_path / name) for name in cases}
    assert verdicts == {
        "suites.xml": True,
        "suite.xml": True,
        "prefixed.xml": True,
        "html.xml": False,
        "empty.xml": True,
        "garbage.xml": True,
    }
