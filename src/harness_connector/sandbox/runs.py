"""Starting runs from pipeline YAML and moving them along the sandbox clock.

A run is an `ExecutionRecord` built from the pipeline's YAML once its runtime inputs are resolved. From then on it
changes only through `advance` (the clock), `interrupt` (abort, pause, resume) and `decide_approval`; each is a pure
function from record to record. `refresh` and `commit` are the only places that touch state: they store the new
record and append the live log lines of the steps that started or finished in between, so logs stream while a run
is in progress.

A step needs a connected delegate matching its selectors. On a live delegate (a delegate agent that registered
through the delegate protocol), `Run` and `ShellScript` steps run for real: starting the step queues a delegate
task, and the task's result, read back on every refresh, ends the step (or its timeout does). Other steps are
simulated, small on purpose (`_outcome`): they take a planned time derived from their ids, and fail only when their
script says `exit N`. A failed step then meets its failure strategy (retry, ignore, mark as success, abort).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harness_connector.domain.status import ExecutionStatus
from harness_connector.sandbox import delegate_tasks, failure_strategies, log_keys
from harness_connector.sandbox.delegate_tasks import TaskEnd
from harness_connector.sandbox.envelopes import ApiError
from harness_connector.sandbox.model import ExecutionRecord, StageRun, StepRun
from harness_connector.sandbox.render import stage_groups, step_node_id, step_units
from harness_connector.sandbox.state import SandboxState
from harness_connector.sandbox.step_tasks import TASK_STEP_TYPES, end_step, task_payload

__all__ = [
    "NO_DELEGATE",
    "Delegate",
    "DelegatesOf",
    "advance",
    "build_stages",
    "commit",
    "decide_approval",
    "duration_ms",
    "input_values",
    "interrupt",
    "log_events",
    "new_execution_id",
    "plan_run",
    "refresh",
    "resolve_inputs",
    "resume",
    "retry_stages",
    "settle",
    "start",
]

S = ExecutionStatus
NO_DELEGATE = "No eligible delegate(s) in account to execute task. No matching selector(s)"
_PASSES = frozenset({S.SUCCESS, S.IGNORE_FAILED, S.SKIPPED})  # end states a run carries on after
_LOCK = threading.RLock()  # one read-advance-write at a time, so live log lines are never written twice
INPUT = "<+input>"
_DEFAULT = re.compile(r"\.default\((.*?)\)")
_ALLOWED = re.compile(r"\.allowedValues\((.*?)\)")
_EXIT = re.compile(r"(?m)^\s*exit\s+([1-9]\d*)\s*;?\s*$")


@dataclass(frozen=True, slots=True)
class Delegate:
    """A connected delegate and the selectors it answers to (lower-cased: its tags, name and host names). A live
    delegate is a running delegate agent, which executes the steps it takes."""

    name: str
    selectors: frozenset[str]
    live: bool = False


_NO_DELEGATE_NEEDED = Delegate("", frozenset())


def new_execution_id() -> str:
    """A 22-character url-safe id, the shape of Harness's plan execution ids."""
    return secrets.token_urlsafe(16)[:22]


# ---- runtime inputs --------------------------------------------------------------------------------------
# Inputs are matched by FQN built from identifiers (`pipeline.stages.build.spec.x`, `pipeline.variables.v.value`),
# so a runtime-input YAML only needs the identifiers on the way to each value, as Harness's does.


def input_values(*documents: Any) -> dict[str, Any]:
    """Runtime-input YAML documents (execute bodies, input sets) flattened to {fqn: value}; later ones win."""
    values: dict[str, Any] = {}
    for document in documents:
        root = document.get("inputSet", document) if isinstance(document, dict) else None
        if isinstance(root, dict) and isinstance(root.get("pipeline"), dict):
            _leaves(root["pipeline"], ("pipeline",), values)
    return values


