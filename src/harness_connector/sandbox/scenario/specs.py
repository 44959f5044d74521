"""Pipeline, stage and step specs: the shape the generator simulates and the YAML writer serialises.

A step's `role` is what failure families match on (`install`, `test`, `deploy`, ...); its `template` names the
log it prints (`templates.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PipelineSpec", "StageSpec", "StepSpec"]


@dataclass(frozen=True, slots=True)
class StepSpec:
    identifier: str
    name: str
    step_type: str
    role: str
    template: str
    toolchain: str = ""
    seconds: tuple[float, float] = (5.0, 20.0)  # usual duration range
    lines: tuple[int, int] = (10, 40)
    timeout: str = "10m"
    has_reports: bool = False
    push_only: bool = False  # skipped on PR builds (`when: <+codebase.build.type> == "branch"`)
    retry: int = 0  # the failure strategy retries the step this many times after a test failure
    delegate: str = ""
    selectors: tuple[str, ...] = ()
    command: str = ""


@dataclass(frozen=True, slots=True)
class StageSpec:
    identifier: str
    name: str
    stage_type: str  # CI | Deployment | Approval | Custom
    module: str  # ci | cd | pms
    steps: tuple[StepSpec, ...]
    parallel_group: int | None = None
    environment: str = ""  # staging | production
    strategy: str = ""  # Rolling | Canary


@dataclass(frozen=True, slots=True)
class PipelineSpec:
    id: str
    name: str
    org: str
    project: str
    kind: str  # ci | cd | nightly | images | audit | ops
    module: str
    stages: tuple[StageSpec, ...]
    service: str = ""  # the service it builds or deploys
    repo: str = ""  # the repository it clones
    cron: str = ""
    description: str = ""
