"""Throughput and memory of the JUnit reader on a 1-million-case Surefire-like report.

Writes a deterministic aggregated Surefire report (10,000 suites of 100 cases, about 130 MB; set
BENCH_JUNIT_CASES to change the size) with failures, errors, skips, `flakyFailure` and `rerunFailure` reruns and
captured output, then reads it three ways on the same file:

1. the floor: lxml's `iterparse` walking the file with the reader's options and nothing else (no attribute
   reads, no records), which no lxml-based reader can beat;
2. the stdlib peer: `xml.etree.ElementTree.iterparse` counting test cases (no records);
3. the reader: `stream_into` with a sink that drops the batches, i.e. everything but the store.

Prints cases/s for each (CPU time, steadier than the wall clock on a shared machine), the reader's records/s, MB/s
and the process's peak RSS (which must stay flat whatever the file size), then where the reader's time per case
goes, measured stage by stage on a 100,000-case sample.
Goal: 300,000 cases/s. Run: `python -m bench.bench_junit` (or `make bench` for every benchmark).
"""

from __future__ import annotations

import os
import random
import resource
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness_connector.junit import JUnitContext, stream_into
from harness_connector.junit.safety import xml_events

GOAL_CASES_PER_S = 300_000
CASES_PER_SUITE = 100
_MB = 1024 * 1024

_FAILURE = (
    '<testcase name="{name}" classname="{cls}" time="{time}">'
    '<failure message="expected: &lt;200&gt; but was: &lt;{code}&gt;" type="org.opentest4j.AssertionFailedError">'
    "<![CDATA[org.opentest4j.AssertionFailedError: expected: <200> but was: <{code}>\n"
    "\tat org.junit.jupiter.api.AssertionUtils.fail(AssertionUtils.java:55)\n"
    "\tat {cls}.{name}({short}.java:{line})\n]]></failure>"
    "<system-out><![CDATA[10:00:0{digit}.123 INFO  {short} - request {code} took {line} ms\n]]></system-out>"
    "</testcase>\n"
)
_ERROR = (
    '<testcase name="{name}" classname="{cls}" time="{time}">'
    '<error message="Connection refused: localhost/127.0.0.1:5432" type="java.net.ConnectException">'
    "<![CDATA[java.net.ConnectException: Connection refused\n\tat {cls}.{name}({short}.java:{line})\n]]></error>"
    "</testcase>\n"
)
_FLAKY = (
    '<testcase name="{name}" classname="{cls}" time="{time}">'
    '<flakyFailure message="Timed out after 5 seconds" type="org.awaitility.core.ConditionTimeoutException">'
    "<stackTrace><![CDATA[org.awaitility.core.ConditionTimeoutException: Timed out after 5 seconds\n"
    "\tat {cls}.{name}({short}.java:{line})\n]]></stackTrace></flakyFailure></testcase>\n"
)
_RERUN = (
    '<testcase name="{name}" classname="{cls}" time="{time}">'
    '<failure message="expected: &lt;0&gt; but was: &lt;{code}&gt;" type="org.opentest4j.AssertionFailedError">'
    "<![CDATA[org.opentest4j.AssertionFailedError: expected: <0> but was: <{code}>]]></failure>"
    '<rerunFailure message="expected: &lt;0&gt; but was: &lt;{code}&gt;" type="org.opentest4j.AssertionFailedError">'
    "<stackTrace><![CDATA[org.opentest4j.AssertionFailedError]]></stackTrace></rerunFailure></testcase>\n"
)
_SKIPPED = '<testcase name="{name}" classname="{cls}" time="0"><skipped message="disabled on CI"/></testcase>\n'
_PASSED = '<testcase name="{name}" classname="{cls}" time="{time}"/>\n'
_VERBS = ("handles", "rejects", "retries", "caches", "serialises", "validates", "routes", "refunds")
_NOUNS = ("Order", "Payment", "Invoice", "Customer", "Cart", "Shipment", "Coupon", "Refund")


@dataclass(frozen=True, slots=True)
class Generated:
    path: Path
    size: int
    cases: int


def generate_report(path: Path, cases: int, seed: int = 2024) -> Generated:
    """Write a deterministic aggregated Surefire report; about 2% failures, 0.5% flaky, 0.2% reruns, 1% skips."""
    rng = random.Random(seed)
    written = suite = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="aggregate">\n')
        while written < cases:
            count = min(CASES_PER_SUITE, cases - written)
            short = f"{_NOUNS[suite % 8]}Service{suite}Test"
            cls = f"com.example.shop.module{suite % 40}.{short}"
            out.write(f'<testsuite name="{cls}" time="4.2" tests="{count}" errors="0" skipped="0" failures="0">\n')
            out.write('<properties><property name="java.version" value="17.0.9"/></properties>\n')
            parts: list[str] = []
            for k in range(count):
                roll = rng.random()
                template = (
                    _FAILURE
                    if roll < 0.02
                    else _ERROR
                    if roll < 0.025
                    else _FLAKY
                    if roll < 0.03
                    else _RERUN
                    if roll < 0.032
                    else _SKIPPED
                    if roll < 0.042
                    else _PASSED
                )
                name = f"{_VERBS[k % 8]}{_NOUNS[(k // 8) % 8]}When{k}Valid"
                parts.append(
                    template.format(
                        name=name,
                        cls=cls,
                        short=short,
                        time=f"{rng.random() * 0.4:.3f}",
                        code=500 + k % 4,
                        line=20 + k,
                        digit=k % 10,
                    )
                )
            out.write("".join(parts))
            out.write("</testsuite>\n")
            written += count
            suite += 1
        out.write("</testsuites>\n")
    return Generated(path, path.stat().st_size, written)