def resolve_inputs(pipeline: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The pipeline with every `<+input>` replaced by its value or default; a missing one is Harness's 400."""
    missing: list[str] = []
    resolved = _fill(pipeline, ("pipeline",), values, missing)
    if missing:
        causes = [f"Value not provided for required variable: {name}" for name in missing[1:]]
        raise ApiError("INVALID_REQUEST", f"Value not provided for required variable: {missing[0]}", causes=causes)
    return dict(resolved)


def _key_path(path: tuple[str, ...], key: str, value: Any) -> tuple[str, ...]:
    if key in ("stage", "step", "stepGroup") and isinstance(value, dict):
        return (*path, str(value.get("identifier", key)))
    return path if key == "parallel" else (*path, str(key))


def _item_path(path: tuple[str, ...], index: int, item: Any) -> tuple[str, ...]:
    if isinstance(item, dict):
        if len(item) == 1 and next(iter(item)) in ("stage", "step", "stepGroup", "parallel"):
            return path
        for name in ("identifier", "name"):
            if name in item:
                return (*path, str(item[name]))
    return (*path, str(index))


def _leaves(node: Any, path: tuple[str, ...], out: dict[str, Any]) -> None:
    # Inner nodes are kept too: `build: <+input>` takes a whole mapping (`{type: branch, spec: {branch: main}}`).
    out[".".join(path)] = node
    if isinstance(node, dict):
        for key, value in node.items():
            _leaves(value, _key_path(path, key, value), out)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _leaves(item, _item_path(path, index, item), out)


def _fill(node: Any, path: tuple[str, ...], values: dict[str, Any], missing: list[str]) -> Any:
    if isinstance(node, dict):
        return {key: _fill(value, _key_path(path, key, value), values, missing) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(item, _item_path(path, index, item), values, missing) for index, item in enumerate(node)]
    if not (isinstance(node, str) and node.startswith(INPUT)):
        return node
    name = path[-2] if len(path) > 2 and path[-3] == "variables" and path[-1] == "value" else ".".join(path)
    given = values.get(".".join(path))
    if given is not None and given != "" and not str(given).startswith(INPUT):
        allowed = _ALLOWED.search(node)
        if allowed and str(given) not in [v.strip() for v in allowed.group(1).split(",")]:
            raise ApiError("INVALID_REQUEST", f"Value provided for {name} ({given}) does not match any of the "
                           f"allowed values [{allowed.group(1)}]")  # fmt: skip
        return given
    default = _DEFAULT.search(node)
    if default is not None:
        return default.group(1)
    missing.append(name)
    return node


def plan_run(
    pipeline: dict[str, Any], *, org: str, project: str, execution_id: str, run_sequence: int, now_ms: int,
    triggered_by: tuple[str, str | None], input_yaml: str,
) -> ExecutionRecord:  # fmt: skip
    """A new run of a resolved pipeline, started at `now_ms` with every stage not yet started."""
    stages = build_stages(pipeline)
    codebase = _map(_map(_map(pipeline.get("properties")).get("ci")).get("codebase"))
    spec = _map(_map(codebase.get("build")).get("spec"))
    tags = _map(pipeline.get("tags"))
    modules = [stage.module for stage in stages]
    pipeline_id = _text(pipeline.get("identifier"))
    return ExecutionRecord(
        plan_execution_id=execution_id, org=org, project=project, pipeline_id=pipeline_id,
        pipeline_name=_text(pipeline.get("name")) or pipeline_id, run_sequence=run_sequence, status=S.RUNNING,
        start_ts=now_ms, created_at=now_ms, module="ci" if "ci" in modules else "cd" if "cd" in modules else "pms",
        triggered_by=triggered_by[0], triggered_by_email=triggered_by[1],
        tags={str(k): str(v) for k, v in tags.items()},
        branch=_text(spec.get("branch")) or None, commit_sha=_text(spec.get("commitSha")) or None,
        pr_number=int(spec["number"]) if str(spec.get("number", "")).isdigit() else None,
        repo=_text(codebase.get("repoName")) or None, input_set_yaml=input_yaml, stages=stages,
        failure_strategies=_list(pipeline.get("failureStrategies")), variables=_variables(pipeline),
    )  # fmt: skip


# ---- building stages from YAML ---------------------------------------------------------------------------


def build_stages(pipeline: dict[str, Any]) -> list[StageRun]:
    """The stages of a resolved `pipeline:` mapping; `parallel:` blocks become a shared `parallel_group`."""
    selectors = _selectors(pipeline)
    stages: list[StageRun] = []
    for index, item in enumerate(pipeline.get("stages") or []):
        if isinstance(item, dict) and isinstance(item.get("parallel"), list):
            stages += [_stage(entry.get("stage") or {}, index, selectors) for entry in item["parallel"]]
        elif isinstance(item, dict) and isinstance(item.get("stage"), dict):
            stages.append(_stage(item["stage"], None, selectors))
    if not stages:
        raise ApiError("INVALID_YAML_ERROR", "Invalid yaml: the pipeline must have at least one stage")
    return stages


def _stage(raw: dict[str, Any], group: int | None, inherited: list[str]) -> StageRun:
    identifier = _text(raw.get("identifier"))
    if not identifier:
        raise ApiError("INVALID_YAML_ERROR", "Invalid yaml: every stage needs an identifier")
    stage_type = _text(raw.get("type")) or "Custom"
    spec = raw.get("spec") or {}
    selectors = _selectors(raw) or inherited
    execution = spec.get("execution") or {}
    steps = [_step(step, selectors) for step in _flat_steps(execution.get("steps") or [])]
    service, environment = spec.get("service") or {}, spec.get("environment") or {}
    infrastructures = environment.get("infrastructureDefinitions") or [{}]
    return StageRun(
        identifier=identifier, name=_text(raw.get("name")) or identifier, stage_type=stage_type,
        module={"CI": "ci", "Deployment": "cd"}.get(stage_type, "pms"), status=S.NOT_STARTED, steps=steps,
        parallel_group=group, service_id=_text(service.get("serviceRef")) or None,
        environment_id=_text(environment.get("environmentRef")) or None,
        infrastructure_id=_text(infrastructures[0].get("identifier")) or None,
        deployment_type=_text(spec.get("deploymentType")) or None,
        failure_strategies=_list(raw.get("failureStrategies") or spec.get("failureStrategies")),
    )  # fmt: skip


def _flat_steps(items: list[Any]) -> Iterator[dict[str, Any]]:
    # Step groups and parallel steps run one after another here; their steps keep their own identifiers.
    for item in items:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("step"), dict):
            yield item["step"]
        elif isinstance(item.get("parallel"), list):
            yield from _flat_steps(item["parallel"])
        elif isinstance(item.get("stepGroup"), dict):
            yield from _flat_steps(item["stepGroup"].get("steps") or [])


