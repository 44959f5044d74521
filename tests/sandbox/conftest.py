"""A sandbox served over real HTTP on 127.0.0.1, for tests that drive it with the project's client."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn

from harness_connector.sandbox import (
    AccountKeys,
    Faults,
    SandboxContext,
    SandboxState,
    bootstrap_account,
    create_app,
)


@dataclass
class RunningSandbox:
    base_url: str
    keys: AccountKeys
    ctx: SandboxContext


class _Clock:
    """A settable sandbox clock (epoch ms) so tests decide what 'now' is."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_sandbox(ctx: SandboxContext) -> Iterator[str]:
    """Serve the app on a free loopback port until the generator is closed; yields the base URL."""
    port = _free_port()
    ctx.base_url = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.01)
    try:
        yield ctx.base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def sandbox_clock() -> _Clock:
    return _Clock(1_790_000_000_000)


@pytest.fixture
def sandbox_server(sandbox_clock: _Clock) -> Iterator[RunningSandbox]:
    """An empty sandbox account (no scenario) over real HTTP, with faults off."""
    state = SandboxState(":memory:")
    keys = bootstrap_account(state, seed=7)
    ctx = SandboxContext(state=state, account_id=keys.account_id, clock=sandbox_clock, faults=Faults())
    for base_url in serve_sandbox(ctx):
        yield RunningSandbox(base_url, keys, ctx)
    state.close()
