"""A `Connection` to an in-process sandbox account, for service tests (no network, no scenario)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from harness_connector.config import Settings
from harness_connector.sandbox import SandboxContext, SandboxState, bootstrap_account, create_app
from harness_connector.services.connection import connect
from tests.services.sandbox_account import SandboxAccount


@pytest.fixture
async def sandbox_account() -> AsyncIterator[SandboxAccount]:
    state = SandboxState(":memory:")
    keys = bootstrap_account(state, seed=11)
    now = [1_790_000_000_000]
    ctx = SandboxContext(state=state, account_id=keys.account_id, clock=lambda: now[0], base_url="http://127.0.0.1")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    conn = connect(
        settings,
        asgi_app=create_app(ctx),
        base_url="http://127.0.0.1",
        api_key=keys.admin_pat,
        org="default",
        project="payments",
    )
    try:
        yield SandboxAccount(conn, ctx, keys, now)
    finally:
        await conn.aclose()
        state.close()
