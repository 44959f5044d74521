"""Render a step's log from its recipe: deterministic, streamed, and fast enough for logs of any length.

A recipe names a template (`templates.py`), a seed and a length; its params fill placeholders and say whether
the step failed (`failure`: a family id of `families.py`, with `variant`, `progress` and, for test failures,
`failed_tests`). The same recipe always yields the same lines, so logs are stored as recipes and rendered on
request. Lines are compiled once per process; rendering a line is a `str.format_map` and a clock tick.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from harness_connector.sandbox.model import LogRecipe
from harness_connector.sandbox.scenario.failure import FailureFamily
from harness_connector.sandbox.scenario.families import FAMILIES
from harness_connector.sandbox.scenario.generators import GENERATORS, TIME_FIELDS, LineState, second_prefix
from harness_connector.sandbox.scenario.templates import TEMPLATES, LogTemplate
from harness_connector.sandbox.scenario.testcatalog import TestSpec, catalog
from harness_connector.sandbox.scenario.toolchains import TOOLCHAINS

__all__ = ["render_log"]

_ANSI = {
    "<g>": "\x1b[32m",
    "<r>": "\x1b[31m",
    "<y>": "\x1b[33m",
    "<b>": "\x1b[34m",
    "<c>": "\x1b[36m",
    "<B>": "\x1b[1m",
    "</>": "\x1b[0m",
}
_FORMATTER = string.Formatter()
_EMPTY = LogTemplate(id="")


@dataclass(frozen=True, slots=True)
class _Line:
    level: str
    text: str  # a format string when `fields` is non-empty, else the finished text
    fields: tuple[str, ...]
    per_failed_test: bool


@cache
def _compile(raw: str) -> _Line:
    per_failed_test = raw.startswith("*")
    if per_failed_test:
        raw = raw[1:]
    level = "INFO"
    if raw.startswith("E|"):
        level, raw = "ERROR", raw[2:]
    elif raw.startswith("W|"):
        level, raw = "WARN", raw[2:]
    for token, code in _ANSI.items():
        raw = raw.replace(token, code)
    fields = tuple(dict.fromkeys(name for _, name, _, _ in _FORMATTER.parse(raw) if name))
    return _Line(level, raw if fields else raw.format(), fields, per_failed_test)


def _block(lines: tuple[str, ...]) -> tuple[_Line, ...]:
    return tuple(_compile(line) for line in lines)


class _Fields(dict[str, str]):
    """Params first; a missing name is generated afresh for each line (or left visible when unknown)."""

    state: LineState

    def __missing__(self, key: str) -> str:
        generate = GENERATORS.get(key)
        return generate(self.state) if generate is not None else "{" + key + "}"


_DEFAULTS: dict[str, str] = {
    "service": "app",
    "namespace": "harness-builds",
    "pod": "build-0a1b2c3d",
    "container": "step-4",
    "image": "alpine:3.19",
    "repo": "app",
    "branch_local": "main",
    "sha": "0" * 40,
    "commit_subject": "update",
    "app_version": "1.0.0",
    "timeout": "10m",
    "replicas": "3",
    "canary_pods": "1",
    "environment": "staging",
    "selector": "ci",
    "task_id": "hQ2xXbN3TzWq8v0yP1cK4g",
    "gh_repo": "golangci/golangci-lint",
    "approver": "Alice Nguyen",
    "approver_group": "release-managers",
    "approval_comment": "LGTM",
    "cluster": "infra-eks",
    "duration_min": "10",
    "exit_code": "1",
}


def _base_fields(params: Mapping[str, Any], state: LineState) -> _Fields:
    fields = _Fields(_DEFAULTS)
    fields.state = state
    for key, value in params.items():
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            fields[key] = str(value)
    fields.setdefault("sha7", fields["sha"][:7])
    toolchain = TOOLCHAINS.get(fields.get("toolchain", ""))
    if toolchain is not None:
        named = [spec.rpartition("@") for spec in toolchain.packages]
        fields.setdefault("package_list", " ".join(name for name, _, _ in named))
        fields.setdefault("package_list_versions", " ".join(f"{name}-{version}" for name, _, version in named))
    if "package" in fields:
        fields.setdefault("package_base", fields["package"].rsplit("/", 1)[-1])
    base_image = fields.get("base_image", "debian:bookworm-slim")
    name, _, tag = base_image.partition(":")
    fields.setdefault("base_tag", tag or "latest")
    fields.setdefault("repository", name if "/" in name else f"library/{name}")
    artifact = fields.get("artifact", "registry.acme.io/app:latest")
    fields.setdefault("artifact_repo", artifact.split(":")[0])
    fields.setdefault("artifact_path", artifact.split(":")[0].split("/", 1)[-1])
    return fields


class _Layer(dict[str, str]):
    """A few values over other fields, without copying them."""

    parent: dict[str, str]

    def __missing__(self, key: str) -> str:
        return self.parent[key]


# Lines, the fields they are formatted with, and the generated names drawn once for the whole block.
Block = tuple[tuple[_Line, ...], dict[str, str], tuple[str, ...]]


def _overlay(base: dict[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    fields = _Layer(extra)
    fields.parent = base
    return fields


def _shared_names(base: _Fields, lines: tuple[_Line, ...]) -> tuple[str, ...]:
    """The generated values a multi-line block shares (the same dependency in both of its lines)."""
    if len(lines) < 2:
        return ()
    names = (name for line in lines for name in line.fields if name not in base and name in GENERATORS)
    return tuple(dict.fromkeys(names))


def _test_fields(spec: TestSpec, duration_ms: int, message: str) -> dict[str, str]:
    short = spec.class_name.rsplit(".", 1)[-1]
    return {
        "name": spec.name,
        "class_name": spec.class_name,
        "short_class": short,
        "suite": spec.suite,
        "file_name": spec.file_name,
        "file_base": spec.file_name.rsplit("/", 1)[-1],
        "method": spec.method,
        "dur_ms": str(duration_ms),
        "dur_s": f"{duration_ms / 1000:.2f}",
        "secs": f"{duration_ms / 1000:.3f}",
        "message": message,
    }


def _test_section(template: LogTemplate, base: _Fields, params: Mapping[str, Any], cutoff: float) -> list[Block]:
    """Per-test lines in runner order, grouped; stops at `cutoff` (a share of the suite) when the step died."""
    specs = catalog(str(params.get("tests_service", "")))
    failed = {(str(t.get("class_name")), str(t.get("name"))): str(t.get("message", "")) for t in _failed_tests(params)}
    rng = base.state.rng
    blocks: list[Block] = []
    per_test, per_failed, per_skipped = (
        _block(template.per_test),
        _block(template.per_test_failed),
        _block(template.per_test_skipped),
    )
    start, end = _block(template.group_start), _block(template.group_end)
    stop = max(1, int(len(specs) * cutoff)) if cutoff < 1 else len(specs)
    group_key = template.group_by
    index = 0
    while index < stop:
        group = getattr(specs[index], group_key)
        members = []
        while index < stop and getattr(specs[index], group_key) == group:
            members.append(specs[index])
            index += 1
        group_fields = {"group": group, "group_count": str(len(members))}
        if start:
            blocks.append((start, _overlay(base, group_fields), ()))
        group_ms = group_failed = group_skipped = 0
        for spec in members:
            ms = int(spec.base_ms * (0.6 + rng.random() * 0.8))
            message = failed.get((spec.class_name, spec.name))
            lines = per_skipped if spec.skipped else per_failed if message is not None else per_test
            group_failed += message is not None
            group_skipped += spec.skipped
            group_ms += ms
            if lines:
                blocks.append((lines, _overlay(base, _test_fields(spec, ms, message or "")), ()))
        if end:
            group_fields.update(group_failed=str(group_failed), group_skipped=str(group_skipped))
            group_fields["group_secs"] = f"{group_ms / 1000:.3f}"
            blocks.append((end, _overlay(base, group_fields), ()))
    return blocks


def _failed_tests(params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = params.get("failed_tests") or []
    return [t for t in found if isinstance(t, Mapping)] if isinstance(found, list) else []


def _summary(base: _Fields, params: Mapping[str, Any]) -> None:
    specs = catalog(str(params.get("tests_service", "")))
    if not specs:
        return
    failed = len(_failed_tests(params))
    skipped = sum(spec.skipped for spec in specs)
    base.update(
        total=str(len(specs)),
        failed=str(failed),
        skipped=str(skipped),
        passed=str(len(specs) - failed - skipped),
        groups=str(len({spec.file_name for spec in specs})),
    )


def _failure_tail(
    family: FailureFamily, base: _Fields, params: Mapping[str, Any], template: LogTemplate
) -> list[Block]:
    keys = (template.id, str(params.get("toolchain", "")), str(params.get("role", "")))
    variants = family.variants(*keys)
    if not variants:
        return []
    lines = _block(variants[int(params.get("variant", 0)) % len(variants)])
    failed = _failed_tests(params)
    # The failure's own numbers (a line and column, a request id) read the same on every line that names them.
    shared = [name for name in _shared_names(base, lines) if name not in TIME_FIELDS]
    tail = _overlay(base, {name: GENERATORS[name](base.state) for name in shared}) if shared else base
    blocks: list[Block] = []
    for line in lines:
        if not line.per_failed_test:
            blocks.append(((line,), tail, ()))
            continue
        for test in failed:
            spec = TestSpec(
                str(test.get("suite", "")),
                str(test.get("class_name", "")),
                str(test.get("name", "")),
                str(test.get("file_name", "")),
                str(test.get("method", "")),
                0,
                "",
            )
            fields = _test_fields(spec, int(test.get("duration_ms", 0)), str(test.get("message", "")))
            blocks.append(((line,), _overlay(tail, fields), ()))
    return blocks


def _plan(recipe: LogRecipe, base: _Fields) -> list[Block]:
    params = recipe.params
    rng = base.state.rng
    template = TEMPLATES.get(recipe.family, _EMPTY)
    family = FAMILIES.get(str(params.get("failure") or ""))
    unfinished = family is not None or bool(params.get("in_progress"))
    progress = float(params.get("progress", 0.3 + rng.random() * 0.6)) if unfinished else 1.0
    _summary(base, params)
    if family is not None and not family.runs_step:
        return _failure_tail(family, base, params, template)
    blocks: list[Block] = [((line,), base, ()) for line in _block(template.header)]
    tests: list[Block] = []
    if template.per_test or template.group_start:
        died_early = unfinished and (family is None or family.mode != "test")
        tests = _test_section(template, base, params, progress if died_early else 1.0)
    if family is not None:
        tail = _failure_tail(family, base, params, template)
    elif unfinished:
        tail = []  # still running (or aborted): no summary yet
    else:
        tail = [((line,), base, ()) for line in _block(template.footer)]
    used = len(blocks) + sum(len(block[0]) for block in tests) + sum(len(block[0]) for block in tail)
    budget = int(max(0, recipe.lines - used) * (progress if unfinished and not tests else 1.0))
    body = [_block(lines) for lines in template.body]
    shared = [_shared_names(base, lines) for lines in body]
    filler: list[Block] = []
    while body and budget > 0:
        pick = int(rng.random() * len(body))
        filler.append((body[pick], base, shared[pick]))
        budget -= len(body[pick])
    if tests:
        # App output printed while the tests ran lands between the runner's groups.
        step = max(1, len(tests) // (len(filler) + 1))
        merged: list[Block] = []
        for i, block in enumerate(tests):
            merged.append(block)
            if filler and i % step == step - 1:
                merged.append(filler.pop())
        blocks += merged + filler
    else:
        blocks += filler
    return blocks + tail


def render_log(recipe: LogRecipe, *, start_ts_ms: int) -> Iterator[tuple[str, str, str]]:
    """Yield (level, RFC3339 time with millis, text) for each line of the step log `recipe` describes."""
    rng = random.Random(recipe.seed)
    state = LineState(rng, start_ts_ms)
    base = _base_fields(recipe.params, state)
    blocks = _plan(recipe, base)
    count = sum(len(block[0]) for block in blocks) or 1
    duration = int(recipe.params.get("duration_ms", count * 40))
    # Line i lands in the i-th slice of the step's duration: times increase and end with the step.
    step = max(duration - 1, 0) / count
    random_ = rng.random
    index = 0
    last_second = start_ts_ms // 1000
    prefix = state.prefix
    for lines, fields, shared in blocks:
        if shared:
            fields = _overlay(base, {name: GENERATORS[name](state) for name in shared})
        for line in lines:
            now = start_ts_ms + int((index + random_()) * step)
            index += 1
            second = now // 1000
            if second != last_second:
                last_second = second
                prefix = state.prefix = second_prefix(second)
            state.now = now
            text = line.text.format_map(fields) if line.fields else line.text
            yield line.level, f"{prefix}{now % 1000:03d}Z", text
