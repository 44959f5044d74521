"""Flaky tests and their quarantine through a real MCP client: the flaky_test and quarantine types, harness_diagnose
on a test, the flaky summary in harness_status, and quarantine decisions that only a person can make."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import mcp.types as types
import pytest
from mcp import Client
from mcp.server import MCPServer

from harness_connector.domain.history import ExecutionFact, TestOutcome, TestResult
from harness_connector.harness.registry import Risk
from harness_connector.mcp_server import build_server
from harness_connector.services.connection import Connection
from harness_connector.store import Store, open_store
from tests.mcp_server.server_fixture import ServerUnderTest
from tests.mcp_server.test_crud_tools import accept, decline, payload
from tests.store.records import execution, result

pytestmark = pytest.mark.anyio

P, F = TestOutcome.PASSED, TestOutcome.FAILED
HOUR = 3_600_000
DAY = 24 * HOUR
CLIENT = types.Implementation(name="triage-bot", version="1.0")
FLAKY, SLOW, BROKEN = "api_retry", "upload_slow", "db_migrate"


def _first_attempts(n: int) -> dict[str, TestOutcome]:
    """Execution n's first attempts: FLAKY fails one run in four, SLOW one in ten, BROKEN every run from n=50."""
    return {
        FLAKY: F if n % 4 == 0 else P,
        SLOW: F if n % 10 == 5 else P,
        BROKEN: F if n >= 50 else P,
        **{f"steady{k}": P for k in range(5)},
    }


def _results(execution_id: str, commit: str, at: int, outcomes: dict[str, TestOutcome]) -> list[TestResult]:
    return [
        result(
            test,
            execution_id,
            outcome,
            commit_sha=commit,
            branch="main",
            pipeline_id="build",
            started_ms=at,
            duration_ms=45_000 if test == SLOW else 1_000,
            message="AssertionError: expected 3 items, got 2" if outcome is F else None,
        )
        for test, outcome in outcomes.items()
    ]


def fill_history(store: Store, now: int) -> None:
    """60 runs of `build` on main over five days, one commit each, ending a day before `now`.

    FLAKY's failures fail their execution and a rerun on the same commit passes (so it costs failed executions
    and reruns: quarantine); SLOW fails then passes on retry inside the run at 45 s a run (move to scheduled);
    BROKEN fails every run since commit c50 (fix now).
    """
    executions: list[ExecutionFact] = []
    results: list[TestResult] = []
    start = now - 6 * DAY
    for n in range(60):
        at, commit, run_id = start + n * 2 * HOUR, f"c{n}", f"e{n:03d}"
        outcomes = _first_attempts(n)
        failed = outcomes[FLAKY] is F or outcomes[BROKEN] is F
        status = "Failed" if failed else "Success"
        executions.append(execution(run_id, commit_sha=commit, started_ms=at, ended_ms=at + 600_000, status=status))
        results.extend(_results(run_id, commit, at, outcomes))
        if outcomes[SLOW] is F:
            results.append(
                result(SLOW, run_id, P, attempt=2, commit_sha=commit, branch="main", pipeline_id="build",
                       started_ms=at + 1, duration_ms=45_000)
            )  # fmt: skip
        if outcomes[FLAKY] is F:
            rerun_at, rerun_id = at + HOUR // 2, f"r{n:03d}"
            again = {**outcomes, FLAKY: P, SLOW: P}
            executions.append(
                execution(rerun_id, commit_sha=commit, started_ms=rerun_at, ended_ms=rerun_at + 600_000,
                          status="Failed" if again[BROKEN] is F else "Success", retry_of=run_id, is_rerun=True)
            )  # fmt: skip
            results.extend(_results(rerun_id, commit, rerun_at, again))
    store.upsert_executions(executions)
    store.add_test_results(results)


@pytest.fixture
def store(sut: ServerUnderTest) -> Iterator[Store]:
    opened = open_store(":memory:")
    fill_history(opened, sut.now[0])
    yield opened
    opened.close()


