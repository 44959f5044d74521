"""`harness-connector ingest`: JUnit reports and telemetry events into the history store, whole or not at all."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from typer.testing import CliRunner

from harness_connector.cli import app
from harness_connector.store import TestResultFilter, open_store

runner = CliRunner()

PYTEST_XML = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3" failures="1" errors="0" skipped="1" time="0.5">
<testcase classname="tests.test_api" name="test_ok" time="0.1"/>
<testcase classname="tests.test_api" name="test_bad" time="0.2">
<failure message="assert 1 == 2">trace</failure></testcase>
<testcase classname="tests.test_api" name="test_later" time="0.0"><skipped message="todo"/></testcase>
</testsuite></testsuites>
"""


def test_ingest_junit_stores_each_file_and_prints_a_summary(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "a.xml").write_text(PYTEST_XML)
    db = tmp_path / "h.duckdb"
    result = runner.invoke(
        app, ["ingest", "junit", str(reports), "--db", str(db), "--commit", "abc", "--branch", "main", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)["files"][0]
    assert (summary["cases"], summary["passed"], summary["failed"], summary["skipped"]) == (3, 1, 1, 1)
    again = runner.invoke(app, ["ingest", "junit", str(reports / "a.xml"), "--db", str(db), "--execution", "e1"])
    assert again.exit_code == 0
    store = open_store(db)
    try:
        assert store.counts()["test_results"] == 6
    finally:
        store.close()


def test_a_hostile_or_broken_file_is_named_and_nothing_of_it_is_stored(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        "<testsuite><testcase classname='a' name='&lol2;'/></testsuite>"
    )
    truncated = tmp_path / "cut.xml"
    truncated.write_text(PYTEST_XML[: len(PYTEST_XML) // 2])
    db = tmp_path / "h.duckdb"
    result = runner.invoke(app, ["ingest", "junit", str(bomb), str(truncated), "--db", str(db), "--execution", "e"])
    assert result.exit_code == 1
    assert "bomb.xml" in result.stderr
    assert "cut.xml" in result.stderr
    store = open_store(db)
    try:
        assert store.counts()["test_results"] == 0
    finally:
        store.close()


def test_ingest_events_loads_json_lines_and_refuses_a_bad_line_whole(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(
        '{"time": "2026-11-20T10:00:00Z", "source": "proxy", "kind": "network_error", "host": "registry.npmjs.org",'
        ' "message": "503"}\n{"time": 1795000000000, "source": "pager", "kind": "alert", "service": "api"}\n'
    )
    db = tmp_path / "h.duckdb"
    ok = runner.invoke(app, ["ingest", "events", str(events), "--db", str(db)])
    assert ok.exit_code == 0, ok.stderr
    assert "2 events read, 2 new" in ok.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"time": "2026-11-20T10:00:00Z", "kind": "alert"}\nnot json\n')
    refused = runner.invoke(app, ["ingest", "events", str(bad), "--db", str(db)])
    assert refused.exit_code == 2
    assert "bad.jsonl:2" in refused.stderr
    store = open_store(db)
    try:
        assert store.counts()["telemetry"] == 2
    finally:
        store.close()


SUREFIRE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.acme.CartTest" tests="2" failures="1" errors="0" skipped="0" time="0.7">
<testcase name="totals" classname="com.acme.CartTest" time="0.5"><failure message="expected 90" type="AssertionError">
trace</failure></testcase>
<testcase name="empty" classname="com.acme.CartTest" time="0.2"/>
</testsuite>
"""
HOUR_S = 3600


def _flaky_env(tmp_path: Path) -> dict[str, str]:
    # No key and no prepared sandbox: the wall clock judges the flaky window.
    return {"HARNESS_API_KEY": "", "HARNESS_SANDBOX_DB": str(tmp_path / "no-sandbox.sqlite"), "COLUMNS": "200"}


def _run_times(db: Path) -> list[int | None]:
    store = open_store(db)
    try:
        page = store.test_results(TestResultFilter(), size=100)
    finally:
        store.close()
    return sorted({row.run_ms for row in page.items}, key=lambda ms: ms or 0)


def test_a_report_without_a_timestamp_is_dated_by_its_file_and_reaches_the_flaky_report(tmp_path: Path) -> None:
    report = tmp_path / "TEST-com.acme.CartTest.xml"
    report.write_text(SUREFIRE_XML)
    written = int(time.time()) - 5 * HOUR_S
    os.utime(report, (written, written))
    db = tmp_path / "h.duckdb"
    ingested = runner.invoke(app, ["ingest", "junit", str(report), "--db", str(db), "--execution", "e1"])
    assert ingested.exit_code == 0, ingested.output
    assert _run_times(db) == [written * 1000]
    flaky = runner.invoke(app, ["flaky", "--db", str(db), "--json"], env=_flaky_env(tmp_path))
    assert flaky.exit_code == 0, flaky.output
    assert json.loads(flaky.stdout)["tests"] == 2


def test_the_time_option_dates_undated_reports_and_a_bad_time_is_refused(tmp_path: Path) -> None:
    report = tmp_path / "TEST-com.acme.CartTest.xml"
    report.write_text(SUREFIRE_XML)
    db = tmp_path / "h.duckdb"
    given = ["ingest", "junit", str(report), "--db", str(db), "--execution", "e1", "--time", "2026-11-20T10:00:00Z"]
    assert runner.invoke(app, given).exit_code == 0
    assert _run_times(db) == [1795168800000]
    dated = tmp_path / "pytest.xml"
    dated.write_text(
        PYTEST_XML.replace('<testsuite name="pytest"', '<testsuite name="pytest" timestamp="2026-11-21T10:00:00Z"')
    )
    own = runner.invoke(
        app, ["ingest", "junit", str(dated), "--db", str(db), "--execution", "e2", "--time", "2026-11-20T10:00:00"]
    )
    assert own.exit_code == 0, own.output
    assert _run_times(db) == [1795168800000, 1795255200000]  # the report's own timestamp wins over --time
    bad = runner.invoke(app, ["ingest", "junit", str(report), "--db", str(db), "--time", "yesterday"])
    assert bad.exit_code == 2
    assert "--time" in bad.output and "ISO 8601" in bad.output


def test_the_help_says_how_undated_reports_are_dated() -> None:
    shown = runner.invoke(app, ["ingest", "junit", "--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0
    assert "--time" in shown.stdout and "mtime" in shown.stdout and "no suite timestamp" in shown.stdout