def _step(raw: dict[str, Any], inherited: list[str]) -> StepRun:
    identifier = _text(raw.get("identifier"))
    if not identifier:
        raise ApiError("INVALID_YAML_ERROR", "Invalid yaml: every step needs an identifier")
    spec = _map(raw.get("spec"))
    step_type = _text(raw.get("type")) or "ShellScript"
    selectors = _selectors(raw) or _selectors(spec) or ([] if step_type.endswith("Approval") else inherited)
    return StepRun(
        identifier=identifier, name=_text(raw.get("name")) or identifier, step_type=step_type, status=S.NOT_STARTED,
        timeout=_text(raw.get("timeout")) or ("1d" if step_type.endswith("Approval") else "10m"), spec=spec,
        delegate_selectors=selectors, has_reports=bool(spec.get("reports")),
        failure_strategies=_list(raw.get("failureStrategies")),
    )  # fmt: skip


def _selectors(raw: dict[str, Any]) -> list[str]:
    value = raw.get("delegateSelectors") or []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _variables(pipeline: dict[str, Any]) -> dict[str, str]:
    items = _list(pipeline.get("variables"))
    return {_text(v.get("name")): _text(v.get("value")) for v in items if isinstance(v, dict) and v.get("name")}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def retry_stages(
    original: ExecutionRecord, fresh: list[StageRun], retry_from: Sequence[str], run_all: bool
) -> list[StageRun]:
    """A retry's stages: the original's successful stages before the retried block, fresh stages from there on.

    Within the retried parallel block, `run_all` reruns every stage; otherwise its successful stages are kept.
    """
    failed = [s.identifier for s in original.stages if s.status.is_terminal and s.status not in _PASSES]
    wanted = set(retry_from) or set(failed[:1])
    if not wanted:
        raise ApiError("INVALID_REQUEST", "There is no failed stage to retry from; pass retryStages")
    known = {stage.identifier: stage for stage in original.stages}
    unknown = sorted(name for name in wanted if name not in known or all(s.identifier != name for s in fresh))
    if unknown:
        raise ApiError("INVALID_REQUEST", f"Stage(s) {', '.join(unknown)} cannot be retried: not in this execution")
    out: list[StageRun] = []
    reached = False
    for group in stage_groups(fresh):
        retried = any(stage.identifier in wanted for stage in group)
        for stage in group:
            old = known.get(stage.identifier)
            succeeded = old is not None and old.status in _PASSES
            if not reached and not retried and not succeeded:
                raise ApiError("INVALID_REQUEST", f"Cannot retry from {', '.join(sorted(wanted))}: "
                               f"stage {stage.identifier} before it did not succeed")  # fmt: skip
            if retried:
                keep = succeeded and not run_all and stage.identifier not in wanted
            else:
                keep = succeeded and not reached
            out.append(old.model_copy(deep=True) if keep and old is not None else stage)
        reached = reached or retried
    return out


