"""Latency and memory of investigating a failed build whose failed step logged 500,000 lines, end to end.

Prepares a one-day sandbox scenario, serves it from a separate process (`harness-connector sandbox`, so the
server's work is not counted in ours), takes a failed execution of a CI pipeline, and puts BENCH_INVESTIGATE_LINES
(default 500,000) lines of ordinary Maven output in front of its failed step's log: downloads, compiles, test
classes passing, a few harmless "0 errors" and warnings. Then times `investigate_execution` over HTTP (locate,
graph, the whole log streamed and scanned, the last successful run's log as baseline, classification), best of
three, and prints the process's peak RSS, which must not grow with the log. Goal: < 3 s.

Run: `python -m bench.bench_investigate` (or `make bench` for every benchmark).
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx2

from harness_connector.cli.embedded import open_embedded, prepare_sandbox
from harness_connector.harness.client import HarnessClient
from harness_connector.harness.logs import LogService
from harness_connector.sandbox import SandboxState
from harness_connector.services.connection import Connection
from harness_connector.services.diagnose_execution import analyse_execution
from harness_connector.services.investigate import investigate_execution

GOAL_S = 3.0
SEED = 42
_NOISE = (
    "[INFO] Downloading from central: https://repo.maven.apache.org/maven2/org/acme/lib{n}/1.{m}.0/lib{n}-1.{m}.0.pom",
    "[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/org/acme/lib{n}/1.{m}.0/lib{n}-1.{m}.0.jar "
    "({m}.{n} kB at 1.{m} MB/s)",
    "[INFO] Compiling {n} source files with javac [debug release 17] to target/classes",
    "[INFO] Running com.acme.payments.service{m}.Ledger{n}Test",
    "[INFO] Tests run: {m}, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 0.{n} s - in com.acme.Ledger{n}Test",
    "[WARNING] Parameter 'skipTests' is unknown for plugin 'maven-jar-plugin:3.3.0:jar (default-jar)'",
    "10:0{m}:{n:02d}.123 INFO  c.a.p.Ledger - settled batch {n} of {m} with 0 errors in {n} ms",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _noise(count: int) -> list[tuple[str, str, str]]:
    when = "2026-11-01T10:00:00Z"
    return [("INFO", when, _NOISE[i % len(_NOISE)].format(n=i % 97, m=i % 9)) for i in range(count)]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _pick(conn: Connection, truth: dict[str, dict[str, object]]) -> tuple[str, str, str, str]:
    """A failed CI execution whose root-cause step has a log: (execution, org, project, log key)."""
    for execution_id, expected in sorted(truth.items()):
        if expected["category"] not in ("compile_error", "dependency_registry_outage", "test_failure"):
            continue
        org, project = str(expected["org"]), str(expected["project"])
        analysed = await analyse_execution(conn, execution_id=execution_id, org_id=org, project_id=project)
        if analysed.log_targets and analysed.log_targets[0].ranked.node.log_keys:
            return execution_id, org, project, analysed.log_targets[0].ranked.node.log_keys[0]
    raise RuntimeError("the scenario has no failed CI step with a log")


async def _original(conn: Connection, key: str) -> list[tuple[str, str, str]]:
    return [(line.level, line.time or "", line.text) async for line in LogService(conn.client).stream_step_log(key)]


def main() -> None:
    count = int(os.environ.get("BENCH_INVESTIGATE_LINES", "500000"))
    with tempfile.TemporaryDirectory(prefix="bench-investigate-") as tmp:
        path = prepare_sandbox(Path(tmp) / "sandbox.sqlite", seed=SEED, days=1)
        truth = json.loads(path.with_suffix(".truth.json").read_text())["executions"]
        embedded = open_embedded(path)
        keys = embedded.keys
        embedded.state.close()
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "harness_connector", "sandbox", "--db", str(path), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx2.get(f"{base_url}/health", timeout=1)
                    break
                except httpx2.HTTPError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the sandbox server did not start") from None
                    time.sleep(0.2)
            anyio.run(_run, base_url, keys.admin_pat, keys.account_id, truth, path, count)
        finally:
            server.terminate()
            server.wait(timeout=10)


async def _run(
    base_url: str, key: str, account: str, truth: dict[str, dict[str, object]], path: Path, count: int
) -> None:
    client = HarnessClient(base_url, api_key=key, rate_limit_rps=10_000)
    conn = Connection(client=client, account_id=account, org=None, project=None)
    execution_id, org, project, log_key = await _pick(conn, truth)
    original = await _original(conn, log_key)
    state = SandboxState(path)
    state.append_log_lines(log_key, _noise(count) + original)
    state.close()
    print(f"failed step log: {count + len(original):,} lines ({len(original)} of them the failure's own)")
    rss_before = peak_rss_mb()
    times = []
    verdict = None
    for _ in range(3):
        started = time.perf_counter()
        found = await investigate_execution(conn, execution_id=execution_id, org_id=org, project_id=project)
        times.append(time.perf_counter() - started)
        verdict = found.verdict
    await conn.aclose()
    assert verdict is not None
    best = min(times)
    print(f"verdict: {verdict.category}, transient {verdict.transient}, rule {verdict.rule} "
          f"(truth: {truth[execution_id]['category']})")  # fmt: skip
    print(f"investigation: best {best:.2f} s, runs {', '.join(f'{t:.2f}' for t in times)} s "
          f"({(count + len(original)) / best:,.0f} log lines/s); goal < {GOAL_S:.0f} s: "
          f"{'met' if best < GOAL_S else 'MISSED'}")  # fmt: skip
    print(f"peak RSS {peak_rss_mb():.0f} MB (before investigating {rss_before:.0f} MB)")


if __name__ == "__main__":
    main()