def lxml_floor(path: Path) -> int:
    """Walk the file as the reader does (same options, same deletion of finished cases), doing nothing else."""
    count = swept = 0
    for event, element in xml_events(str(path), chunk_size=256 * 1024):
        if event == "start":
            continue
        tag = element.tag
        if tag == "testcase":
            count += 1
            swept += 1
            if swept == 256:
                swept = 0
                parent = element.getparent()
                if parent is not None:
                    del parent[: parent.index(element)]
        elif tag == "testsuite":
            element.clear()
            parent = element.getparent()
            if parent is not None:
                del parent[: parent.index(element)]
    return count


def lxml_with_attributes(path: Path) -> int:
    """The floor plus the five attribute reads the reader makes per case."""
    count = swept = 0
    for event, element in xml_events(str(path), chunk_size=256 * 1024):
        if event == "start" or element.tag != "testcase":
            continue
        get = element.get
        get("name"), get("classname"), get("time"), get("file"), get("status")
        count += 1
        swept += 1
        if swept == 256:
            swept = 0
            parent = element.getparent()
            if parent is not None:
                del parent[: parent.index(element)]
    return count


def stdlib_peer(path: Path) -> int:
    """xml.etree's iterparse counting test cases, clearing as it goes (no records)."""
    count = 0
    for _event, element in ElementTree.iterparse(path, events=("end",)):
        if element.tag == "testcase":
            count += 1
            element.clear()
        elif element.tag == "testsuite":
            element.clear()
    return count


def reader(path: Path) -> int:
    """The JUnit reader end to end, minus the store: records are built, batched and dropped."""
    context = JUnitContext(execution_id="bench-exec", pipeline_id="build", commit_sha="abc123", branch="main")
    summary = stream_into(path, context, lambda batch: None, batch_size=10_000)
    return summary.records


@dataclass(frozen=True, slots=True)
class Timed:
    count: int
    wall_s: float
    cpu_s: float


def timed(run: Callable[[Path], int], path: Path) -> Timed:
    wall, cpu = time.perf_counter(), time.process_time()
    count = run(path)
    return Timed(count, time.perf_counter() - wall, time.process_time() - cpu)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>12,.0f}/s" if seconds > 0 else "n/a"


def breakdown(directory: Path) -> None:
    """Microseconds per case on a 100,000-case prefix, stage by stage (CPU time, best of three), and the shares."""
    sample = generate_report(directory / "sample.xml", 100_000)
    stages: list[tuple[str, Callable[[Path], int]]] = [
        ("lxml building and walking the tree", lxml_floor),
        ("lxml attribute reads (5 per case)", lxml_with_attributes),
        ("Python per case (id, outcome, record)", reader),
    ]
    print("where a case's time goes (CPU µs per case, best of 3, 100,000-case sample):")
    costs: list[tuple[str, float]] = []
    previous = 0.0
    for label, run in stages:
        per_case = min(timed(run, sample.path).cpu_s for _ in range(3)) / sample.cases * 1e6
        costs.append((label, per_case - previous))
        print(f"  {label:<40} +{per_case - previous:5.2f} µs  (cumulative {per_case:5.2f} µs)")
        previous = per_case
    sample.path.unlink()
    shares = ", ".join(f"{label} {cost / previous:.0%}" for label, cost in sorted(costs, key=lambda c: -c[1]))
    print(f"what dominates: {shares}")


def main() -> None:
    cases = int(os.environ.get("BENCH_JUNIT_CASES", "1000000"))
    with tempfile.TemporaryDirectory(prefix="bench-junit-") as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        report = generate_report(directory / "TEST-aggregate.xml", cases)
        print(
            f"generated {report.cases:,} cases, {report.size / _MB:.1f} MB in {time.perf_counter() - started:.1f} s "
            f"(load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs)"
        )
        # The reader runs first, so the peak RSS read after it is its own (ru_maxrss only ever grows).
        rss_before = peak_rss_mb()
        ours = timed(reader, report.path)
        rss_after = peak_rss_mb()
        floor = timed(lxml_floor, report.path)
        peer = timed(stdlib_peer, report.path)
        print(f"lxml floor (events only)      {_rate(floor.count, floor.cpu_s)} cases  ({floor.wall_s:.1f} s wall)")
        print(f"peer: stdlib ElementTree       {_rate(peer.count, peer.cpu_s)} cases  ({peer.wall_s:.1f} s wall)")
        print(
            f"reader (stream_into, no store) {_rate(report.cases, ours.cpu_s)} cases  "
            f"{_rate(ours.count, ours.cpu_s)} records  {report.size / _MB / ours.cpu_s:.1f} MB/s  "
            f"({ours.cpu_s:.1f} s CPU; {report.cases / ours.wall_s:,.0f} cases/s by the wall clock)"
        )
        print(f"peak RSS {rss_after:.0f} MB (before parsing {rss_before:.0f} MB): memory stays flat with file size")
        verdict = "met" if report.cases / ours.cpu_s >= GOAL_CASES_PER_S else "MISSED"
        print(f"goal {GOAL_CASES_PER_S:,} cases/s: {verdict}")
        breakdown(directory)


if __name__ == "__main__":
    main()
