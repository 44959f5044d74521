"""A full sync of the default sandbox scenario into a new history store, over real HTTP on loopback.

Generates the default scenario (seed 42; BENCH_SYNC_DAYS days, default 30, the `make run` account), serves it with
uvicorn on 127.0.0.1 in a thread, and syncs every project of every organisation with `sync_project` (the code
behind `harness-connector sync`), four executions at a time, into a DuckDB file. Prints, per project and in
total: executions synced, executions/s, API requests per execution, test results and log signatures stored, and
the store's size. Harness's test-report service answers test cases one suite at a time, so a CI build costs one
request per suite; the figure shows how much of the request count that is.

Run: `python -m bench.bench_sync` (or `make bench` for every benchmark).
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import uvicorn

from harness_connector.harness.client import HarnessClient
from harness_connector.harness.registry import get_resource_type
from harness_connector.sandbox import Faults, SandboxContext, SandboxState, create_app, open_account
from harness_connector.sandbox.scenario import generate_scenario
from harness_connector.services.connection import Connection
from harness_connector.services.sync import SyncReport, sync_project
from harness_connector.store import open_store

SEED = 42
ANCHOR_MS = 1_790_006_400_000
CONCURRENCY = 4


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(ctx: SandboxContext) -> Iterator[str]:
    """The sandbox app on a loopback port, in a thread, until the block ends."""
    port = _free_port()
    ctx.base_url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.01)
    try:
        yield ctx.base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def _projects(conn: Connection) -> list[tuple[str, str]]:
    orgs = await conn.client.call(get_resource_type("organization"), "list", {}, page=0, size=100)
    found: list[tuple[str, str]] = []
    for org in orgs.items:
        org_id = str((org.get("organization") or org).get("identifier"))
        projects = await conn.client.call(get_resource_type("project"), "list", {"org_id": org_id}, page=0, size=100)
        found.extend((org_id, str((p.get("project") or p).get("identifier"))) for p in projects.items)
    return found


async def sync_everything(base_url: str, api_key: str, account_id: str, store_path: Path) -> list[SyncReport]:
    client = HarnessClient(base_url, api_key=api_key, rate_limit_rps=10_000)
    conn = Connection(client=client, account_id=account_id, org=None, project=None)
    store = open_store(store_path)
    reports: list[SyncReport] = []
    try:
        for org, project in await _projects(conn):
            reports.append(
                await sync_project(
                    conn,
                    store,
                    org=org,
                    project=project,
                    since_ms=0,
                    now_ms=ANCHOR_MS,
                    concurrency=CONCURRENCY,
                )
            )
    finally:
        store.close()
        await conn.aclose()
    return reports


def main() -> None:
    days = int(os.environ.get("BENCH_SYNC_DAYS", "30"))
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        directory = Path(tmp)
        state = SandboxState(directory / "sandbox.sqlite")
        started = time.perf_counter()
        summary = generate_scenario(state, seed=SEED, days=days, anchor_ms=ANCHOR_MS)
        print(f"scenario: seed {SEED}, {days} days, {summary.executions:,} executions, generated in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        keys = open_account(state)
        assert keys is not None
        ctx = SandboxContext(state=state, account_id=keys.account_id, clock=lambda: ANCHOR_MS, faults=Faults())
        store_path = directory / "history.duckdb"
        with served(ctx) as base_url:
            started = time.perf_counter()
            reports = anyio.run(sync_everything, base_url, keys.admin_pat, keys.account_id, store_path)
            seconds = time.perf_counter() - started
        state.close()
        print(
            f"{'project':<24}{'executions':>11}{'exec/s':>8}{'req/exec':>9}{'tests':>10}{'signatures':>11}{'errors':>7}"
        )
        for r in reports:
            rate = r.new_executions / r.seconds if r.seconds else 0.0
            per = r.requests_made / r.new_executions if r.new_executions else 0.0
            print(f"{r.org + '/' + r.project:<24}{r.new_executions:>11,}{rate:>8.1f}{per:>9.1f}{r.test_results:>10,}"
                  f"{r.log_signatures:>11,}{len(r.errors):>7}")  # fmt: skip
        executions = sum(r.new_executions for r in reports)
        requests = sum(r.requests_made for r in reports)
        print(
            f"total: {executions:,} executions in {seconds:.1f} s = {executions / seconds:.1f} executions/s, "
            f"{requests / max(executions, 1):.1f} requests per execution ({requests:,} requests), "
            f"{sum(r.test_results for r in reports):,} test results, "
            f"store {store_path.stat().st_size / 2**20:.1f} MiB"
        )


if __name__ == "__main__":
    main()
