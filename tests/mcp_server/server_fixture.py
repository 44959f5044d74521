"""An MCP server over an in-process sandbox account, for in-memory client tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from mcp.server import MCPServer

from harness_connector.config import Settings
from harness_connector.harness.registry import Risk
from harness_connector.mcp_server import build_server
from harness_connector.sandbox import AccountKeys, SandboxContext, SandboxState, bootstrap_account, create_app
from harness_connector.services.connection import Connection, connect


@dataclass
class ServerUnderTest:
    state: SandboxState
    keys: AccountKeys
    ctx: SandboxContext
    now: list[int] = field(default_factory=lambda: [1_790_000_000_000])
    read_only: bool = False
    auto_approve: Risk | None = None

    def server(self) -> MCPServer[Any]:
        return build_server(self.open_connection, now_ms=lambda: self.now[0])

    @asynccontextmanager
    async def open_connection(self) -> AsyncIterator[Connection]:
        conn = connect(
            Settings(_env_file=None),  # type: ignore[call-arg]
            asgi_app=create_app(self.ctx),
            base_url="http://127.0.0.1",
            api_key=self.keys.admin_pat,
            org="default",
            project="payments",
        )
        conn.read_only = self.read_only
        conn.auto_approve = self.auto_approve
        try:
            yield conn
        finally:
            await conn.aclose()


def make_server_under_test() -> ServerUnderTest:
    state = SandboxState(":memory:")
    keys = bootstrap_account(state, seed=5)
    holder: list[int] = [1_790_000_000_000]
    clock: Callable[[], int] = lambda: holder[0]  # noqa: E731 - shared cell read by the sandbox
    ctx = SandboxContext(state=state, account_id=keys.account_id, clock=clock, base_url="http://127.0.0.1")
    return ServerUnderTest(state=state, keys=keys, ctx=ctx, now=holder)