# ---- the clock -------------------------------------------------------------------------------------------


def advance(
    record: ExecutionRecord,
    now_ms: int,
    *,
    delegates: Sequence[Delegate] = (),
    ends: Mapping[str, TaskEnd] | None = None,
) -> ExecutionRecord:
    """The run as it stands at `now_ms`: steps start after their predecessors and finish after their planned
    time, or when their delegate task's result is in `ends`; approvals wait; a failed step meets its failure
    strategy; a failed stage ends the run once its parallel block is done. Pure."""
    if record.status.is_terminal or record.status is S.PAUSED:
        return record
    run = record.model_copy(deep=True)
    pausing = run.status is S.PAUSING
    previous_end = run.start_ts
    for group in stage_groups(run.stages):
        for stage in group:
            if stage.status is S.NOT_STARTED and not pausing:
                stage.status, stage.start_ts = S.RUNNING, max(previous_end, run.start_ts)
            if stage.status is not S.NOT_STARTED and not stage.status.is_terminal:
                _progress(run, stage, now_ms, _Live(delegates, ends or {}), pausing=pausing)
        if any(not stage.status.is_terminal for stage in group):
            run.status = _live_status(run, pausing)
            return run
        previous_end = max([previous_end, *(stage.end_ts or 0 for stage in group)])
        failed = [stage for stage in group if stage.status not in _PASSES]
        if failed:
            return _finish(run, failed[0].status, previous_end, failed[0])
    return _finish(run, S.SUCCESS, previous_end, None)


@dataclass(frozen=True, slots=True)
class _Live:
    """What a refresh knows of the world outside the run: the connected delegates and the tasks' results."""

    delegates: Sequence[Delegate]
    ends: Mapping[str, TaskEnd]


def _progress(run: ExecutionRecord, stage: StageRun, now: int, live: _Live, *, pausing: bool) -> None:
    at = stage.start_ts or run.start_ts
    for step in stage.steps:
        while True:  # a step may fail, retry and end again within one refresh
            if step.status is S.NOT_STARTED:
                if pausing:
                    return
                if step.not_before is not None and step.not_before > now:
                    stage.status = S.RUNNING  # a retry waiting for its interval
                    return
                _start_step(run, stage, step, max(at, step.not_before or at), live.delegates)
            if step.status is S.RUNNING and not _step_ended(run, stage, step, now, live):
                stage.status = S.RUNNING
                return
            if step.status is S.APPROVAL_WAITING:
                deadline = (step.start_ts or at) + duration_ms(step.timeout)
                if deadline > now:
                    stage.status = S.APPROVAL_WAITING
                    return
                step.status, step.end_ts = S.EXPIRED, deadline
                step.failure_message, step.failure_types = "Approval instance has expired", ["EXPIRED"]
            if not (step.status.is_terminal and step.status not in _PASSES and _apply_strategy(run, stage, step)):
                break
        if not step.status.is_terminal:  # other waits (intervention, input) hold the stage until someone acts
            stage.status = step.status
            return
        if step.status not in _PASSES:
            stage.status, stage.end_ts = step.status, step.end_ts
            stage.failure_message, stage.failure_types = step.failure_message, list(step.failure_types)
            return
        at = step.end_ts or at
    stage.status, stage.end_ts = S.SUCCESS, at


