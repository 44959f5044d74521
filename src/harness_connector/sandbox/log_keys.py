"""Log-service keys for execution nodes, in Harness's standard (non-simplified) form.

A step's key is its node's `baseFqn` spelled as levels under the run's prefix:
`accountId:A/orgId:O/projectId:P/pipelineId:X/runSequence:N/level0:pipeline/level1:stages/level2:<stage>/
level3:spec/level4:execution/level5:steps/level6:<step>`. CD command units append `-commandUnit:<Unit>`.
Generated logs are stored under the step's base key; unit keys resolve to it.
"""

from __future__ import annotations

__all__ = ["UNIT_SEPARATOR", "base_key_of", "run_prefix", "stage_log_key", "step_base_fqn", "step_log_key"]

UNIT_SEPARATOR = "-commandUnit:"


def run_prefix(account: str, org: str, project: str, pipeline: str, run_sequence: int) -> str:
    """The prefix shared by every log of one run (what a zip download asks for)."""
    return f"accountId:{account}/orgId:{org}/projectId:{project}/pipelineId:{pipeline}/runSequence:{run_sequence}"


def step_base_fqn(stage_id: str, step_id: str) -> str:
    """The step node's fully qualified name in the pipeline."""
    return f"pipeline.stages.{stage_id}.spec.execution.steps.{step_id}"


def stage_log_key(account: str, org: str, project: str, pipeline: str, run_sequence: int, stage_id: str) -> str:
    """The stage node's key (stage-level setup logs live here)."""
    prefix = run_prefix(account, org, project, pipeline, run_sequence)
    return f"{prefix}/level0:pipeline/level1:stages/level2:{stage_id}"


def step_log_key(
    account: str, org: str, project: str, pipeline: str, run_sequence: int, stage_id: str, step_id: str
) -> str:
    """The step node's `logBaseKey`."""
    stage = stage_log_key(account, org, project, pipeline, run_sequence, stage_id)
    return f"{stage}/level3:spec/level4:execution/level5:steps/level6:{step_id}"


def base_key_of(key: str) -> str:
    """The step key behind a command-unit key (unchanged for base keys)."""
    return key.split(UNIT_SEPARATOR, 1)[0]
