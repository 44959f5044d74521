"""End to end: `harness-connector serve` as a subprocess, driven by a real MCP client, over stdio and HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import mcp.types as types
import pytest
from mcp import Client, StdioServerParameters

from harness_connector.cli.embedded import open_embedded, prepare_sandbox
from harness_connector.sandbox import SandboxContext
from tests.sandbox.conftest import serve_sandbox

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def sandbox_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_sandbox(tmp_path_factory.mktemp("sandbox") / "state.sqlite", seed=3, days=2)


@pytest.fixture(scope="module")
def sandbox_url(sandbox_db: Path) -> Iterator[tuple[str, str]]:
    """The generated sandbox served over real HTTP, as `harness-connector sandbox` serves it."""
    opened = open_embedded(sandbox_db)
    ctx = SandboxContext(state=opened.state, account_id=opened.keys.account_id, clock=opened.clock)
    for base_url in serve_sandbox(ctx):
        yield base_url, opened.keys.admin_pat
    opened.state.close()


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _structured(result: types.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    data: dict[str, Any] | None = result.structured_content
    assert data is not None
    return data


async def test_stdio_serve_against_the_sandbox_server_lists_and_gets_over_the_real_api(
    sandbox_url: tuple[str, str],
) -> None:
    base_url, pat = sandbox_url
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "harness_connector", "serve"],
        env=_environment(
            HARNESS_API_KEY=pat, HARNESS_BASE_URL=base_url, HARNESS_ORG="default", HARNESS_PROJECT="payments"
        ),
    )
    async with Client(params) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        pipelines = _structured(await client.call_tool("harness_list", {"resource_type": "pipeline"}))
        first = pipelines["items"][0]["identifier"]
        detail = _structured(await client.call_tool("harness_get", {"resource_type": "pipeline", "resource_id": first}))
    assert {"harness_list", "harness_get", "harness_execute", "harness_describe"} <= tools
    assert pipelines["total"] >= 1
    assert f"identifier: {first}" in detail["item"]["yamlPipeline"]


async def test_stdio_serve_without_a_key_runs_on_the_embedded_sandbox(sandbox_db: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "harness_connector", "serve"],
        env=_environment(HARNESS_SANDBOX_DB=str(sandbox_db), HARNESS_SANDBOX_SEED="3", HARNESS_SANDBOX_DAYS="2"),
    )
    async with Client(params) as client:
        executions = _structured(await client.call_tool("harness_list", {"resource_type": "execution", "size": 5}))
    assert len(executions["items"]) == 5
    assert executions["link_base"].startswith("http://127.0.0.1/ng/account/")
    assert all("/executions/" in item["link"] for item in executions["items"])


class _HttpServer:
    def __init__(self, port: int, process: subprocess.Popen[bytes]) -> None:
        self.port = port
        self.process = process
        self.url = f"http://127.0.0.1:{port}"


def _start_http(env: dict[str, str], *extra: str) -> _HttpServer:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "harness_connector", "serve", "--http", "--port", str(port), *extra],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            message = process.stderr.read().decode() if process.stderr else ""
            if process.stderr is not None:
                process.stderr.close()
            raise RuntimeError(f"serve exited: {message}")
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return _HttpServer(port, process)
        except httpx2.TransportError:
            time.sleep(0.1)
    process.kill()
    process.wait(timeout=10)
    if process.stderr is not None:
        process.stderr.close()
    raise RuntimeError("serve --http did not come up")


def _stop(server: _HttpServer) -> None:
    server.process.terminate()
    server.process.wait(timeout=10)
    if server.process.stderr is not None:
        server.process.stderr.close()


@pytest.fixture
def http_server(sandbox_db: Path) -> Iterator[_HttpServer]:
    env = _environment(HARNESS_SANDBOX_DB=str(sandbox_db), HARNESS_SANDBOX_SEED="3", HARNESS_SANDBOX_DAYS="2")
    server = _start_http(env)
    yield server
    _stop(server)


async def test_http_serve_answers_a_real_client_and_reports_health(http_server: _HttpServer) -> None:
    async with Client(f"{http_server.url}/mcp") as client:
        described = _structured(await client.call_tool("harness_describe", {"toolset": "connectors"}))
    assert [t["type"] for t in described["types"]] == ["connector"]
    health = httpx2.get(f"{http_server.url}/health")
    assert health.json()["status"] == "ok"


def test_http_serve_refuses_a_foreign_host_header(http_server: _HttpServer) -> None:
    answer = httpx2.post(
        f"{http_server.url}/mcp",
        headers={"Host": "evil.example.com", "Content-Type": "application/json", "Accept": "application/json"},
        content=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    )
    assert answer.status_code in (400, 421)


def test_http_serve_requires_the_bearer_token_when_one_is_set(sandbox_db: Path) -> None:
    env = _environment(
        HARNESS_SANDBOX_DB=str(sandbox_db),
        HARNESS_SANDBOX_SEED="3",
        HARNESS_SANDBOX_DAYS="2",
        HARNESS_MCP_AUTH_TOKEN="s3cret-token-value",
    )
    server = _start_http(env)
    try:
        request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        refused = httpx2.post(f"{server.url}/mcp", headers=headers, json=request)
        assert refused.status_code == 401
    finally:
        _stop(server)


def test_serve_refuses_a_non_loopback_bind_without_a_token(sandbox_db: Path) -> None:
    env = _environment(HARNESS_SANDBOX_DB=str(sandbox_db), HARNESS_SANDBOX_SEED="3", HARNESS_SANDBOX_DAYS="2")
    done = subprocess.run(
        [sys.executable, "-m", "harness_connector", "serve", "--http", "--host", "0.0.0.0", "--port", "1"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert b"HARNESS_MCP_AUTH_TOKEN" in done.stderr