def _step_ended(run: ExecutionRecord, stage: StageRun, step: StepRun, now: int, live: _Live) -> bool:
    """Whether a running step has ended by `now` (and, if so, how: its status, end and failure are set)."""
    start = step.start_ts or stage.start_ts or run.start_ts
    if step.task_id is not None:
        end = live.ends.get(step.task_id)
        return end_step(step, end, deadline_ms=start + duration_ms(step.timeout), now_ms=now)
    end_ts = start + planned_ms(run, stage, step)
    if end_ts > now:
        return False
    step.end_ts = end_ts
    step.status, step.failure_message, step.failure_types = _outcome(step)
    return True


def _apply_strategy(run: ExecutionRecord, stage: StageRun, step: StepRun) -> bool:
    """Carry out the failure strategy of a failed step; True when the step starts again (a retry)."""
    if step.status is S.ABORTED:
        return False  # an abort is not a failure to handle
    levels = (step.failure_strategies, stage.failure_strategies, run.failure_strategies)
    action = failure_strategies.choose(levels, step.failure_types, duration_ms)
    if action.kind == "retry":
        if step.retries < action.retry_count:
            step.retries += 1
            step.not_before = (step.end_ts or 0) + failure_strategies.retry_interval_ms(action, step.retries)
            step.status, step.task_id, step.delegate = S.NOT_STARTED, None, None
            return True
        action = action.on_retry_failure or failure_strategies.FAIL
    if action.kind == "ignore":
        step.status = S.IGNORE_FAILED
    elif action.kind == "mark_as_success":
        step.status = S.SUCCESS
    elif action.kind == "abort":
        step.status = S.ABORTED
        run.aborted_by = "failure strategy"
    return False


def _start_step(run: ExecutionRecord, stage: StageRun, step: StepRun, at: int, delegates: Sequence[Delegate]) -> None:
    step.start_ts, step.end_ts = at, None
    step.failure_message, step.failure_types = None, []
    if step.step_type.endswith("Approval"):
        step.status = S.APPROVAL_WAITING
        return
    chosen = _pick_delegate(stage, step, delegates)
    if chosen is None:
        step.status, step.end_ts = S.FAILED, at
        step.failure_message, step.failure_types = NO_DELEGATE, ["DELEGATE_PROVISIONING"]
        return
    step.status = S.RUNNING
    if chosen.live:
        # The delegate that acquires the task is named when its result arrives.
        step.task_id = delegate_tasks.task_id_for(run.plan_execution_id, stage.identifier, step.identifier,
                                                  step.retries + 1)  # fmt: skip
    else:
        step.delegate = chosen.name or None


def _pick_delegate(stage: StageRun, step: StepRun, delegates: Sequence[Delegate]) -> Delegate | None:
    """The delegate that runs a step (`_NO_DELEGATE_NEEDED` when none is needed), None when the selectors match
    none. Steps a delegate agent can execute go to a live delegate first; other steps are simulated, on whichever
    delegate matches."""
    wanted = {s.lower() for s in step.delegate_selectors}
    runnable = step.step_type in TASK_STEP_TYPES
    eligible = sorted((d for d in delegates if wanted <= d.selectors), key=lambda d: d.live != runnable)
    if not wanted and not step_units(stage, step) and not (runnable and any(d.live for d in eligible)):
        return _NO_DELEGATE_NEEDED
    if not eligible:
        return None if wanted else _NO_DELEGATE_NEEDED
    chosen = eligible[0]
    return chosen if runnable or not chosen.live else Delegate(chosen.name, chosen.selectors)


