"""A step run by a live delegate: the task payload its YAML makes, and how the task's result ends the step.

`ShellScript` steps (CD and custom stages) and `Run` steps (CI stages) become tasks. The payload carries what the
delegate protocol promises (see the delegate package's `protocol` module for the wire contract): the script, its
environment, the shell variables to export as output variables, the report globs and the timeout.
"""

from __future__ import annotations

import re
from typing import Any

from harness_connector.domain.status import ExecutionStatus
from harness_connector.sandbox.delegate_tasks import TaskEnd
from harness_connector.sandbox.model import ExecutionRecord, StageRun, StepRun

__all__ = ["TASK_STEP_TYPES", "end_step", "task_payload"]

S = ExecutionStatus
TASK_STEP_TYPES = {"ShellScript": "SHELL_SCRIPT", "Run": "CI_RUN"}
_SHELL_FAILED = "Shell Script execution failed. Please check execution logs."
_EXPRESSION = re.compile(r"<\+\s*([A-Za-z0-9_.]+)\s*>")


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _script(step: StepRun) -> str:
    if step.step_type == "Run":
        return str(step.spec.get("command") or "")
    return str(_map(_map(step.spec.get("source")).get("spec")).get("script") or "")


def _environment(step: StepRun) -> dict[str, str]:
    if step.step_type == "Run":
        return {str(k): str(v) for k, v in _map(step.spec.get("envVariables")).items()}
    items = step.spec.get("environmentVariables")
    return {str(i["name"]): str(i.get("value") or "") for i in items or [] if isinstance(i, dict) and i.get("name")}


def output_names(step: StepRun) -> dict[str, str]:
    """Output variable → the shell variable it reads. A ShellScript output names its variable in `value`; a Run
    step's output is the variable of the same name."""
    items = step.spec.get("outputVariables") or []
    names: dict[str, str] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("name"):
            source = item.get("value") if step.step_type == "ShellScript" else None
            names[str(item["name"])] = str(source or item["name"])
    return names


def _resolver(run: ExecutionRecord, stage: StageRun, step: StepRun) -> Any:
    """Replaces the expressions a delegate cannot resolve itself: the pipeline's variables and the run's ids. An
    unknown expression is left as written, as Harness leaves an unresolvable one."""
    known = {
        "pipeline.identifier": run.pipeline_id,
        "pipeline.name": run.pipeline_name,
        "pipeline.sequenceId": str(run.run_sequence),
        "pipeline.executionId": run.plan_execution_id,
        "stage.identifier": stage.identifier,
        "stage.name": stage.name,
        "step.identifier": step.identifier,
        "step.name": step.name,
        "codebase.branch": run.branch or "",
        "codebase.commitSha": run.commit_sha or "",
        **{f"pipeline.variables.{name}": value for name, value in run.variables.items()},
    }

    def resolve(text: str) -> str:
        return _EXPRESSION.sub(lambda m: known.get(m.group(1), m.group(0)), text)

    return resolve


def _report_paths(step: StepRun) -> list[str]:
    reports = _map(step.spec.get("reports"))
    paths = _map(reports.get("spec")).get("paths") or []
    return [str(p) for p in paths] if isinstance(paths, list) else [str(paths)]


def task_payload(
    account_id: str, run: ExecutionRecord, stage: StageRun, step: StepRun, *, log_key: str, timeout_ms: int
) -> dict[str, Any]:
    """The task a delegate acquires for this attempt of the step, in the protocol's field names."""
    resolve = _resolver(run, stage, step)
    return {
        "delegateTaskId": step.task_id,
        "taskType": TASK_STEP_TYPES[step.step_type],
        "accountId": account_id,
        "orgIdentifier": run.org,
        "projectIdentifier": run.project,
        "planExecutionId": run.plan_execution_id,
        "pipelineIdentifier": run.pipeline_id,
        "runSequence": run.run_sequence,
        "stageIdentifier": stage.identifier,
        "stepIdentifier": step.identifier,
        "stepName": step.name,
        "script": resolve(_script(step)),
        "shell": str(step.spec.get("shell") or "Bash"),
        "environment": {name: resolve(value) for name, value in _environment(step).items()},
        "outputVariables": sorted(set(output_names(step).values())),
        "reportPaths": _report_paths(step),
        "timeoutMs": timeout_ms,
        "logKey": log_key,
        "attempt": step.retries + 1,
    }


def end_step(step: StepRun, end: TaskEnd | None, *, deadline_ms: int, now_ms: int) -> bool:
    """End a running task step from its task's result, or as timed out once its deadline passed; False while it
    still runs. A result that arrived after the deadline is too late: the step had already timed out."""
    if end is None or end.recorded_ms > deadline_ms:
        if now_ms < deadline_ms:
            return False
        step.status, step.end_ts = S.EXPIRED, deadline_ms
        step.failure_message = f"Timeout: step exceeded its timeout of {step.timeout}"
        step.failure_types = ["TIMEOUT_ERROR"]
        return True
    step.end_ts = max(end.recorded_ms, step.start_ts or 0)
    step.delegate = end.delegate_name or step.delegate
    step.output_variables = {
        name: end.output_variables[source]
        for name, source in output_names(step).items()
        if source in end.output_variables
    }
    if end.status == "SUCCESS":
        step.status, step.failure_message, step.failure_types = S.SUCCESS, None, []
    elif end.status == "ABORTED":
        step.status, step.failure_message, step.failure_types = S.ABORTED, end.error_message, []
    elif end.status == "TIMEOUT":
        step.status, step.failure_types = S.EXPIRED, ["TIMEOUT_ERROR"]
        step.failure_message = end.error_message or f"Timeout: step exceeded its timeout of {step.timeout}"
    elif end.status == "INTERRUPTED":
        step.status, step.failure_types = S.FAILED, ["DELEGATE_RESTART"]
        step.failure_message = end.error_message or "The delegate stopped before the task finished"
    elif end.status == "FAILURE":
        step.status, step.failure_types = S.FAILED, ["APPLICATION_ERROR"]
        default = (
            f"1 error occurred:\n\t* exit status {end.exit_code}\n\n" if step.step_type == "Run" else _SHELL_FAILED
        )
        step.failure_message = end.error_message or default
    else:
        step.status, step.failure_types = S.FAILED, ["UNKNOWN"]
        step.failure_message = end.error_message or "The delegate could not run the task"
    return True
