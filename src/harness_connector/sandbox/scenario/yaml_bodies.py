"""Create-endpoint bodies of the YAML kinds: pipelines, input sets, triggers, templates and freeze windows.

Each function returns the YAML text the Harness create endpoint receives. Pipelines are written from the same
specs the executions are simulated from, so stage and step identifiers agree; the clone and initialize steps are
implicit in Harness YAML (the CI stage's `cloneCodebase` and infrastructure), as in real pipelines.
"""

from __future__ import annotations

from typing import Any

import yaml

from harness_connector.sandbox.scenario.pipelines import PipelineSpec, StageSpec, StepSpec, service
from harness_connector.sandbox.scenario.stepdetails import REGISTRY
from harness_connector.sandbox.scenario.toolchains import TOOLCHAINS

__all__ = [
    "freeze_yaml",
    "input_set_yaml",
    "pipeline_yaml",
    "template_yaml",
    "trigger_yaml",
]


def _dump(root: str, block: dict[str, Any]) -> str:
    return str(yaml.safe_dump({root: block}, sort_keys=False, width=200))


def _scope(org: str, project: str) -> dict[str, str]:
    return {k: v for k, v in (("orgIdentifier", org), ("projectIdentifier", project)) if v}


def _retry(count: int) -> list[dict[str, Any]]:
    action = {
        "type": "Retry",
        "spec": {
            "retryCount": count,
            "retryIntervals": ["10s"],
            "onRetryFailure": {"action": {"type": "MarkAsFailure"}},
        },
    }
    return [{"onFailure": {"errors": ["AllErrors"], "action": action}}]


def _ci_step(pipeline: PipelineSpec, step: StepSpec) -> dict[str, Any] | None:
    if step.role in ("init", "clone"):
        return None  # implicit: the stage's infrastructure and cloneCodebase
    body: dict[str, Any] = {"type": step.step_type, "name": step.name, "identifier": step.identifier}
    if step.step_type == "BuildAndPushDockerRegistry":
        name = service(pipeline.service).name if pipeline.service else pipeline.id
        flavour = "" if pipeline.kind != "images" else "-" + step.identifier.removeprefix("build_")
        body["spec"] = {
            "connectorRef": "acme_registry",
            "repo": f"{REGISTRY}/{pipeline.project}/{name}{flavour}",
            "tags": ["<+codebase.shortCommitSha>", "latest"],
            "dockerfile": "Dockerfile",
            "caching": True,
        }
    else:
        tc = TOOLCHAINS.get(step.toolchain)
        spec: dict[str, Any] = {
            "connectorRef": "dockerhub",
            "image": tc.image if tc else "alpine:3.19",
            "shell": "Sh",
            "command": step.command,
        }
        if step.has_reports and tc is not None:
            spec["reports"] = {"type": "JUnit", "spec": {"paths": [tc.report_paths]}}
        body["spec"] = spec
    body["timeout"] = step.timeout
    if step.push_only:
        body["when"] = {"stageStatus": "Success", "condition": '<+codebase.build.type> == "branch"'}
    if step.retry:
        body["failureStrategies"] = _retry(step.retry)
    return {"step": body}


def _cd_step(pipeline: PipelineSpec, step: StepSpec) -> dict[str, Any]:
    name = service(pipeline.service).name if pipeline.service else pipeline.id
    specs: dict[str, dict[str, Any]] = {
        "K8sRollingDeploy": {"skipDryRun": False, "pruningEnabled": False},
        "K8sCanaryDeploy": {"instanceSelection": {"type": "Count", "spec": {"count": 1}}, "skipDryRun": False},
        "K8sCanaryDelete": {},
        "Verify": {
            "type": "Canary",
            "monitoredService": {"type": "Default", "spec": {}},
            "spec": {"sensitivity": "MEDIUM", "duration": "10m"},
        },
        "Http": {
            "url": f"https://{name}.<+env.identifier>.acme.internal/healthz",
            "method": "GET",
            "assertion": "<+httpResponseCode> == 200",
        },
        "HarnessApproval": {
            "approvalMessage": "Promote <+pipeline.variables.imageTag> to production?",
            "includePipelineExecutionHistory": True,
            "approvers": {"userGroups": ["release_managers"], "minimumCount": 1, "disallowPipelineExecutor": False},
            "isAutoRejectEnabled": False,
            "approverInputs": [],
        },
        "ShellScript": {
            "shell": "Bash",
            "onDelegate": True,
            "source": {"type": "Inline", "spec": {"script": step.command}},
            "environmentVariables": [],
            "outputVariables": [],
            "executionTarget": {},
        },
    }
    body: dict[str, Any] = {
        "type": step.step_type,
        "name": step.name,
        "identifier": step.identifier,
        "timeout": step.timeout,
        "spec": specs.get(step.step_type, {}),
    }
    if step.selectors:
        body["delegateSelectors"] = list(step.selectors)
    return {"step": body}