def _outcome(step: StepRun) -> tuple[ExecutionStatus, str | None, list[str]]:
    """How a finished step ended: it fails when its script ends with `exit N` (N > 0)."""
    found = _EXIT.search(_script(step))
    if found is None:
        return S.SUCCESS, None, []
    if step.step_type == "Run":
        return S.FAILED, f"1 error occurred:\n\t* exit status {found.group(1)}\n\n", ["APPLICATION_ERROR"]
    return S.FAILED, "Shell Script execution failed. Please check execution logs.", ["APPLICATION_ERROR"]


def _script(step: StepRun) -> str:
    script = _map(_map(step.spec.get("source")).get("spec")).get("script")
    return str(step.spec.get("command") or script or "")


def planned_ms(run: ExecutionRecord, stage: StageRun, step: StepRun) -> int:
    """How long a step runs: 4 to 20 seconds, fixed by the run, stage and step ids."""
    digest = hashlib.sha256(f"{run.plan_execution_id}/{stage.identifier}/{step.identifier}".encode()).digest()
    return 4_000 + int.from_bytes(digest[:4], "big") % 16_001


def duration_ms(text: str) -> int:
    """A Harness duration (`10m`, `1h 30m`, `1d`) in ms; a day when it cannot be read."""
    parts = re.findall(r"(\d+)\s*(ms|w|d|h|m|s)", text or "")
    scale = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
    return sum(int(n) * scale[unit] for n, unit in parts) or 86_400_000


def _live_status(run: ExecutionRecord, pausing: bool) -> ExecutionStatus:
    """An unfinished run's status: running while any step runs, else the wait its steps are in."""
    steps = [step.status for stage in run.stages for step in stage.steps]
    if pausing:
        return S.PAUSING if S.RUNNING in steps else S.PAUSED
    waits = [status for status in steps if not status.is_terminal and status is not S.NOT_STARTED]
    return S.RUNNING if not waits or S.RUNNING in waits else waits[0]


def _finish(run: ExecutionRecord, status: ExecutionStatus, end: int, failed: StageRun | None) -> ExecutionRecord:
    run.status, run.end_ts = status, end
    if failed is not None:
        run.failure_message, run.failure_types = failed.failure_message, list(failed.failure_types)
    return run


# ---- interrupts and approvals ----------------------------------------------------------------------------

_INTERRUPTS = {"abortall": "AbortAll", "abort": "Abort", "pause": "Pause", "resume": "Resume", "expireall": "ExpireAll"}


def interrupt(record: ExecutionRecord, kind: str, now_ms: int, by: str) -> tuple[ExecutionRecord, str]:
    """Apply an interrupt to a whole run; returns the new record and the interrupt's canonical name."""
    name = _INTERRUPTS.get(kind.replace("_", "").lower())
    if name is None:
        known = ", ".join(_INTERRUPTS.values())
        raise ApiError("INVALID_REQUEST", f"Unsupported interruptType {kind!r}; use one of: {known}")
    if record.status.is_terminal:
        raise ApiError("INVALID_REQUEST", f"Execution {record.plan_execution_id} has already finished with status "
                       f"{record.status.value}; it cannot be interrupted")  # fmt: skip
    run = record.model_copy(deep=True)
    if name == "Pause":
        run.status = S.PAUSING
    elif name == "Resume":
        if run.status not in (S.PAUSED, S.PAUSING):
            raise ApiError("INVALID_REQUEST", f"Execution {run.plan_execution_id} is not paused")
        run.status = S.RUNNING
    else:
        end_status = S.EXPIRED if name == "ExpireAll" else S.ABORTED
        for stage in run.stages:
            nodes: list[StageRun | StepRun] = [stage, *stage.steps]
            for node in nodes:
                if node.status is not S.NOT_STARTED and not node.status.is_terminal:
                    node.status, node.end_ts = end_status, now_ms
        run.status, run.end_ts = end_status, now_ms
        run.aborted_by = by if end_status is S.ABORTED else None
    return run, name


