from __future__ import annotations

import json
from typing import Any

import mcp.types as types
import pytest
from mcp import Client

from harness_connector.mcp_server.output import as_table
from tests.mcp_server.server_fixture import ServerUnderTest

pytestmark = pytest.mark.anyio

PIPELINE = """pipeline:
  name: Nightly
  identifier: nightly
  orgIdentifier: default
  projectIdentifier: payments
  stages:
    - stage:
        name: Run
        identifier: run
        type: Custom
        spec:
          execution:
            steps:
              - step:
                  type: ShellScript
                  name: Echo
                  identifier: echo
                  spec:
                    shell: Bash
                    source:
                      type: Inline
                      spec:
                        script: echo hi
"""


async def accept(context: Any, params: Any) -> types.ElicitResult:
    return types.ElicitResult(action="accept", content={"confirm": True})


async def decline(context: Any, params: Any) -> types.ElicitResult:
    return types.ElicitResult(action="decline")


def payload(result: types.CallToolResult) -> dict[str, Any]:
    data: dict[str, Any] | None = result.structured_content
    assert data is not None, result.content
    text = result.content[0]
    assert isinstance(text, types.TextContent)
    assert json.loads(text.text) in (data, as_table(data))
    return data


async def test_the_server_lists_its_tools_with_annotations_from_the_policies(sut: ServerUnderTest) -> None:
    async with Client(sut.server()) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert {"harness_list", "harness_get", "harness_create", "harness_update", "harness_delete"} <= set(tools)
    assert tools["harness_list"].annotations is not None
    assert tools["harness_list"].annotations.read_only_hint is True
    assert tools["harness_delete"].annotations is not None
    assert tools["harness_delete"].annotations.destructive_hint is True
    assert "decision" not in json.dumps(tools["harness_create"].input_schema)


async def test_a_low_risk_create_goes_ahead_without_asking_and_the_list_shows_it(sut: ServerUnderTest) -> None:
    asked: list[str] = []

    async def record(context: Any, params: Any) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"confirm": True})

    async with Client(sut.server(), elicitation_callback=record) as client:
        created = await client.call_tool("harness_create", {"resource_type": "pipeline", "body": PIPELINE})
        assert not created.is_error, created.content
        listed = payload(await client.call_tool("harness_list", {"resource_type": "pipeline"}))
    assert asked == []
    assert [item["identifier"] for item in listed["items"]] == ["nightly"]
    assert listed["items"][0]["link"].startswith("http://127.0.0.1/ng/account/")  # a lone row keeps its full link


async def test_a_delete_asks_the_person_and_happens_when_accepted(sut: ServerUnderTest) -> None:
    asked: list[str] = []

    async def record(context: Any, params: Any) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"confirm": True})

    async with Client(sut.server(), elicitation_callback=record) as client:
        await client.call_tool("harness_create", {"resource_type": "pipeline", "body": PIPELINE})
        deleted = await client.call_tool("harness_delete", {"resource_type": "pipeline", "resource_id": "nightly"})
        listed = payload(await client.call_tool("harness_list", {"resource_type": "pipeline"}))
    assert not deleted.is_error, deleted.content
    assert len(asked) == 1
    assert "delete pipeline 'nightly'" in asked[0]
    assert "cannot be undone" in asked[0]
    assert listed["items"] == []


async def test_a_declined_delete_changes_nothing(sut: ServerUnderTest) -> None:
    async with Client(sut.server(), elicitation_callback=decline) as client:
        await client.call_tool("harness_create", {"resource_type": "pipeline", "body": PIPELINE})
        refused = await client.call_tool("harness_delete", {"resource_type": "pipeline", "resource_id": "nightly"})
        listed = payload(await client.call_tool("harness_list", {"resource_type": "pipeline"}))
    assert refused.is_error
    assert "declined" in str(refused.content[0])
    assert [item["identifier"] for item in listed["items"]] == ["nightly"]


async def test_a_declined_answer_is_final_even_with_confirm_true(sut: ServerUnderTest) -> None:
    async with Client(sut.server(), elicitation_callback=decline) as client:
        await client.call_tool("harness_create", {"resource_type": "pipeline", "body": PIPELINE})
        refused = await client.call_tool(
            "harness_delete", {"resource_type": "pipeline", "resource_id": "nightly", "confirm": True}
        )
    assert refused.is_error


async def test_a_client_that_cannot_ask_gets_a_refusal_saying_how_to_confirm(sut: ServerUnderTest) -> None:
    async with Client(sut.server()) as client:
        refused = await client.call_tool("harness_delete", {"resource_type": "pipeline", "resource_id": "nightly"})
    assert refused.is_error
    text = str(refused.content[0])
    assert "confirm=true" in text
    assert "HARNESS_AUTO_APPROVE_RISK" in text


async def test_read_only_mode_refuses_every_write_even_when_confirmed(sut: ServerUnderTest) -> None:
    sut.read_only = True
    async with Client(sut.server(), elicitation_callback=accept) as client:
        refused = await client.call_tool(
            "harness_create", {"resource_type": "pipeline", "body": PIPELINE, "confirm": True}
        )
    assert refused.is_error
    assert "read-only" in str(refused.content[0])


async def test_an_unknown_resource_type_names_the_near_match(sut: ServerUnderTest) -> None:
    async with Client(sut.server()) as client:
        result = await client.call_tool("harness_list", {"resource_type": "pipline"})
    assert result.is_error
    assert "pipeline" in str(result.content[0])


def test_a_list_is_shown_to_the_model_as_a_table_with_the_same_values() -> None:
    data = {"resource_type": "pipeline", "items": [{"identifier": "a", "name": "A"}, {"identifier": "b", "x": 1}]}
    assert as_table(data) == {
        "resource_type": "pipeline",
        "columns": ["identifier", "name", "x"],
        "rows": [["a", "A", None], ["b", None, 1]],
    }
    assert as_table({"items": []}) == {"items": []}