def _stage(pipeline: PipelineSpec, stage: StageSpec) -> dict[str, Any]:
    body: dict[str, Any] = {"name": stage.name, "identifier": stage.identifier, "type": stage.stage_type}
    if stage.stage_type == "CI":
        steps = [s for s in (_ci_step(pipeline, step) for step in stage.steps) if s is not None]
        body["spec"] = {
            "cloneCodebase": True,
            "platform": {"os": "Linux", "arch": "Amd64"},
            "infrastructure": {
                "type": "KubernetesDirect",
                "spec": {"connectorRef": "account.ci_cluster", "namespace": "harness-builds", "os": "Linux"},
            },
            "execution": {"steps": steps},
        }
    elif stage.stage_type == "Deployment":
        body["spec"] = {
            "deploymentType": "Kubernetes",
            "service": {"serviceRef": pipeline.service},
            "environment": {
                "environmentRef": stage.environment,
                "deployToAll": False,
                "infrastructureDefinitions": [{"identifier": f"{stage.environment}_k8s"}],
            },
            "execution": {
                "steps": [_cd_step(pipeline, step) for step in stage.steps],
                "rollbackSteps": [
                    {
                        "step": {
                            "type": "K8sRollingRollback",
                            "name": "Rollback Rollout Deployment",
                            "identifier": "rollbackRolloutDeployment",
                            "timeout": "10m",
                            "spec": {"pruningEnabled": False},
                        }
                    }
                ],
            },
        }
        body["failureStrategies"] = [{"onFailure": {"errors": ["AllErrors"], "action": {"type": "StageRollback"}}}]
    else:
        body["spec"] = {"execution": {"steps": [_cd_step(pipeline, step) for step in stage.steps]}}
        body["failureStrategies"] = [{"onFailure": {"errors": ["AllErrors"], "action": {"type": "Abort"}}}]
    return {"stage": body}


def pipeline_yaml(pipeline: PipelineSpec) -> str:
    """The pipeline's v0 YAML."""
    block: dict[str, Any] = {
        "name": pipeline.name,
        "identifier": pipeline.id,
        "projectIdentifier": pipeline.project,
        "orgIdentifier": pipeline.org,
        "description": pipeline.description,
        "tags": {"kind": pipeline.kind, **({"service": service(pipeline.service).name} if pipeline.service else {})},
    }
    if pipeline.module == "ci" and pipeline.repo:
        block["properties"] = {"ci": {"codebase": {"repoName": pipeline.repo, "build": "<+input>"}}}
    if pipeline.kind == "cd":
        block["variables"] = [{"name": "imageTag", "type": "String", "description": "", "value": "<+input>"}]
    stages: list[dict[str, Any]] = []
    groups: list[list[StageSpec]] = []
    for stage in pipeline.stages:
        if groups and stage.parallel_group is not None and groups[-1][0].parallel_group == stage.parallel_group:
            groups[-1].append(stage)
        else:
            groups.append([stage])
    for group in groups:
        items = [_stage(pipeline, stage) for stage in group]
        stages.append(items[0] if len(items) == 1 else {"parallel": items})
    block["stages"] = stages
    return _dump("pipeline", block)


def input_set_yaml(pipeline: PipelineSpec, identifier: str, name: str, inputs: dict[str, Any]) -> str:
    """An input set for `pipeline` holding `inputs` (a runtime-input tree below `pipeline:`)."""
    block = {
        "name": name,
        "identifier": identifier,
        **_scope(pipeline.org, pipeline.project),
        "tags": {},
        "pipeline": {"identifier": pipeline.id, **inputs},
    }
    return _dump("inputSet", block)


def codebase_inputs(build_type: str, value: str) -> dict[str, Any]:
    """The runtime input of a CI pipeline's codebase (`branch` and a branch name, or `PR` and a number)."""
    spec = {"branch": value} if build_type == "branch" else {"number": value}
    return {"properties": {"ci": {"codebase": {"build": {"type": build_type, "spec": spec}}}}}


def trigger_yaml(
    pipeline: PipelineSpec, identifier: str, name: str, source: dict[str, Any], inputs: dict[str, Any]
) -> str:
    """A trigger of `pipeline` with its `source` and the runtime inputs it passes."""
    input_yaml = (
        str(yaml.safe_dump({"pipeline": {"identifier": pipeline.id, **inputs}}, sort_keys=False)) if inputs else ""
    )
    block: dict[str, Any] = {
        "name": name,
        "identifier": identifier,
        "enabled": True,
        "description": "",
        "tags": {},
        **_scope(pipeline.org, pipeline.project),
        "pipelineIdentifier": pipeline.id,
        "source": source,
    }
    if input_yaml:
        block["inputYaml"] = input_yaml
    return _dump("trigger", block)


def template_yaml(org: str, project: str, identifier: str, name: str, kind: str, spec: dict[str, Any]) -> str:
    """A v1 template of `kind` (Step, Stage) at the scope."""
    block = {
        "name": name,
        "identifier": identifier,
        "versionLabel": "v1",
        "type": kind,
        **_scope(org, project),
        "tags": {},
        "spec": spec,
    }
    return _dump("template", block)


def freeze_yaml(
    org: str,
    project: str,
    identifier: str,
    name: str,
    status: str,
    window: dict[str, Any],
    configs: list[dict[str, Any]],
) -> str:
    """A deployment freeze with one window."""
    block = {
        "name": name,
        "identifier": identifier,
        "entityConfigs": configs,
        "status": status,
        **_scope(org, project),
        "windows": [window],
        "description": "",
    }
    return _dump("freeze", block)
