from __future__ import annotations

import re
import string
from collections.abc import Iterator
from typing import Any

from harness_connector.domain.status import ExecutionStatus as S
from harness_connector.sandbox.model import ExecutionRecord, LogRecipe, StepRun
from harness_connector.sandbox.scenario import render_log
from harness_connector.sandbox.scenario.families import FAMILIES

START = 1_790_000_000_000
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
PLACEHOLDER = re.compile(r"\{[a-z][a-z0-9_]*\}")
MARKUP = re.compile(r"<[gry bcB]>|</>|^[EW]\||^\*")


def _maven(seed: int = 7, lines: int = 400, **params: Any) -> LogRecipe:
    return LogRecipe(family="install:maven", seed=seed, lines=lines, params={"service": "payments-api", **params})


def _plain(lines: list[tuple[str, str, str]]) -> list[str]:
    return [ANSI.sub("", out) for _, _, out in lines]


def test_the_same_recipe_renders_the_same_lines_and_another_seed_does_not() -> None:
    first = list(render_log(_maven(), start_ts_ms=START))
    assert first == list(render_log(_maven(), start_ts_ms=START))
    assert first != list(render_log(_maven(seed=8), start_ts_ms=START))


def test_lines_have_a_level_a_millisecond_utc_time_in_order_within_the_step() -> None:
    duration = 95_000
    lines = list(render_log(_maven(duration_ms=duration), start_ts_ms=START))
    assert {level for level, _, _ in lines} <= {"INFO", "WARN", "ERROR"}
    times = [time for _, time, _ in lines]
    assert all(TIME.match(t) for t in times)
    assert times == sorted(times)
    assert times[0] >= "2026-09-21T14:13:20.000Z" and times[-1] <= "2026-09-21T14:14:55.000Z"


def test_a_long_build_renders_thousands_of_lines_as_a_stream() -> None:
    stream = render_log(_maven(lines=5_000), start_ts_ms=START)
    assert isinstance(stream, Iterator)
    level, _, first = next(stream)
    assert level == "INFO" and first
    assert 1 + sum(1 for _ in stream) >= 4_500


def test_build_output_keeps_its_ansi_colours() -> None:
    lines = list(render_log(_maven(), start_ts_ms=START))
    assert any("\x1b[" in out for _, _, out in lines)


def _fragments(lines: tuple[str, ...]) -> list[str]:
    """The longest literal piece of each line template (what any rendering of it must contain)."""
    found = []
    for raw in lines:
        if raw.startswith("*"):
            continue
        text = MARKUP.sub("", raw.removeprefix("E|").removeprefix("W|"))
        pieces = [literal.strip() for literal, _, _, _ in string.Formatter().parse(text)]
        longest = max(pieces, key=len, default="")
        if len(longest) >= 8:
            found.append(longest)
    return found


def _failing_step(record: ExecutionRecord, stage_id: str, step_id: str) -> StepRun:
    stage = next(s for s in record.stages if s.identifier == stage_id)
    return next(s for s in stage.steps if s.identifier == step_id)


def test_a_failed_steps_log_ends_with_its_familys_lines(truth: dict[str, Any], records: list[ExecutionRecord]) -> None:
    by_id = {r.plan_execution_id: r for r in records}
    checked: set[str] = set()
    for execution_id, failure in sorted(truth["executions"].items()):
        if failure["family"] in checked:
            continue
        step = _failing_step(by_id[execution_id], failure["stage"], failure["step"])
        assert step.log is not None and step.start_ts is not None
        family = FAMILIES[failure["family"]]
        params = step.log.params
        variants = family.variants(step.log.family, str(params.get("toolchain")), str(params.get("role")))
        rendered = _plain(list(render_log(step.log, start_ts_ms=step.start_ts)))
        text = "\n".join(rendered)
        if variants:
            for fragment in _fragments(variants[int(params.get("variant", 0)) % len(variants)]):
                assert fragment in text, f"{family.id}: {fragment!r} missing from the log"
        for test in failure["failed_tests"]:
            assert test.split("::")[1] in text, f"{family.id}: failing test {test} missing from the log"
        checked.add(family.id)
    assert checked == set(FAMILIES)


def test_logs_of_generated_steps_leave_no_placeholder_unfilled(records: list[ExecutionRecord]) -> None:
    rendered = 0
    for record in records[::12]:
        for stage in record.stages:
            for step in stage.steps:
                if step.log is None or step.start_ts is None:
                    continue
                for _, _, out in render_log(step.log, start_ts_ms=step.start_ts):
                    assert not PLACEHOLDER.search(out), (step.log.family, out)
                rendered += 1
    assert rendered > 100


def test_a_step_still_running_has_no_summary_yet(records: list[ExecutionRecord]) -> None:
    running = [s for r in records for st in r.stages for s in st.steps if s.status == S.RUNNING and s.log]
    assert running
    for step in running:
        assert step.log is not None and step.start_ts is not None
        text = "\n".join(_plain(list(render_log(step.log, start_ts_ms=step.start_ts))))
        assert "BUILD SUCCESS" not in text and "successfully rolled out" not in text