def with_store(sut: ServerUnderTest, store: Store) -> MCPServer[Any]:
    """The server under test with the history store open on its connection (the test keeps ownership of it)."""
    base = sut.open_connection

    @asynccontextmanager
    async def connection() -> AsyncIterator[Connection]:
        async with base() as conn:
            conn.store = store
            try:
                yield conn
            finally:
                conn.store = None  # closing the connection must not close the test's store

    return build_server(connection, now_ms=lambda: sut.now[0])


def ids(listed: dict[str, Any]) -> list[str]:
    return [item["test_id"] for item in listed["items"]]


async def call(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    return payload(await client.call_tool(tool, args))


async def error_of(client: Client, tool: str, args: dict[str, Any]) -> str:
    answer = await client.call_tool(tool, args)
    assert answer.is_error, answer.structured_content
    text = answer.content[0]
    assert isinstance(text, types.TextContent)
    return text.text


async def propose(client: Client) -> str:
    proposed = await call(client, "harness_execute", {"resource_type": "quarantine", "action": "propose"})
    [proposal] = proposed["result"]["proposals"]
    return str(proposal["proposal_id"])


class Asked:
    """An elicitation callback that records each question and answers yes or no."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.questions: list[str] = []

    async def __call__(self, context: Any, params: Any) -> types.ElicitResult:
        self.questions.append(params.message)
        return await (accept if self.answer else decline)(context, params)


async def test_flaky_tests_are_listed_with_their_numbers_most_costly_first(sut: ServerUnderTest, store: Store) -> None:
    async with Client(with_store(sut, store)) as client:
        by_impact = await call(client, "harness_list", {"resource_type": "flaky_test"})
        by_score = await call(client, "harness_list", {"resource_type": "flaky_test", "filters": {"sort": "score"}})
        broken = await call(
            client, "harness_list", {"resource_type": "flaky_test", "filters": {"classification": "broken"}}
        )
        second_page = await call(client, "harness_list", {"resource_type": "flaky_test", "page": 1, "size": 1})
        other_pipeline = await call(
            client, "harness_list", {"resource_type": "flaky_test", "params": {"pipeline_id": "deploy"}}
        )
    assert ids(by_impact) == [FLAKY, SLOW, BROKEN]
    assert ids(by_score) == [FLAKY, BROKEN, SLOW]
    assert ids(broken) == [BROKEN]
    assert ids(second_page) == [SLOW]
    assert (second_page["total"], second_page["has_more"]) == (3, True)
    assert other_pipeline["items"] == []
    flaky = by_impact["items"][0]
    assert flaky["classification"] == "flaky"
    assert (flaky["runs"], flaky["failures"], flaky["same_commit_commits"]) == (60, 15, 15)
    assert (flaky["failed_executions"], flaky["reruns"]) == (13, 13)
    assert flaky["interval"][0] < flaky["score"] < flaky["interval"][1]
    assert flaky["recommendation"] == "quarantine"
    assert flaky["window_days"] == 14
    assert flaky["pipelines"] == ["build"]
    assert "clearly flaky and costly" in flaky["reason"]
    assert by_impact["items"][1]["classification"] == "slow_and_flaky"
    assert by_impact["items"][1]["recommendation"] == "move_to_scheduled"


async def test_bad_filters_and_missing_things_say_what_to_do_next(sut: ServerUnderTest, store: Store) -> None:
    async with Client(with_store(sut, store), elicitation_callback=accept) as client:
        wrong_class = await error_of(
            client, "harness_list", {"resource_type": "flaky_test", "filters": {"classification": "sometimes"}}
        )
        wrong_sort = await error_of(client, "harness_list", {"resource_type": "flaky_test", "filters": {"sort": "age"}})
        wrong_window = await error_of(
            client, "harness_list", {"resource_type": "flaky_test", "filters": {"window_days": "two weeks"}}
        )
        wrong_status = await error_of(
            client, "harness_list", {"resource_type": "quarantine", "filters": {"status": "pending"}}
        )
        unknown_get = await error_of(client, "harness_get", {"resource_type": "quarantine", "resource_id": "q-nope"})
        unknown_approve = await error_of(
            client, "harness_execute", {"resource_type": "quarantine", "action": "approve", "resource_id": "q-nope"}
        )
        unknown_action = await error_of(
            client, "harness_execute", {"resource_type": "quarantine", "action": "delete", "resource_id": "q-1"}
        )
        no_actions = await error_of(client, "harness_execute", {"resource_type": "flaky_test", "action": "propose"})
        unknown_test = await error_of(client, "harness_diagnose", {"resource_type": "test", "resource_id": "nope"})
    assert "classification must be one of flaky, broken, slow_and_flaky, stable" in wrong_class
    assert "sort must be one of impact, score" in wrong_sort
    assert "window_days must be a whole number of days from 1 to 365" in wrong_window
    assert "status must be one of proposed, approved, rejected, lifted" in wrong_status
    for text in (unknown_get, unknown_approve):
        assert "no quarantine proposal 'q-nope'" in text
        assert "harness_list resource_type=quarantine" in text
    assert "unknown action 'delete' for quarantine; its actions are propose, approve, reject, lift" in unknown_action
    assert "flaky_test has no actions" in no_actions
    assert "no stored results for test nope" in unknown_test


async def test_without_a_store_the_history_types_say_how_to_open_one(sut: ServerUnderTest) -> None:
    async with Client(sut.server(), elicitation_callback=accept) as client:
        listed = await error_of(client, "harness_list", {"resource_type": "flaky_test"})
        proposed = await error_of(client, "harness_execute", {"resource_type": "quarantine", "action": "propose"})
        diagnosed = await error_of(client, "harness_diagnose", {"resource_type": "test", "resource_id": FLAKY})
        status = await call(client, "harness_status", {})
    for text in (listed, proposed, diagnosed):
        assert "no history store is open: run `harness-connector sync` (or set HARNESS_DB) first" in text
    assert "flaky_tests" not in status


async def test_getting_a_flaky_test_explains_its_verdict_with_its_history(sut: ServerUnderTest, store: Store) -> None:
    async with Client(with_store(sut, store)) as client:
        found = await call(client, "harness_get", {"resource_type": "flaky_test", "resource_id": FLAKY})
        narrow = await call(
            client,
            "harness_get",
            {"resource_type": "flaky_test", "resource_id": FLAKY, "params": {"window_days": 3}},
        )
    item = found["item"]
    verdict = item["verdict"]
    assert item["test"] == f"com.acme.{FLAKY}Test::test_{FLAKY}"
    assert verdict["classification"] == "flaky"
    assert (verdict["runs"], verdict["failures"], verdict["pass_on_retry_commits"]) == (60, 15, 15)
    assert verdict["impact"]["failed_executions"] == 13
    assert verdict["impact"]["ci_minutes_lost"] > 0
    assert "same_commit" in verdict["detectors"]
    assert verdict["recommendation"] == "quarantine"
    newest = item["history"][0]
    assert set(newest) >= {"outcome", "execution_id", "pipeline_id", "commit_sha", "branch", "attempt", "run_at"}
    assert newest["commit_sha"] == "c59"
    assert len(item["history"]) == 20
    assert narrow["item"]["window_days"] == 3
    assert narrow["item"]["verdict"]["runs"] < 60


async def test_diagnose_tells_a_model_whether_a_test_is_flaky_and_what_to_do(
    sut: ServerUnderTest, store: Store
) -> None:
    async with Client(with_store(sut, store)) as client:
        flaky = (await call(client, "harness_diagnose", {"resource_type": "test", "resource_id": FLAKY}))["test"]
        broken = (await call(client, "harness_diagnose", {"resource_type": "test", "resource_id": BROKEN}))["test"]
        steady = (await call(client, "harness_diagnose", {"resource_type": "test", "resource_id": "steady0"}))["test"]
    assert flaky["classification"] == "flaky"
    assert flaky["recommendation"] == "quarantine"
    assert "action=propose" in flaky["next_step"]
    assert {"same_commit", "default_branch"} <= set(flaky["why"]["detectors"])
    assert flaky["why"]["reason"].startswith("clearly flaky and costly")
    assert flaky["numbers"]["failed_executions"] == 13
    assert flaky["numbers"]["flips"] > 0
    assert flaky["interval"][0] < flaky["score"] < flaky["interval"][1]
    assert len(flaky["history"]) == 10
    failed_runs = [run for run in flaky["history"] if run["outcome"] == "failed"]
    assert failed_runs
    assert all(run["message"] == "AssertionError: expected 3 items, got 2" for run in failed_runs)
    assert broken["classification"] == "broken"
    assert broken["why"]["broken_since_commit"] == "c50"
    assert broken["recommendation"] == "fix_now"
    assert steady["classification"] == "stable"
    assert "numbers" not in steady


async def test_status_adds_the_flaky_summary_and_the_proposals_awaiting_a_person(
    sut: ServerUnderTest, store: Store
) -> None:
    async with Client(with_store(sut, store)) as client:
        before = (await call(client, "harness_status", {}))["flaky_tests"]
        proposal_id = await propose(client)
        after = (await call(client, "harness_status", {}))["flaky_tests"]
    assert (before["flaky"], before["slow_and_flaky"], before["broken"]) == (1, 1, 1)
    assert [t["test_id"] for t in before["top"]] == [FLAKY, SLOW, BROKEN]
    assert before["top"][0]["failed_executions"] == 13
    assert before["awaiting_approval"] == 0
    assert after["awaiting_approval"] == 1
    assert after["proposals"][0]["proposal_id"] == proposal_id
    assert "status: proposed" in after["hint"]


async def test_propose_is_a_low_risk_write_that_stores_the_costly_flaky_test(
    sut: ServerUnderTest, store: Store
) -> None:
    async with Client(with_store(sut, store)) as client:  # no elicitation: a low-risk write must not need it
        first = await call(client, "harness_execute", {"resource_type": "quarantine", "action": "propose"})
        again = await call(client, "harness_execute", {"resource_type": "quarantine", "action": "propose"})
    [proposal] = first["result"]["proposals"]
    assert proposal["test_id"] == FLAKY
    assert proposal["status"] == "proposed"
    assert proposal["evidence"]["failed_executions"] == 13
    assert "approve" in first["hint"]
    assert again["result"]["proposed"] == 0
    assert [p.test_id for p in store.quarantines()] == [FLAKY]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_person_approves_through_elicitation_and_the_audit_names_the_client(
    sut: ServerUnderTest, store: Store, mode: str
) -> None:
    asked = Asked(answer=True)
    async with Client(with_store(sut, store), elicitation_callback=asked, client_info=CLIENT, mode=mode) as client:
        proposal_id = await propose(client)
        assert asked.questions == []  # proposing asked nobody
        sut.now[0] += 60_000  # the person decides a minute later
        approved = await call(
            client,
            "harness_execute",
            {"resource_type": "quarantine", "action": "approve", "resource_id": proposal_id, "body": "agreed"},
        )
        detail = await call(client, "harness_get", {"resource_type": "quarantine", "resource_id": proposal_id})
    [question] = asked.questions
    assert f"approve quarantine '{proposal_id}'" in question
    assert f"com.acme.{FLAKY}Test::test_{FLAKY}" in question
    assert "clearly flaky and costly" in question
    assert approved["status"] == "approved"
    assert approved["result"]["decided_by"] == "mcp:triage-bot"
    audit = detail["item"]["audit"]
    assert [entry["action"] for entry in audit] == ["proposed", "approved"]
    assert audit[1]["actor"] == "mcp:triage-bot"
    assert audit[1]["detail"] == "agreed (confirmed by a person through MCP elicitation)"


async def test_a_declined_question_changes_nothing(sut: ServerUnderTest, store: Store) -> None:
    asked = Asked(answer=False)
    async with Client(with_store(sut, store), elicitation_callback=asked) as client:
        proposal_id = await propose(client)
        refused = await error_of(
            client, "harness_execute", {"resource_type": "quarantine", "action": "approve", "resource_id": proposal_id}
        )
        detail = await call(client, "harness_get", {"resource_type": "quarantine", "resource_id": proposal_id})
    assert len(asked.questions) == 1
    assert "declined" in refused
    assert detail["item"]["status"] == "proposed"
    assert [entry["action"] for entry in detail["item"]["audit"]] == ["proposed"]


async def test_auto_approve_never_stands_in_for_the_person(sut: ServerUnderTest, store: Store) -> None:
    sut.auto_approve = Risk.DESTRUCTIVE  # HARNESS_AUTO_APPROVE_RISK=all
    asked = Asked(answer=True)
    async with Client(with_store(sut, store), client_info=CLIENT) as cannot_ask:
        proposal_id = await propose(cannot_ask)
        sut.now[0] += 60_000
        refused = await error_of(
            cannot_ask,
            "harness_execute",
            {"resource_type": "quarantine", "action": "reject", "resource_id": proposal_id},
        )
        still = await call(cannot_ask, "harness_get", {"resource_type": "quarantine", "resource_id": proposal_id})
        rejected = await call(
            cannot_ask,
            "harness_execute",
            {"resource_type": "quarantine", "action": "reject", "resource_id": proposal_id, "confirm": True},
        )
        audit = await call(cannot_ask, "harness_get", {"resource_type": "quarantine", "resource_id": proposal_id})
    sut.now[0] += 60_000
    async with Client(with_store(sut, store), elicitation_callback=asked) as can_ask:
        second = await propose(can_ask)
        await call(
            can_ask, "harness_execute", {"resource_type": "quarantine", "action": "approve", "resource_id": second}
        )
    assert "a person's decision" in refused
    assert "confirm=true" in refused
    assert still["item"]["status"] == "proposed"
    assert rejected["status"] == "rejected"
    assert (
        audit["item"]["audit"][-1]["detail"] == "confirmed by the caller (confirm=true) in a client that cannot prompt"
    )
    assert audit["item"]["audit"][-1]["actor"] == "mcp:triage-bot"
    assert len(asked.questions) == 1  # auto-approve did not skip the question either


async def test_a_client_that_cannot_ask_cannot_approve_even_with_confirm(sut: ServerUnderTest, store: Store) -> None:
    sut.auto_approve = Risk.DESTRUCTIVE  # not even with HARNESS_AUTO_APPROVE_RISK=all
    async with Client(with_store(sut, store), client_info=CLIENT) as cannot_ask:
        proposal_id = await propose(cannot_ask)
        refusals = [
            await error_of(
                cannot_ask,
                "harness_execute",
                {"resource_type": "quarantine", "action": "approve", "resource_id": proposal_id, **confirm},
            )
            for confirm in ({}, {"confirm": True})
        ]
        detail = await call(cannot_ask, "harness_get", {"resource_type": "quarantine", "resource_id": proposal_id})
    for refused in refusals:
        assert f"`harness-connector approve {proposal_id}`" in refused
        assert "confirm=true does not stand in" in refused
    assert detail["item"]["status"] == "proposed"
    assert [entry["action"] for entry in detail["item"]["audit"]] == ["proposed"]
    [stored] = store.quarantines()
    assert stored.status == "proposed" and stored.decided_by is None


async def test_read_only_mode_refuses_every_quarantine_action(sut: ServerUnderTest, store: Store) -> None:
    sut.read_only = True
    async with Client(with_store(sut, store), elicitation_callback=accept) as client:
        proposing = await error_of(client, "harness_execute", {"resource_type": "quarantine", "action": "propose"})
        listed = await call(client, "harness_list", {"resource_type": "flaky_test"})
    assert "read-only" in proposing
    assert store.quarantines() == []
    assert ids(listed) == [FLAKY, SLOW, BROKEN]  # reading still works


async def test_read_only_mode_refuses_a_confirmed_decision(sut: ServerUnderTest, store: Store) -> None:
    async with Client(with_store(sut, store)) as client:
        proposal_id = await propose(client)
    sut.read_only = True
    async with Client(with_store(sut, store), elicitation_callback=accept) as client:
        refused = await error_of(
            client,
            "harness_execute",
            {"resource_type": "quarantine", "action": "approve", "resource_id": proposal_id, "confirm": True},
        )
    assert "read-only" in refused
    [proposal] = store.quarantines()
    assert proposal.status == "proposed"


async def test_quarantines_are_listed_newest_first_with_status_filter_evidence_and_audit(
    sut: ServerUnderTest, store: Store
) -> None:
    async with Client(with_store(sut, store), elicitation_callback=accept, client_info=CLIENT) as client:
        first = await propose(client)
        sut.now[0] += 60_000
        await call(
            client,
            "harness_execute",
            {
                "resource_type": "quarantine",
                "action": "reject",
                "resource_id": first,
                "params": {"note": "a fix is in"},
            },
        )
        sut.now[0] += 3_600_000
        second = await propose(client)  # the test keeps flaking, so it is proposed again
        everything = await call(client, "harness_list", {"resource_type": "quarantine"})
        rejected = await call(
            client, "harness_list", {"resource_type": "quarantine", "filters": {"status": "rejected"}}
        )
        detail = await call(client, "harness_get", {"resource_type": "quarantine", "resource_id": first})
    assert [p["proposal_id"] for p in everything["items"]] == [second, first]
    assert [p["status"] for p in everything["items"]] == ["proposed", "rejected"]
    assert [p["proposal_id"] for p in rejected["items"]] == [first]
    evidence = everything["items"][0]["evidence"]
    assert evidence["classification"] == "flaky"
    assert (evidence["runs"], evidence["failures"], evidence["failed_executions"]) == (60, 15, 13)
    assert set(evidence["window"]) == {"since", "until"}
    item = detail["item"]
    assert (item["status"], item["decided_by"]) == ("rejected", "mcp:triage-bot")
    assert [(e["action"], e["actor"]) for e in item["audit"]] == [
        ("proposed", "harness-connector (flaky detection)"),
        ("rejected", "mcp:triage-bot"),
    ]
    assert item["audit"][1]["detail"].startswith("a fix is in (confirmed by a person")
    assert item["audit"][1]["at"].endswith("Z")


async def test_describe_lists_the_history_types_with_their_actions(sut: ServerUnderTest) -> None:
    async with Client(sut.server()) as client:
        listing = await call(client, "harness_describe", {})
        quarantine = await call(client, "harness_describe", {"resource_type": "quarantine"})
        flaky = await call(client, "harness_describe", {"resource_type": "flaky_test"})
    summaries = {t["type"]: t for t in listing["types"]}
    assert summaries["flaky_test"]["operations"] == "list get"
    assert summaries["quarantine"]["operations"] == (
        "list get propose:low_write approve:medium_write reject:medium_write lift:medium_write"
    )
    assert summaries["test_result"]["operations"] == "list get"
    detail = quarantine["detail"]
    assert detail["identifier_fields"] == ["proposal_id"]
    assert "status" in detail["filters"]
    assert "HARNESS_AUTO_APPROVE_RISK never stands in" in detail["operations"]["approve"]["description"]
    assert set(flaky["detail"]["filters"]) >= {"pipeline_id", "window_days", "classification", "sort"}


async def test_the_new_results_satisfy_their_tools_output_schemas(sut: ServerUnderTest, store: Store) -> None:
    import jsonschema

    async with Client(with_store(sut, store), elicitation_callback=accept) as client:
        schemas = {tool.name: tool.output_schema for tool in (await client.list_tools()).tools}
        proposal_id = await propose(client)
        calls: list[tuple[str, dict[str, Any]]] = [
            ("harness_list", {"resource_type": "flaky_test"}),
            ("harness_get", {"resource_type": "flaky_test", "resource_id": FLAKY}),
            ("harness_list", {"resource_type": "quarantine"}),
            ("harness_get", {"resource_type": "quarantine", "resource_id": proposal_id}),
            ("harness_diagnose", {"resource_type": "test", "resource_id": FLAKY}),
            ("harness_status", {}),
            ("harness_execute", {"resource_type": "quarantine", "action": "approve", "resource_id": proposal_id}),
        ]
        for name, args in calls:
            schema = schemas[name]
            assert schema is not None
            jsonschema.validate(await call(client, name, args), schema)