def resume(record: ExecutionRecord, now_ms: int, delegates: Sequence[Delegate]) -> ExecutionRecord:
    """After Resume, start what the pause held back at `now_ms` rather than back when it became due."""
    run = record.model_copy(deep=True)
    for group in stage_groups(run.stages):
        if all(stage.status in _PASSES for stage in group):
            continue
        for stage in group:
            busy = any(step.status in (S.RUNNING, S.APPROVAL_WAITING) for step in stage.steps)
            pending = [step for step in stage.steps if step.status is S.NOT_STARTED]
            if stage.status is S.NOT_STARTED:
                stage.status, stage.start_ts = S.RUNNING, now_ms
            elif not stage.status.is_terminal and not busy and pending:
                _start_step(run, stage, pending[0], now_ms, delegates)
        break
    return run


def decide_approval(
    record: ExecutionRecord, approval_id: str, *, approve: bool, by: str, comments: str, now_ms: int
) -> ExecutionRecord:
    """Approve or reject the waiting Harness approval step whose node id is `approval_id`."""
    run = record.model_copy(deep=True)
    found = [step for stage in run.stages for step in stage.steps if step_node_id(run, stage, step) == approval_id]
    if not found:
        raise ApiError("RESOURCE_NOT_FOUND", f"Approval instance with id [{approval_id}] does not exist")
    step = found[0]
    if step.status is not S.APPROVAL_WAITING:
        raise ApiError("INVALID_REQUEST", f"Approval instance {approval_id} is not waiting: it is {step.status.value}")
    action = "APPROVE" if approve else "REJECT"
    # The decision is kept as the step's outputs, which is where Harness shows an approval's activity too.
    step.end_ts, step.output_variables = now_ms, {"action": action, "approvedBy": by, "comments": comments}
    if approve:
        step.status = S.SUCCESS
    else:
        step.status, step.failure_message = S.APPROVAL_REJECTED, "Approval Step has been Rejected"
        step.failure_types = ["APPROVAL_REJECTION"]
    run.status = S.RUNNING
    return run


# ---- state: live logs and storing -------------------------------------------------------------


