"""`harness-connector ingest`: JUnit reports and telemetry events into the history store, whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from harness_connector.cli import app
from harness_connector.store import open_store

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
