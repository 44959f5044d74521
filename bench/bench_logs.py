"""Throughput and memory of the step-log parser on a large Harness JSON-lines log.

Writes a deterministic ~200 MB log (set BENCH_LOG_MB to change the size) of realistic build output with ANSI
colours, timestamps and some ERROR lines, then parses it twice: straight from the file in 64 KiB chunks, and
through `HarnessClient` + `LogService.stream_step_log` with a mock transport that streams the same file.
Prints MB/s, lines/s and the process's peak RSS, which should stay under 200 MB whatever the log size.

Run: `python -m bench.bench_logs` (or `make bench` for every benchmark).
"""

from __future__ import annotations

import json
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx2

from harness_connector.domain.logs import LogLine
from harness_connector.harness.client import HarnessClient
from harness_connector.harness.logs import LogService, parse_log_lines

CHUNK = 64 * 1024
RSS_TARGET_MB = 200.0
_MB = 1024 * 1024

# (level, text with %d placeholders, number of placeholders): what a Maven/Go/Node build step prints.
_TEMPLATES: list[tuple[str, str, int]] = [
    ("INFO", "\x1b[36m[INFO]\x1b[0m Downloading from central: https://repo.maven.apache.org/maven2/org/lib%d.jar", 1),
    ("INFO", "\x1b[36m[INFO]\x1b[0m Downloaded lib%d.jar (%d kB at 1.2 MB/s)", 2),
    ("INFO", "+ go test ./pkg/service%d/... -run TestHandler%d -count=1", 2),
    ("INFO", "\x1b[32m--- PASS\x1b[0m: TestHandler%d (0.%03ds)", 2),
    ("INFO", "\x1b[1m\x1b[32m✓\x1b[39m\x1b[22m compiled module %d in %d ms", 2),
    ("INFO", "npm \x1b[33mWARN\x1b[39m deprecated package%d@1.%d.0: use something else", 2),
    ("INFO", "Step %d/%d : RUN apt-get install -y build-essential", 2),
    ("WARN", "\x1b[33mwarning:\x1b[0m unused variable `tmp%d` at src/lib%d.rs", 2),
    ("INFO", "\x1b]8;;https://app.harness.io/ng/#/logs/%d\x07open the full log\x1b]8;;\x07 (run %d)", 2),
    ("INFO", "Uploading artifact chunk %d of %d to gs://harness-artifacts/build/output.tar.gz", 2),
]
_ERRORS: list[tuple[str, str, int]] = [
    ("ERROR", "\x1b[1;31mERROR\x1b[0m dial tcp 10.0.%d.%d:5432: connect: connection refused", 2),
    ("ERROR", "\x1b[31m--- FAIL\x1b[0m: TestCheckout%d (0.%03ds)\n    checkout_test.go:42: expected 200, got 500", 2),
]


@dataclass(frozen=True, slots=True)
class Generated:
    path: Path
    size: int
    lines: int
    errors: int


def generate_log(path: Path, target_bytes: int, seed: int = 2024) -> Generated:
    """Write a deterministic Harness JSON-lines log of at least `target_bytes`, about 2 MB at a time."""
    rng = random.Random(seed)
    encoded = [(lvl, json.dumps(text + "\n", ensure_ascii=False)[1:-1], n) for lvl, text, n in _TEMPLATES + _ERRORS]
    normal, errors = encoded[: len(_TEMPLATES)], encoded[len(_TEMPLATES) :]
    size = lines = error_count = 0
    with path.open("wb") as out:
        while size < target_bytes:
            batch: list[str] = []
            for _ in range(10_000):
                if rng.random() < 0.02:
                    level, template, count = rng.choice(errors)
                    error_count += 1
                else:
                    level, template, count = rng.choice(normal)
                text = template % tuple(rng.randrange(1000) for _ in range(count))
                ms = lines * 7
                stamp = f"2024-05-01T{10 + ms // 3_600_000 % 14:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}"
                stamp += f".{ms % 1000:03d}Z"
                batch.append(f'{{"level":"{level}","pos":{lines},"out":"{text}","time":"{stamp}","args":{{}}}}\n')
                lines += 1
            data = "".join(batch).encode()
            out.write(data)
            size += len(data)
    return Generated(path=path, size=size, lines=lines, errors=error_count)


async def file_chunks(path: Path) -> AsyncIterator[bytes]:
    """The file in 64 KiB chunks, as a network body would arrive."""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / _MB if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    seconds: float
    lines: int
    errors: int


async def _count(name: str, lines: AsyncIterator[LogLine]) -> Result:
    started = time.perf_counter()
    total = errors = 0
    async for line in lines:
        total += 1
        errors += line.level == "ERROR"
    return Result(name, time.perf_counter() - started, total, errors)


async def parse_file(log: Generated) -> Result:
    return await _count("parse_log_lines(file, 64 KiB chunks)", parse_log_lines(file_chunks(log.path)))


async def parse_through_client(log: Generated) -> Result:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=file_chunks(log.path))

    transport = httpx2.MockTransport(handler)
    async with HarnessClient("https://app.harness.io", api_key="pat.bench.tok.secret", transport=transport) as client:
        lines = LogService(client).stream_step_log("bench/pipeline/build/1/-run/stage/step")
        return await _count("HarnessClient + LogService.stream_step_log", lines)


def report(log: Generated, result: Result) -> bool:
    mb = log.size / _MB
    ok = result.lines == log.lines and result.errors == log.errors
    print(
        f"{result.name:<45} {mb / result.seconds:7.1f} MB/s  {result.lines / result.seconds:11,.0f} lines/s  "
        f"{result.seconds:6.2f} s  peak RSS {peak_rss_mb():6.1f} MB  "
        f"{'counts OK' if ok else f'COUNT MISMATCH ({result.lines} lines, {result.errors} errors)'}"
    )
    return ok


def main() -> None:
    target_mb = float(os.environ.get("BENCH_LOG_MB", "200"))
    with tempfile.TemporaryDirectory(prefix="bench-logs-") as tmp:
        started = time.perf_counter()
        log = generate_log(Path(tmp) / "step.log", int(target_mb * _MB))
        print(
            f"generated {log.size / _MB:.1f} MB, {log.lines:,} lines ({log.errors:,} ERROR) "
            f"in {time.perf_counter() - started:.1f} s; peak RSS so far {peak_rss_mb():.1f} MB"
        )
        all_ok = True
        for run in (parse_file, parse_through_client):
            all_ok = report(log, anyio.run(run, log)) and all_ok
    peak = peak_rss_mb()
    verdict = "within" if peak < RSS_TARGET_MB else "OVER"
    print(f"peak RSS {peak:.1f} MB: {verdict} the {RSS_TARGET_MB:.0f} MB target")
    if not all_ok or peak >= RSS_TARGET_MB:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
