"""`harness-connector flaky`, `approve` and `quarantine`: the report over a store of hand-made results, the
proposal-approval-export workflow ending in a real pytest run that reads the export, lifting by hand and
automatically, and the audit trail."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from harness_connector.cli import app
from harness_connector.domain.history import ExecutionFact, TestOutcome, TestResult
from harness_connector.domain.quarantine import QuarantineAuditEntry, QuarantineProposal, QuarantineStatus
from harness_connector.junit import test_id
from harness_connector.services.ingest import JUnitContext, ingest_junit
from harness_connector.services.quarantine import decide
from harness_connector.store import Store, open_store
from tests.store.records import execution, result

runner = CliRunner()

HOUR = 3_600_000
DAY = 24 * HOUR
FLAKY_ID = "t-flaky"
CLASS_NAME, NAME = "test_mod.TestThing", "test_always_fails"  # what pytest's --junitxml writes for test_mod.py
TEST_FILE = "test_mod.py"
STEADY = ("t-steady-1", "t-steady-2", "t-steady-3")
PROPOSED = re.compile(r"proposed quarantine (q-[0-9a-f]+)")


def _context(fact: ExecutionFact) -> dict[str, Any]:
    # A sync copies its execution's context onto each result; flaky detection pairs results by their own commit.
    return {
        "pipeline_id": fact.pipeline_id,
        "commit_sha": fact.commit_sha,
        "branch": fact.branch,
        "started_ms": fact.started_ms,
    }


def _flaky_result(fact: ExecutionFact, outcome: TestOutcome) -> TestResult:
    message = "AssertionError: assert 2 == 3" if outcome is TestOutcome.FAILED else None
    return result(
        FLAKY_ID,
        fact.execution_id,
        outcome,
        suite="pytest",
        class_name=CLASS_NAME,
        name=NAME,
        duration_ms=200,
        message=message,
        file=TEST_FILE,
        **_context(fact),
    )


def _build_store(path: Path, now_ms: int) -> None:
    """30 executions on main over ten days, three per commit; the flaky test fails the first execution of every
    commit and passes the other two: same-commit evidence ten times, and ten executions it alone failed."""
    store = open_store(path)
    facts, results = [], []
    for index in range(30):
        started, fails = now_ms - 10 * DAY + index * 4 * HOUR, index % 3 == 0
        fact = execution(
            f"exec-{index:02d}",
            status="Failed" if fails else "Success",
            commit_sha=f"c{index // 3}",
            started_ms=started,
            ended_ms=started + 10 * 60_000,
        )
        facts.append(fact)
        results.append(_flaky_result(fact, TestOutcome.FAILED if fails else TestOutcome.PASSED))
        results += [
            result(test_id, fact.execution_id, TestOutcome.PASSED, duration_ms=50, **_context(fact))
            for test_id in STEADY
        ]
    with store.transaction():
        store.add_test_results(results)
        store.upsert_executions(facts)
    store.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "history.duckdb"
    _build_store(path, int(time.time() * 1000))
    return path


@pytest.fixture
def env(db: Path, tmp_path: Path) -> dict[str, str]:
    # No key and no prepared sandbox: the wall clock judges the window. Wide enough that table rows do not wrap.
    return {
        "HARNESS_DB": str(db),
        "HARNESS_API_KEY": "",
        "HARNESS_SANDBOX_DB": str(tmp_path / "no-sandbox.sqlite"),
        "COLUMNS": "220",
        "USER": "tester",
    }


def _run(env: dict[str, str], *args: str) -> Result:
    return runner.invoke(app, list(args), env=env)


def _propose_and_approve(env: dict[str, str], *, by: str = "alice") -> str:
    proposed = _run(env, "flaky", "--propose")
    assert proposed.exit_code == 0, proposed.output
    found = PROPOSED.search(proposed.stdout)
    assert found is not None, proposed.stdout
    approved = _run(env, "approve", found.group(1), "--by", by, "--note", "flakes on every third build")
    assert approved.exit_code == 0, approved.output
    return found.group(1)


def test_the_report_is_a_table_by_impact_with_a_summary(env: dict[str, str]) -> None:
    shown = _run(env, "flaky")
    assert shown.exit_code == 0, shown.output
    out = shown.stdout
    row = next(line for line in out.splitlines() if f"{CLASS_NAME}.{NAME}" in line)
    for cell in ("flaky", "quarantine", "30", "10"):
        assert cell in row
    assert re.search(r"\d+\.\d% \(\d+\.\d%-\d+\.\d%\)", row)
    assert "4 tests analysed: 1 flaky, 0 slow and flaky, 0 broken; 0 executions ignored as outages." in out
    assert "Impact of flaky tests: 10 failed executions, 0 reruns" in out
    assert "100.0 CI minutes lost" in out


def test_the_json_report_carries_the_verdict_numbers_and_iso_times(env: dict[str, str]) -> None:
    shown = _run(env, "flaky", "--json", "--window", "14")
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.stdout)
    assert (report["tests"], report["flaky"], report["broken"]) == (4, 1, 0)
    (verdict,) = report["verdicts"]
    assert (verdict["test_id"], verdict["class_name"], verdict["name"]) == (FLAKY_ID, CLASS_NAME, NAME)
    assert (verdict["classification"], verdict["recommendation"]) == ("flaky", "quarantine")
    assert (verdict["runs"], verdict["failures"], verdict["same_commit_commits"]) == (30, 10, 10)
    assert verdict["ci_low"] < verdict["score"] < verdict["ci_high"]
    assert verdict["impact"]["failed_executions"] == 10
    assert verdict["first_flaky"].endswith("Z") and verdict["first_flaky_ms"] > report["since_ms"]
    assert report["until"].endswith("Z")
    assert report["lifted_quarantines"] == [] and "proposed_quarantines" not in report


def test_a_missing_store_says_to_sync_first(env: dict[str, str], tmp_path: Path) -> None:
    for args in (["flaky"], ["approve", "q-1"], ["quarantine", "list"]):
        missing = _run(env, *args, "--db", str(tmp_path / "none.duckdb"))
        assert missing.exit_code == 2
        assert "run harness-connector sync first" in missing.output
    assert not (tmp_path / "none.duckdb").exists()


def test_an_approved_proposal_exported_for_pytest_turns_a_real_failure_into_xfail(
    env: dict[str, str], db: Path, tmp_path: Path
) -> None:
    proposed = _run(env, "flaky", "--propose", "--db", str(db))
    assert proposed.exit_code == 0, proposed.output
    found = PROPOSED.search(proposed.stdout)
    assert found is not None, proposed.stdout
    proposal_id = found.group(1)
    assert f"harness-connector approve {proposal_id} --db {db}" in proposed.stdout
    again = _run(env, "flaky", "--propose", "--json")
    assert json.loads(again.stdout)["proposed_quarantines"] == []  # one open proposal per test
    nothing_yet = _run(env, "quarantine", "export", "--format", "junit")
    assert nothing_yet.exit_code == 0 and nothing_yet.stdout == ""  # only approved proposals are exported

    approved = _run(env, "approve", proposal_id, "--by", "alice")
    assert approved.exit_code == 0, approved.output
    assert f"{proposal_id} approved by alice" in approved.stdout
    junit = _run(env, "quarantine", "export", "--format", "junit")
    assert junit.stdout == f"{CLASS_NAME}#{NAME}\n"

    project = _test_project(tmp_path / "project")
    plugin = project / "quarantine_plugin.py"
    exported = _run(env, "quarantine", "export", "--format", "pytest", "--output", str(plugin))
    assert exported.exit_code == 0, exported.output
    assert "wrote 1 quarantined test(s)" in exported.output
    assert [p.name for p in project.iterdir() if p.name.endswith(".tmp")] == []

    without = _pytest(project, "--junitxml=report.xml")
    assert without.returncode == 1, without.stdout
    assert "1 failed, 1 passed" in without.stdout
    # The proposal names the test as pytest's own JUnit report does, which is what the plugin matches on.
    case = next(c for c in ET.parse(project / "report.xml").iter("testcase") if c.get("name") == NAME)
    assert case.get("classname") == CLASS_NAME

    quarantined = _pytest(project, "-p", "quarantine_plugin", "-rx")
    assert quarantined.returncode == 0, quarantined.stdout
    assert "1 passed, 1 xfailed" in quarantined.stdout
    assert f"harness-connector quarantine {proposal_id}: " in quarantined.stdout


def _test_project(root: Path) -> Path:
    root.mkdir()
    (root / "pytest.ini").write_text("[pytest]\n")  # keeps this repository's pytest settings out
    (root / "test_mod.py").write_text(
        "class TestThing:\n"
        "    def test_always_fails(self):\n"
        "        assert 1 + 1 == 3\n"
        "\n"
        "    def test_passes(self):\n"
        "        assert 1 + 1 == 2\n"
    )
    return root


def _pytest(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "PYTHONPATH"))}
    clean |= {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "test_mod.py"]
    return subprocess.run(command, cwd=project, env=clean, capture_output=True, text=True, timeout=60, check=False)


def test_approving_an_unknown_or_decided_proposal_is_refused_with_the_reason(env: dict[str, str]) -> None:
    unknown = _run(env, "approve", "q-0000000000")
    assert unknown.exit_code == 2
    assert "no quarantine proposal q-0000000000" in unknown.output
    proposal_id = _propose_and_approve(env)
    twice = _run(env, "approve", proposal_id, "--reject")
    assert twice.exit_code == 2
    assert f"{proposal_id} is approved; only a proposed proposal can be rejected" in twice.output
    not_active = _run(env, "quarantine", "lift", "q-0000000000")
    assert not_active.exit_code == 2 and "no quarantine proposal" in not_active.output


def test_a_rejected_proposal_is_never_exported(env: dict[str, str]) -> None:
    proposed = _run(env, "flaky", "--propose", "--json")
    (proposal,) = json.loads(proposed.stdout)["proposed_quarantines"]
    assert proposal["status"] == "proposed" and proposal["evidence"]["failed_executions"] == 10
    rejected = _run(env, "approve", proposal["proposal_id"], "--reject", "--note", "we fix it this week")
    assert rejected.exit_code == 0, rejected.output
    assert "rejected by tester@" in rejected.stdout  # $USER@hostname when --by is not given
    assert json.loads(_run(env, "quarantine", "export", "--format", "json").stdout) == {"quarantined": []}


def test_lifting_by_hand_and_the_audit_trail_say_who_when_and_what(env: dict[str, str]) -> None:
    proposal_id = _propose_and_approve(env)
    lifted = _run(env, "quarantine", "lift", proposal_id, "--by", "bob", "--note", "fixed in #123")
    assert lifted.exit_code == 0, lifted.output
    assert f"{proposal_id} lifted" in lifted.stdout and "fixed in #123" in lifted.stdout
    assert _run(env, "quarantine", "export", "--format", "junit").stdout == ""

    trail = json.loads(_run(env, "quarantine", "audit", proposal_id, "--json").stdout)
    assert [(e["action"], e["actor"]) for e in trail] == [
        ("proposed", "harness-connector (flaky detection)"),
        ("approved", "alice"),
        ("lifted", "bob"),
    ]
    assert trail[1]["detail"] == "flakes on every third build"
    assert all(e["at"].endswith("Z") and e["at_ms"] > 0 for e in trail)
    table = _run(env, "quarantine", "audit").stdout
    for text in (
        "quarantine audit trail",
        "alice",
        "bob",
        "approved",
        "lifted",
        "fixed in #123",
        f"{CLASS_NAME}.{NAME}",
    ):
        assert text in table

    listed = json.loads(_run(env, "quarantine", "list", "--status", "lifted", "--json").stdout)
    assert [(p["proposal_id"], p["decided_by"], p["lift_reason"]) for p in listed] == [
        (proposal_id, "alice", "fixed in #123")
    ]
    assert json.loads(_run(env, "quarantine", "list", "--status", "approved", "--json").stdout) == []
    shown = _run(env, "quarantine", "show", proposal_id)
    assert shown.exit_code == 0, shown.output
    for text in ("(lifted)", "alice at", "10 failed executions", "same-commit flakes", "bob", "quarantine audit trail"):
        assert text in shown.stdout


def test_a_second_report_lifts_the_quarantine_after_twenty_passing_first_attempts(
    env: dict[str, str], db: Path
) -> None:
    proposal_id = _propose_and_approve(env)
    store = open_store(db)
    approval = store.quarantine(proposal_id)
    assert approval is not None and approval.decided_ms is not None
    _passes_after(store, approval.decided_ms, count=19)
    store.close()
    assert "lifted quarantine" not in _run(env, "flaky").stdout  # 19 in a row are not enough

    store = open_store(db)
    _passes_after(store, approval.decided_ms + 19_000, count=1)
    store.close()
    shown = _run(env, "flaky")
    assert shown.exit_code == 0, shown.output
    assert f"lifted quarantine {proposal_id} ({CLASS_NAME}.{NAME})" in shown.stdout
    store = open_store(db)
    lifted = store.quarantine(proposal_id)
    trail = store.quarantine_audit(proposal_id)
    store.close()
    assert lifted is not None and lifted.status is QuarantineStatus.LIFTED
    assert trail[-1].actor == "harness-connector (auto-lift)"
    assert _run(env, "quarantine", "export", "--format", "junit").stdout == ""


def _passes_after(store: Store, start_ms: int, *, count: int) -> None:
    """`count` executions after `start_ms`, one second apart, in which the quarantined test passed."""
    facts = [
        execution(
            f"after-{start_ms + index}",
            commit_sha=f"fix-{index}",
            started_ms=start_ms + (index + 1) * 1000,
            ended_ms=start_ms + (index + 1) * 1000 + 60_000,
        )
        for index in range(count)
    ]
    with store.transaction():
        store.add_test_results(_flaky_result(fact, TestOutcome.PASSED) for fact in facts)
        store.upsert_executions(facts)


SOMETIMES = "test_sometimes_fails"


def _quarantined_project(root: Path) -> Path:
    """A suite whose test `SOMETIMES` fails when FLIP=fail, as a flaky test fails on some runs and not others."""
    root.mkdir()
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "test_mod.py").write_text(
        "import os\n"
        "\n"
        "\n"
        "class TestThing:\n"
        f"    def {SOMETIMES}(self):\n"
        "        assert os.environ.get('FLIP') != 'fail'\n"
        "\n"
        "    def test_passes(self):\n"
        "        assert 1 + 1 == 2\n"
    )
    return root


def _approved_quarantine(db: Path, approved_ms: int) -> str:
    """A store holding one approved quarantine of `SOMETIMES`, under the id pytest's JUnit report gives it."""
    store = open_store(db)
    try:
        proposal = QuarantineProposal(
            proposal_id="q-00c0ffee00",
            test_id=test_id("pytest", CLASS_NAME, SOMETIMES),
            suite="pytest",
            class_name=CLASS_NAME,
            name=SOMETIMES,
            file=TEST_FILE,
            status=QuarantineStatus.PROPOSED,
            reason="flaky: failed and passed on the same commit",
            evidence="{}",
            proposed_ms=approved_ms - HOUR,
        )
        store.save_quarantine(
            proposal,
            QuarantineAuditEntry(
                proposal_id=proposal.proposal_id, at_ms=proposal.proposed_ms, actor="t", action="proposed"
            ),
        )
        decide(store, proposal.proposal_id, "approve", actor="alice", now_ms=approved_ms)
    finally:
        store.close()
    return proposal.proposal_id


