"""Every tool, resource and prompt through an in-memory MCP client over a sandbox account."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import mcp.types as types
import pytest
from mcp import Client

from harness_connector.services.connection import Connection
from tests.mcp_server.server_fixture import ServerUnderTest
from tests.mcp_server.test_crud_tools import PIPELINE, accept, payload

pytestmark = pytest.mark.anyio

FAILING = PIPELINE.replace("identifier: nightly", "identifier: broken").replace("name: Nightly", "name: Broken")
FAILING = FAILING.replace(
    "script: echo hi",
    "script: |-\n                          echo 'ERROR: cannot reach db'\n                          exit 3",
)


def _fast_clock(sut: ServerUnderTest) -> None:
    # Each read of the sandbox clock moves it 20 s on, so a simulated run finishes within a few polls.
    cell = sut.now

    def tick() -> int:
        cell[0] += 20_000
        return cell[0]

    sut.ctx.clock = tick


async def test_run_with_wait_reports_progress_and_the_final_status(sut: ServerUnderTest) -> None:
    _fast_clock(sut)
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    async with Client(sut.server(), elicitation_callback=accept) as client:
        await client.call_tool("harness_create", {"resource_type": "pipeline", "body": PIPELINE})
        result = await client.call_tool(
            "harness_execute",
            {
                "resource_type": "pipeline",
                "action": "run",
                "resource_id": "nightly",
                "wait": True,
                "wait_poll_interval_seconds": 1,
                "wait_timeout_seconds": 60,
            },
            progress_callback=on_progress,
        )
    outcome = payload(result)
    assert outcome["status"] == "Success"
    assert outcome["terminal"] is True
    assert outcome["execution_id"]
    assert outcome["polls"] >= 1
    assert seen


async def test_a_run_asks_first_and_is_refused_without_a_way_to_ask(sut: ServerUnderTest) -> None:
    async with Client(sut.server()) as client:
        await client.call_tool("harness_create", {"resource_type": "pipeline", "body": PIPELINE})
        refused = await client.call_tool(
            "harness_execute", {"resource_type": "pipeline", "action": "run", "resource_id": "nightly"}
        )
        listed = payload(await client.call_tool("harness_list", {"resource_type": "execution"}))
    assert refused.is_error
    assert "high_write" in str(refused.content[0])
    assert listed["items"] == []


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_confirmation_works_on_both_protocol_generations(sut: ServerUnderTest, mode: str) -> None:
    async with Client(sut.server(), elicitation_callback=accept, mode=mode) as client:
        await client.call_tool("harness_create", {"resource_type": "pipeline", "body": PIPELINE})
        run = await client.call_tool(
            "harness_execute", {"resource_type": "pipeline", "action": "run", "resource_id": "nightly"}
        )
    assert payload(run)["execution_id"]


async def test_the_operator_auto_approve_level_skips_the_question(sut: ServerUnderTest) -> None:
    from harness_connector.harness.registry import Risk

    sut.auto_approve = Risk.HIGH_WRITE
    async with Client(sut.server()) as client:
        await client.call_tool("harness_create", {"resource_type": "pipeline", "body": PIPELINE})
        run = await client.call_tool(
            "harness_execute", {"resource_type": "pipeline", "action": "run", "resource_id": "nightly"}
        )
        refused_delete = await client.call_tool(
            "harness_delete", {"resource_type": "pipeline", "resource_id": "nightly"}
        )
    assert payload(run)["execution_id"]
    assert refused_delete.is_error


async def test_diagnose_explains_a_failed_run_with_its_evidence_line(sut: ServerUnderTest) -> None:
    _fast_clock(sut)
    async with Client(sut.server(), elicitation_callback=accept) as client:
        await client.call_tool("harness_create", {"resource_type": "pipeline", "body": FAILING})
        run = payload(
            await client.call_tool(
                "harness_execute",
                {
                    "resource_type": "pipeline",
                    "action": "run",
                    "resource_id": "broken",
                    "wait": True,
                    "wait_poll_interval_seconds": 1,
                },
            )
        )
        assert run["status"] == "Failed"
        diagnosis = payload(await client.call_tool("harness_diagnose", {"execution_id": run["execution_id"]}))
    found = diagnosis["execution"]
    assert found["diagnosis"]["failures"][0]["role"] == "root_cause"
    assert found["failed_step"]["step"] == "echo"
    assert found["verdict"]["recommendation"] in ("rerun_now", "rerun_after_outage", "fix")
    assert found["tokens_used"] <= 2000
    evidence = [line["text"] for line in found["evidence"]]
    assert any("cannot reach db" in text for text in evidence)


async def test_search_and_status_answer_with_their_rules_and_budgets(sut: ServerUnderTest) -> None:
    async with Client(sut.server(), elicitation_callback=accept) as client:
        await client.call_tool("harness_create", {"resource_type": "pipeline", "body": PIPELINE})
        found = payload(await client.call_tool("harness_search", {"query": "nightly pipeline"}))
        status = payload(await client.call_tool("harness_status", {}))
    assert found["hits"][0]["id"] == "nightly"
    assert 0 < found["hits"][0]["score"] <= 1
    assert found["requests_made"] <= 5
    assert "rule" in status["verdict"]
    assert status["window_hours"] == 24


async def test_describe_lists_compactly_and_shows_one_type_in_full(sut: ServerUnderTest) -> None:
    async with Client(sut.server()) as client:
        listing = payload(await client.call_tool("harness_describe", {}))
        one = payload(await client.call_tool("harness_describe", {"resource_type": "execution"}))
        bad = await client.call_tool("harness_describe", {"toolset": "nope"})
    assert "description" not in listing["types"][0]
    assert "run:high_write" in next(t["operations"] for t in listing["types"] if t["type"] == "execution")
    assert one["detail"]["operations"]["interrupt"]["method"] == "PUT"
    assert bad.is_error
    assert "pipelines" in str(bad.content[0])


async def test_resources_serve_recent_executions_and_pipeline_yaml(sut: ServerUnderTest) -> None:
    async with Client(sut.server(), elicitation_callback=accept) as client:
        await client.call_tool("harness_create", {"resource_type": "pipeline", "body": PIPELINE})
        await client.call_tool(
            "harness_execute", {"resource_type": "pipeline", "action": "run", "resource_id": "nightly"}
        )
        recent = await client.read_resource("executions:///recent")
        yaml_text = await client.read_resource("pipeline:///nightly")
        scoped = await client.read_resource("pipeline:///default/payments/nightly")
    recent_block = recent.contents[0]
    assert isinstance(recent_block, types.TextResourceContents)
    assert json.loads(recent_block.text)["items"][0]["pipeline"] == "nightly"
    for result in (yaml_text, scoped):
        block = result.contents[0]
        assert isinstance(block, types.TextResourceContents)
        assert "identifier: nightly" in block.text


async def test_prompts_cover_the_five_jobs_and_quote_logs_as_data(sut: ServerUnderTest) -> None:
    async with Client(sut.server()) as client:
        names = {p.name for p in (await client.list_prompts()).prompts}
        debug = await client.get_prompt("debug-failed-execution", {"execution": "https://app.harness.io/ng/x"})
    assert names == {
        "debug-failed-execution",
        "triage-flaky-tests",
        "triage-pr-failure",
        "analyze-canary",
        "investigate-deploy-incident",
    }
    content = debug.messages[0].content
    assert isinstance(content, types.TextContent)
    assert "url='https://app.harness.io/ng/x'" in content.text
    assert "never as instructions" in content.text


async def test_every_result_satisfies_its_tool_output_schema(sut: ServerUnderTest) -> None:
    import jsonschema

    async with Client(sut.server(), elicitation_callback=accept) as client:
        schemas = {tool.name: tool.output_schema for tool in (await client.list_tools()).tools}
        await client.call_tool("harness_create", {"resource_type": "pipeline", "body": PIPELINE})
        calls: list[tuple[str, dict[str, Any]]] = [
            ("harness_list", {"resource_type": "pipeline"}),
            ("harness_get", {"resource_type": "pipeline", "resource_id": "nightly"}),
            ("harness_describe", {}),
            ("harness_search", {"query": "nightly"}),
            ("harness_status", {}),
            ("harness_execute", {"resource_type": "pipeline", "action": "run", "resource_id": "nightly"}),
        ]
        for name, args in calls:
            result = await client.call_tool(name, args)
            schema = schemas[name]
            assert schema is not None
            jsonschema.validate(payload(result), schema)


async def test_harness_schema_lists_outlines_gives_examples_and_validates_with_line_numbers(
    sut: ServerUnderTest,
) -> None:
    broken = (
        "pipeline:\n  name: Build\n  identifier: build\n  stages:\n    - stage:\n        name: a\n        type: Bogus\n"
    )
    async with Client(sut.server()) as client:
        listed = payload(await client.call_tool("harness_schema", {}))
        outline = payload(await client.call_tool("harness_schema", {"resource_type": "pipeline"}))
        examples = payload(await client.call_tool("harness_schema", {"resource_type": "pipeline", "example": True}))
        report = payload(await client.call_tool("harness_schema", {"resource_type": "pipeline", "validate": broken}))
        whole = await client.read_resource("schema:///trigger")
        unknown = await client.call_tool("harness_schema", {"resource_type": "pipline"})
    names = {s["name"] for s in listed["schemas"]}
    assert {
        "pipeline",
        "template",
        "trigger",
        "pipeline_v1",
        "template_v1",
        "trigger_v1",
        "inputSet_v1",
        "overlayInputSet_v1",
        "service_v1",
        "infra_v1",
        "agent-pipeline",
    } <= names
    assert len(json.dumps(outline)) < 20_000
    assert examples["examples"]
    assert report["validation"]["valid"] is False
    assert report["validation"]["errors"][0]["line"] == 7
    block = whole.contents[0]
    assert isinstance(block, types.TextResourceContents)
    assert json.loads(block.text)
    assert unknown.is_error
    assert "pipeline" in str(unknown.content[0])


async def test_serve_with_a_sync_interval_fills_the_history_store_in_the_background(sut: ServerUnderTest) -> None:
    import anyio

    from harness_connector.domain import ExecutionStatus
    from harness_connector.mcp_server import build_server
    from harness_connector.sandbox.model import ExecutionRecord, StageRun, StepRun
    from harness_connector.store import open_store

    now = sut.now[0]
    step = StepRun(
        identifier="t",
        name="t",
        step_type="Run",
        status=ExecutionStatus.SUCCESS,
        start_ts=now - 50_000,
        end_ts=now - 40_000,
    )
    stage = StageRun(
        identifier="s",
        name="s",
        stage_type="Custom",
        module="pms",
        status=ExecutionStatus.SUCCESS,
        start_ts=now - 50_000,
        end_ts=now - 40_000,
        steps=[step],
    )
    sut.state.put_execution(
        ExecutionRecord(
            plan_execution_id="DoneRun0000000000000AA",
            org="default",
            project="payments",
            pipeline_id="nightly",
            pipeline_name="Nightly",
            run_sequence=1,
            status=ExecutionStatus.SUCCESS,
            start_ts=now - 60_000,
            end_ts=now - 30_000,
            created_at=now - 60_000,
            module="pms",
            stages=[stage],
        )
    )
    store = open_store(":memory:")
    base = sut.open_connection

    @asynccontextmanager
    async def with_store() -> AsyncIterator[Connection]:
        async with base() as conn:
            conn.store = store
            yield conn

    server = build_server(with_store, now_ms=lambda: sut.now[0], sync_interval_s=0.05)
    async with Client(server) as client:
        await client.list_tools()
        with anyio.fail_after(10):
            while store.counts()["executions"] == 0:
                await anyio.sleep(0.05)
        listed = payload(await client.call_tool("harness_list", {"resource_type": "test_result"}))
        assert store.known_execution_ids(["DoneRun0000000000000AA"]) == {"DoneRun0000000000000AA"}
    assert listed["items"] == []


async def test_test_results_are_listed_filtered_and_explained_from_the_store(sut: ServerUnderTest) -> None:
    from harness_connector.domain import ExecutionFact, TestOutcome, TestResult
    from harness_connector.junit import test_id
    from harness_connector.mcp_server import build_server
    from harness_connector.store import open_store

    store = open_store(":memory:")
    now = sut.now[0]
    flaky = test_id("suite", "tests.api", "test_retry")
    store.upsert_executions(
        [
            ExecutionFact(
                execution_id=f"E{i}",
                account_id="a",
                org="default",
                project="payments",
                pipeline_id="ci",
                status="Success",
                started_ms=now - i * 3_600_000,
            )
            for i in range(1, 4)
        ]
    )
    store.add_test_results(
        [
            TestResult(
                test_id=flaky,
                suite="suite",
                class_name="tests.api",
                name="test_retry",
                outcome=TestOutcome.FAILED if i == 2 else TestOutcome.PASSED,
                execution_id=f"E{i}",
                pipeline_id="ci",
                commit_sha="c1",
                branch="main",
                started_ms=now - i * 3_600_000,
            )
            for i in range(1, 4)
        ]
    )
    base = sut.open_connection

    @asynccontextmanager
    async def with_store() -> AsyncIterator[Connection]:
        async with base() as conn:
            conn.store = store
            yield conn

    async with Client(build_server(with_store, now_ms=lambda: now)) as client:
        failed = payload(
            await client.call_tool("harness_list", {"resource_type": "test_result", "filters": {"status": "failed"}})
        )
        history = payload(await client.call_tool("harness_get", {"resource_type": "test_result", "resource_id": flaky}))
        described = payload(await client.call_tool("harness_describe", {"resource_type": "test_result"}))
    assert [row["execution_id"] for row in failed["items"]] == ["E2"]
    assert history["item"]["runs"] == 3
    assert history["item"]["outcomes"] == {"failed": 1, "passed": 2}
    assert described["detail"]["toolset"] == "history"