def log_events(
    account_id: str, before: ExecutionRecord, after: ExecutionRecord
) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The live log lines of the steps that started or finished between two versions of a run."""
    events: list[tuple[str, list[tuple[str, str, str]]]] = []
    old_steps = {(s.identifier, t.identifier): t.status for s in before.stages for t in s.steps}
    for stage in after.stages:
        for step in stage.steps:
            old = old_steps.get((stage.identifier, step.identifier), S.NOT_STARTED)
            lines = _start_lines(step) if old is S.NOT_STARTED and step.status is not S.NOT_STARTED else []
            if step.status.is_terminal and not old.is_terminal:
                lines += _end_lines(step)
            if lines:
                events.append((_first_key(account_id, after, stage, step), lines))
    return events


def _first_key(account_id: str, run: ExecutionRecord, stage: StageRun, step: StepRun) -> str:
    key = log_keys.step_log_key(account_id, run.org, run.project, run.pipeline_id, run.run_sequence, stage.identifier,
                                step.identifier)  # fmt: skip
    units = step_units(stage, step)
    return f"{key}{log_keys.UNIT_SEPARATOR}{units[0]}" if units else key


def _start_lines(step: StepRun) -> list[tuple[str, str, str]]:
    at = _iso(step.start_ts)
    if step.step_type.endswith("Approval"):
        return [("INFO", at, f"Approval step {step.name} is waiting for approval")]
    lines = [("INFO", at, f"Executing step {step.name} ({step.step_type})")]
    if step.task_id is not None:
        return lines  # a delegate agent runs it: the script's lines are the ones it streams, not made-up ones
    if step.delegate:
        lines.append(("INFO", at, f"Task assigned to delegate {step.delegate}"))
    for command in _script(step).splitlines():
        if command.strip():
            lines.append(("INFO", at, f"+ {command.strip()}"))
            if command.strip().startswith("echo "):
                lines.append(("INFO", at, command.strip()[5:].strip().strip("'\"")))
    return lines


def _end_lines(step: StepRun) -> list[tuple[str, str, str]]:
    at = _iso(step.end_ts)
    if step.step_type.endswith("Approval") and step.output_variables:
        verdict = "approved" if step.status is S.SUCCESS else "rejected"
        return [("INFO", at, f"Approval {verdict} by {step.output_variables.get('approvedBy', '')}")]
    if step.status is S.SUCCESS:
        # A delegate agent logs how its task ended; the simulated delegates' steps get Harness's closing line.
        return [] if step.task_id is not None else [("INFO", at, "Command completed with ExitCode (0)")]
    if step.status is S.ABORTED:
        return [("WARN", at, "Step was aborted")]
    return [("ERROR", at, (step.failure_message or step.status.value).strip())]


def _iso(ms: int | None) -> str:
    when = datetime.fromtimestamp((ms or 0) / 1000, tz=UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _sync_tasks(
    state: SandboxState, account_id: str, before: ExecutionRecord, after: ExecutionRecord, now: int
) -> None:
    """Queue the tasks of steps that started on a live delegate; cancel those of steps that ended without one."""
    waiting = {step.task_id for stage in before.stages for step in stage.steps if step.task_id}
    running: set[str] = set()
    for stage in after.stages:
        for step in stage.steps:
            if step.task_id is None or step.status is not S.RUNNING:
                continue
            running.add(step.task_id)
            if step.task_id in waiting:
                continue
            payload = task_payload(account_id, after, stage, step, log_key=_first_key(account_id, after, stage, step),
                                   timeout_ms=duration_ms(step.timeout))  # fmt: skip
            delegate_tasks.queue(
                state, task_id=step.task_id, execution_id=after.plan_execution_id, scope=(after.org, after.project),
                selectors=step.delegate_selectors, available_at=step.start_ts or now, payload=payload, now_ms=now,
            )  # fmt: skip
    delegate_tasks.cancel(state, waiting - running - set(delegate_tasks.ends_of(state, after.plan_execution_id)), now)


def commit(
    state: SandboxState, account_id: str, before: ExecutionRecord, after: ExecutionRecord, *, now_ms: int = 0
) -> ExecutionRecord:
    """Store `after`, the live log lines of what changed since `before`, and the delegate tasks it queued or
    stopped waiting for."""
    with _LOCK:
        for key, lines in log_events(account_id, before, after):
            state.append_log_lines(key, lines)
        _sync_tasks(state, account_id, before, after, now_ms or after.end_ts or after.start_ts)
        state.put_execution(after)
    return after


def settle(
    state: SandboxState,
    account_id: str,
    before: ExecutionRecord,
    changed: ExecutionRecord,
    now_ms: int,
    delegates: Sequence[Delegate],
) -> ExecutionRecord:
    """After an interrupt or a decision changed a run, move it along to `now_ms` and store it."""
    ends = delegate_tasks.ends_of(state, before.plan_execution_id)
    return commit(state, account_id, before, advance(changed, now_ms, delegates=delegates, ends=ends), now_ms=now_ms)


DelegatesOf = Callable[[str, str], Sequence[Delegate]]  # (org, project) -> the connected delegates it can use


def start(
    state: SandboxState, account_id: str, record: ExecutionRecord, now_ms: int, delegates_of: DelegatesOf
) -> ExecutionRecord:
    """Store a new run under the pipeline's next run sequence and move it to `now_ms` (its first steps start)."""
    with _LOCK:  # so two runs started at once never share a sequence
        numbered = record.model_copy(
            update={"run_sequence": state.next_run_sequence(record.org, record.project, record.pipeline_id)}
        )
        state.put_execution(numbered)
        return refresh(state, account_id, numbered, now_ms, delegates_of)


def refresh(
    state: SandboxState, account_id: str, record: ExecutionRecord, now_ms: int, delegates_of: DelegatesOf
) -> ExecutionRecord:
    """The run moved along to `now_ms` and stored; finished runs come back unchanged."""
    if record.status.is_terminal or record.status is S.PAUSED:
        return record
    with _LOCK:
        current = state.get_execution(record.plan_execution_id) or record
        ends = delegate_tasks.ends_of(state, current.plan_execution_id)
        after = advance(current, now_ms, delegates=delegates_of(current.org, current.project), ends=ends)
        return commit(state, account_id, current, after, now_ms=now_ms) if after != current else current