def test_a_quarantined_test_failing_under_the_exported_plugin_is_counted_and_not_lifted(tmp_path: Path) -> None:
    db = tmp_path / "history.duckdb"
    approved_ms = int(time.time() * 1000) - 3 * DAY
    proposal_id = _approved_quarantine(db, approved_ms)
    env = {"HARNESS_DB": str(db), "HARNESS_API_KEY": "", "HARNESS_SANDBOX_DB": str(tmp_path / "none.sqlite")}
    project = _quarantined_project(tmp_path / "project")
    exported = _run(
        env, "quarantine", "export", "--format", "pytest", "--output", str(project / "quarantine_plugin.py")
    )
    assert exported.exit_code == 0, exported.output

    # Two real runs under the plugin: the quarantined test fails in one and passes in the other, and neither run
    # fails. The report of the first says how pytest writes the quarantined failure.
    reports = {}
    for flip in ("fail", "pass"):
        ran = _pytest(project, "-p", "quarantine_plugin", f"--junitxml={flip}.xml", env={"FLIP": flip})
        assert ran.returncode == 0, ran.stdout
        reports[flip] = (project / f"{flip}.xml").read_text(encoding="utf-8")
    [skipped] = list(ET.fromstring(reports["fail"]).iter("skipped"))
    assert skipped.get("type") == "pytest.xfail"
    assert (skipped.get("message") or "").startswith(f"harness-connector quarantine {proposal_id}: ")
    assert "<skipped" not in reports["pass"]  # an xpass is written as a plain pass

    # 40 CI runs since the approval, an hour apart, two per commit: it fails in one of each pair. They go in through
    # the service `ingest junit` calls, with the store opened once (a command per run costs seconds).
    store = open_store(db)
    try:
        for run in range(40):
            flip = "fail" if run % 2 == 0 else "pass"
            at = datetime.fromtimestamp((approved_ms + (run + 1) * HOUR) / 1000, UTC).isoformat()
            report = tmp_path / f"run-{run:02d}.xml"
            report.write_text(re.sub(r'timestamp="[^"]*"', f'timestamp="{at}"', reports[flip], count=1))
            context = JUnitContext(execution_id=f"run-{run:02d}", commit_sha=f"c{run // 2}", branch="main")
            assert ingest_junit(store, [str(report)], context).errors == []
    finally:
        store.close()

    shown = _run(env, "flaky", "--json")
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    assert document["lifted_quarantines"] == []
    [verdict] = [v for v in document["verdicts"] if v["name"] == SOMETIMES]
    assert (verdict["runs"], verdict["failures"], verdict["classification"]) == (40, 20, "flaky")
    store = open_store(db)
    try:
        still = store.quarantine(proposal_id)
    finally:
        store.close()
    assert still is not None and still.status is QuarantineStatus.APPROVED


def test_codeowners_rules_match_the_stored_test_file_and_proposals_carry_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    # Neither the suite ("pytest") nor the class name read as a path (test_mod/TestThing) is the file: only the
    # stored `file` of the results matches the rule.
    codeowners = tmp_path / "CODEOWNERS"
    codeowners.write_text("* @acme/everyone\n/test_mod.py @acme/billing\n")
    shown = _run(env, "flaky", "--propose", "--json", "--codeowners", str(codeowners))
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    [verdict] = [v for v in document["verdicts"] if v["test_id"] == FLAKY_ID]
    assert verdict["impact"]["owners"] == ["@acme/billing"]
    [proposal] = document["proposed_quarantines"]
    assert proposal["file"] == TEST_FILE
    assert proposal["evidence"]["owners"] == ["@acme/billing"]
    assert _run(env, "approve", proposal["proposal_id"], "--by", "alice").exit_code == 0
    exported = json.loads(_run(env, "quarantine", "export", "--format", "json").stdout)["quarantined"]
    assert [row["file"] for row in exported] == [TEST_FILE]
