"""Per-tool latency and result size of the MCP server against the sandbox, and the size of `tools/list`.

Drives the server in-process with a real MCP client over the generated sandbox scenario (seed 42, 30 days) and a
fixed call list. For each call it prints p50/p95 latency over repeated runs and the result's size in tokens
(chars/4). For list and get calls it also prints the size of the same data shaped the way the official Harness
MCP server shapes it (its documented compaction: identity/status/type/owner/time/id keys kept, the name turned
into a markdown link, minified JSON; a get returns the whole payload plus a link), computed from the same raw
answers in the same run. The goals: `tools/list` <= 6,000 tokens (the official server's is about 12,400, as
published), and typical results at most half the official shape's size.

Run: `python -m bench.bench_mcp` (or `make bench`).
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from harness_connector.cli.embedded import open_embedded, prepare_sandbox, sandbox_connection
from harness_connector.config import Settings
from harness_connector.harness.registry import get_resource_type
from harness_connector.mcp_server import build_server
from harness_connector.services.connection import Connection

OUT = Path(__file__).parent / "out"
RUNS = 15
OFFICIAL_TOOLS_LIST_TOKENS = 12_400
_KEEP = re.compile(
    r"^(id|uuid|identifier|identity|name|displayName|description|slug|versionLabel|sha|title|message|status|state|"
    r"enabled|health|stableTemplate|type|kind|category|module|templateEntityType|childType|tags|labels|owner|author|"
    r"committer|openInHarness)$|(At|Ts|Time|Date)$|(Identifier|Id|_id)$"
)


def tokens(text: str) -> int:
    return len(text) // 4


def official_list_shape(items: list[Any], link: str) -> str:
    """The official server's compact list shape for the same raw items."""
    rows = []
    for item in items:
        if not isinstance(item, Mapping):
            rows.append(item)
            continue
        flat = {k: v for k, v in item.items() if (_KEEP.search(k) and not isinstance(v, Mapping | list)) or k == "tags"}
        if "name" in flat:
            flat["name"] = f"[{flat['name']}]({link})"
        rows.append(flat)
    return json.dumps({"items": rows, "total": len(rows)}, separators=(",", ":"))


def official_get_shape(payload: Any, link: str) -> str:
    body = dict(payload) if isinstance(payload, Mapping) else {"value": payload}
    body["openInHarness"] = link
    return json.dumps(body, separators=(",", ":"))


async def raw_answer(conn: Connection, resource_type: str, operation: str, args: dict[str, Any]) -> Any:
    resource = get_resource_type(resource_type)
    full = {"org_id": "default", "project_id": "payments", **args}
    if operation == "list":
        page = await conn.client.call(resource, "list", full, page=0, size=int(args.get("size", 20)))
        return page.items
    return await conn.client.call(resource, operation, full)


async def run() -> None:
    db = prepare_sandbox(OUT / "sandbox-seed42-30d.sqlite", seed=42, days=30)
    sandbox = open_embedded(db)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    @asynccontextmanager
    async def opener() -> AsyncIterator[Connection]:
        async with sandbox_connection(settings, sandbox) as conn:
            yield conn

    server = build_server(opener, now_ms=sandbox.clock)
    async with opener() as conn:
        failed = (await raw_answer(conn, "execution", "list", {"status": "Failed", "size": 1}))[0]["planExecutionId"]
        pipeline = (await raw_answer(conn, "pipeline", "list", {"size": 1}))[0]["identifier"]
        connector = (await raw_answer(conn, "connector", "list", {"size": 1}))[0]["connector"]["identifier"]
        official: dict[str, int] = {
            "list pipelines": tokens(official_list_shape(await raw_answer(conn, "pipeline", "list", {}), "x" * 120)),
            "list executions": tokens(official_list_shape(await raw_answer(conn, "execution", "list", {}), "x" * 140)),
            "list connectors": tokens(official_list_shape(await raw_answer(conn, "connector", "list", {}), "x" * 110)),
            "get pipeline": tokens(
                official_get_shape(await raw_answer(conn, "pipeline", "get", {"pipeline_id": pipeline}), "x" * 120)
            ),
            "get execution": tokens(
                official_get_shape(await raw_answer(conn, "execution", "get", {"execution_id": failed}), "x" * 140)
            ),
            "get connector": tokens(
                official_get_shape(await raw_answer(conn, "connector", "get", {"connector_id": connector}), "x" * 110)
            ),
        }
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("list pipelines", "harness_list", {"resource_type": "pipeline"}),
        ("list executions", "harness_list", {"resource_type": "execution"}),
        ("list connectors", "harness_list", {"resource_type": "connector"}),
        ("get pipeline", "harness_get", {"resource_type": "pipeline", "resource_id": pipeline}),
        ("get execution", "harness_get", {"resource_type": "execution", "resource_id": failed}),
        ("get connector", "harness_get", {"resource_type": "connector", "resource_id": connector}),
        ("describe", "harness_describe", {}),
        ("search", "harness_search", {"query": "payments deploy pipeline"}),
        ("status", "harness_status", {}),
        ("diagnose execution", "harness_diagnose", {"execution_id": failed}),
    ]
    async with Client(server) as client:
        listed = await client.list_tools()
        tools_json = json.dumps(
            [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed.tools], separators=(",", ":")
        )
        print(f"tools/list: {len(listed.tools)} tools, {tokens(tools_json):,} tokens "
              f"(goal <= 6,000; official server ~{OFFICIAL_TOOLS_LIST_TOKENS:,} as published)")  # fmt: skip
        print(f"{'call':22} {'p50 ms':>8} {'p95 ms':>8} {'tokens':>8} {'official':>9} {'ratio':>6}")
        for label, tool, args in calls:
            times: list[float] = []
            size = 0
            for _ in range(RUNS):
                started = time.perf_counter()
                result = await client.call_tool(tool, args)
                times.append((time.perf_counter() - started) * 1000)
                if result.is_error:
                    raise RuntimeError(f"{label}: {result.content}")
                size = sum(tokens(getattr(block, "text", "")) for block in result.content)
            times.sort()
            p50 = statistics.median(times)
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            peer = official.get(label)
            ratio = f"{size / peer:.2f}" if peer else ""
            print(f"{label:22} {p50:8.1f} {p95:8.1f} {size:8,} {peer or '':>9} {ratio:>6}")
    sandbox.state.close()


def main() -> None:
    anyio.run(run)


if __name__ == "__main__":
    main()
