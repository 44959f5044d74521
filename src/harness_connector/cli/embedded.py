"""The embedded sandbox: a generated Harness account on disk, served in-process when no API key is set.

The scenario is generated once per seed and length into a file under the data directory (in a temporary file
renamed into place, so an interrupted generation leaves nothing half-written). Its history ends at the moment it
was generated; the sandbox's clock starts there when opened, so "the last 24 hours" always has activity.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from harness_connector.config import Settings
from harness_connector.sandbox import AccountKeys, SandboxContext, SandboxState, create_app, open_account
from harness_connector.sandbox.scenario import generate_scenario
from harness_connector.services.connection import Connection, connect

__all__ = ["MAIN_ORG", "MAIN_PROJECT", "EmbeddedSandbox", "open_embedded", "prepare_sandbox", "sandbox_connection"]

MAIN_ORG, MAIN_PROJECT = "default", "payments"
SANDBOX_BASE_URL = "http://127.0.0.1"
_HOUR_MS = 3_600_000


@dataclass
class EmbeddedSandbox:
    """An opened sandbox: its state, keys, and the clock it runs on."""

    state: SandboxState
    keys: AccountKeys
    clock: Callable[[], int]
    anchor_ms: int


def _say(message: str) -> None:
    # stdout is the MCP wire on stdio; everything for people goes to stderr.
    print(message, file=sys.stderr, flush=True)


def prepare_sandbox(path: Path, *, seed: int, days: int, reset: bool = False) -> Path:
    """Make sure a generated scenario exists at `path`; generate it when missing or when asked to reset."""
    if path.exists() and not reset and _scenario_of(path) is not None:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    _say(f"generating the sandbox scenario (seed {seed}, {days} days) into {path} ...")
    started = time.monotonic()
    anchor = int(time.time() * 1000) // _HOUR_MS * _HOUR_MS
    state = SandboxState(partial)
    try:
        summary = generate_scenario(
            state,
            seed=seed,
            days=days,
            anchor_ms=anchor,
            truth_path=path.with_suffix(".truth.json"),
            events_path=path.with_suffix(".events.jsonl"),
        )
    finally:
        state.close()
    os.replace(partial, path)
    for stale in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    _say(f"generated {summary.executions} executions in {time.monotonic() - started:.1f}s")
    return path


def _scenario_of(path: Path) -> dict[str, int] | None:
    state = SandboxState(path)
    try:
        raw = state.get_meta("scenario")
    finally:
        state.close()
    return json.loads(raw) if raw else None


def open_embedded(path: Path) -> EmbeddedSandbox:
    """Open a prepared sandbox with a clock that starts at the end of its history."""
    scenario = _scenario_of(path)
    state = SandboxState(path)
    keys = open_account(state)
    if keys is None or scenario is None:
        state.close()
        raise RuntimeError(f"{path} holds no sandbox scenario; run `harness-connector sandbox --reset`")
    # The clock resumes after the latest thing that happened, so runs started before a restart never end before
    # they began.
    latest = state.query("SELECT max(max(start_ts, coalesce(end_ts, 0))) FROM executions")[0][0]
    anchor = max(int(scenario["anchor_ms"]), int(latest or 0))
    offset = max(0, int(time.time() * 1000) - anchor)

    def clock() -> int:
        return int(time.time() * 1000) - offset

    return EmbeddedSandbox(state=state, keys=keys, clock=clock, anchor_ms=anchor)


@asynccontextmanager
async def sandbox_connection(settings: Settings, sandbox: EmbeddedSandbox) -> AsyncIterator[Connection]:
    """A connection to the sandbox through an in-process ASGI transport (no port is opened)."""
    ctx = SandboxContext(
        state=sandbox.state, account_id=sandbox.keys.account_id, clock=sandbox.clock, base_url=SANDBOX_BASE_URL
    )
    conn = connect(
        # The sandbox runs in this process: a client-side rate limit would only slow it down.
        settings.model_copy(update={"rate_limit_rps": 10_000.0}),
        asgi_app=create_app(ctx),
        base_url=SANDBOX_BASE_URL,
        api_key=sandbox.keys.admin_pat,
        org=settings.org or MAIN_ORG,
        project=settings.project or MAIN_PROJECT,
    )
    try:
        yield conn
    finally:
        await conn.aclose()
