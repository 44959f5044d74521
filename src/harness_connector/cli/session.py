"""How the interfaces reach Harness: the real API with a key, the embedded sandbox without one."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

from harness_connector.cli.embedded import MAIN_ORG, MAIN_PROJECT, open_embedded, prepare_sandbox, sandbox_connection
from harness_connector.config import Settings
from harness_connector.mcp_server.context import epoch_ms
from harness_connector.services.connection import Connection, connect
from harness_connector.services.ingest import Store, StoreError, open_history

__all__ = ["Session", "open_session"]


@dataclass
class Session:
    """A way to open connections, the clock to judge time windows by, and a line saying where we are."""

    open_connection: Callable[[], AbstractAsyncContextManager[Connection]]
    now_ms: Callable[[], int]
    banner: str
    sandbox: bool


def open_session(settings: Settings) -> Session:
    """Decide between Harness and the embedded sandbox, preparing the sandbox on first use."""
    if settings.sandbox_mode:
        path = prepare_sandbox(settings.sandbox_db_path, seed=settings.sandbox_seed, days=settings.sandbox_days)
        sandbox = open_embedded(path)

        @asynccontextmanager
        async def open_sandbox() -> AsyncIterator[Connection]:
            async with sandbox_connection(settings, sandbox) as conn:
                conn.store = _open_history(settings)
                yield conn

        banner = (
            f"no HARNESS_API_KEY: running on the embedded sandbox (account {sandbox.keys.account_id}, "
            f"org {settings.org or MAIN_ORG}, project {settings.project or MAIN_PROJECT}; state in {path})"
        )
        return Session(open_sandbox, sandbox.clock, banner, sandbox=True)

    @asynccontextmanager
    async def open_harness() -> AsyncIterator[Connection]:
        conn = connect(settings)
        conn.store = _open_history(settings)
        try:
            yield conn
        finally:
            await conn.aclose()

    return Session(open_harness, epoch_ms, f"connected to Harness at {settings.base_url}", sandbox=False)


def _open_history(settings: Settings) -> Store | None:
    # The history store enriches answers when it can be opened; the tools work without it.
    try:
        return open_history(settings.db_path)
    except StoreError as exc:
        say(f"history store unavailable ({exc}); history-backed answers are off")
        return None


def say(message: str) -> None:
    """A line for people, on stderr (stdout may be the MCP wire)."""
    print(message, file=sys.stderr, flush=True)
