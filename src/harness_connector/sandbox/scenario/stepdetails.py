"""The details of a simulated step that Harness shows around it: log recipe params, step spec, stage CD fields,
trigger identity and the runtime inputs of the run.
"""

from __future__ import annotations

import random
from typing import Any

from harness_connector.domain.status import ExecutionStatus
from harness_connector.sandbox.model import LogRecipe, StageRun
from harness_connector.sandbox.scenario.failure import FailureFamily
from harness_connector.sandbox.scenario.ids import derive_seed
from harness_connector.sandbox.scenario.pipelines import PipelineSpec, StageSpec, StepSpec, service
from harness_connector.sandbox.scenario.plans import RunPlan
from harness_connector.sandbox.scenario.pools import POOLS
from harness_connector.sandbox.scenario.testcatalog import source_files
from harness_connector.sandbox.scenario.toolchains import TOOLCHAINS, package_params

__all__ = [
    "BAD_ORDER",
    "artifact_for",
    "failure_message",
    "input_set_yaml",
    "log_recipe",
    "overall_status",
    "stage_fields",
    "stage_groups",
    "step_spec",
    "timeout_ms",
    "trigger_identity",
]

REGISTRY = "registry.acme.io"
_BASE_IMAGES = {
    "npm": "node:20.12-bullseye-slim",
    "pip": "python:3.11-slim-bookworm",
    "maven": "eclipse-temurin:17-jre-jammy",
    "gradle": "eclipse-temurin:17-jre-jammy",
    "go": "golang:1.22.3-bookworm",
    "docker": "debian:bookworm-slim",
}
_UNITS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_TRIGGERS = {"ci": ("on_push_main", "on_pull_request"), "cd": ("on_new_image",)}


def timeout_ms(timeout: str) -> int:
    """`10m`, `4h`, `30s` in milliseconds."""
    return int(timeout[:-1]) * _UNITS[timeout[-1]]


def artifact_for(pipeline: PipelineSpec, sha: str, flavour: str = "") -> str:
    """The image a build of `sha` pushes (and a deploy of it pulls)."""
    svc = service(pipeline.service) if pipeline.service else None
    name = f"{svc.name if svc else 'app'}{'-' + flavour if flavour else ''}"
    version = svc.app_version if svc else "1.0.0"
    return f"{REGISTRY}/{pipeline.project}/{name}:{version}-{sha[:7]}"


def trigger_identity(plan: RunPlan) -> tuple[str, str | None]:
    """(triggeredBy identifier, email) as Harness records them: the trigger for automatic runs, else the user."""
    if plan.trigger_type == "SCHEDULER_CRON":
        return "nightly" if plan.pipeline.cron.startswith(("0 2", "30 3")) else "weekly_rebuild", None
    if plan.trigger_type == "WEBHOOK":
        return ("on_pull_request" if plan.is_pr else "on_push_main"), plan.user.email
    if plan.trigger_type == "WEBHOOK_CUSTOM":
        return "on_new_image", None
    return plan.user.identifier, plan.user.email


def input_set_yaml(plan: RunPlan) -> str:
    """The runtime inputs the run used (the codebase build for CI, the image tag for CD)."""
    head = f"pipeline:\n  identifier: {plan.pipeline.id}\n"
    if plan.deploy is not None:
        tag = plan.deploy.artifact.rsplit(":", 1)[-1]
        return head + f"  variables:\n    - name: imageTag\n      type: String\n      value: {tag}\n"
    if plan.pipeline.module != "ci" or plan.commit is None:
        return ""
    if plan.pr is not None:
        build = f"type: PR\n            spec:\n              number: {plan.pr.number}"
    else:
        build = "type: branch\n            spec:\n              branch: main"
    return head + f"  properties:\n    ci:\n      codebase:\n        build:\n            {build}\n"


def stage_fields(plan: RunPlan, spec: StageSpec) -> dict[str, Any]:
    """The CD fields of a deployment stage (service, environment, infrastructure, strategy, artifact)."""
    if spec.stage_type != "Deployment":
        return {}
    return {
        "service_id": plan.pipeline.service,
        "environment_id": spec.environment,
        "environment_type": "Production" if spec.environment == "production" else "PreProduction",
        "infrastructure_id": f"{spec.environment}_k8s",
        "deployment_type": "Kubernetes",
        "strategy": spec.strategy,
        "artifact": plan.deploy.artifact if plan.deploy else None,
    }


def step_spec(plan: RunPlan, step: StepSpec) -> dict[str, Any]:
    """The step's resolved parameters, as the execution graph shows them (`stepParameters.spec`)."""
    if step.step_type == "Run":
        tc = TOOLCHAINS.get(step.toolchain)
        spec: dict[str, Any] = {"shell": "Sh", "command": step.command, "image": tc.image if tc else "alpine:3.19"}
        if step.has_reports and tc is not None:
            spec["reports"] = {"type": "JUnit", "spec": {"paths": [tc.report_paths]}}
        return spec
    if step.step_type == "BuildAndPushDockerRegistry":
        sha = plan.commit.sha if plan.commit else "0" * 40
        repo, tag = artifact_for(plan.pipeline, sha).rsplit(":", 1)
        return {"connectorRef": "acme_registry", "repo": repo, "tags": [tag, "latest"], "dockerfile": "Dockerfile"}
    if step.step_type == "ShellScript":
        return {"shell": "Bash", "onDelegate": True, "source": {"type": "Inline", "spec": {"script": step.command}}}
    if step.step_type == "HarnessApproval":
        return {"approvers": {"userGroups": ["release_managers"], "minimumCount": 1}, "approvalMessage": "Promote?"}
    if step.step_type == "Http":
        return {"method": "GET", "url": _health_url(plan, step), "assertion": "<+httpResponseCode> == 200"}
    return {}


def _health_url(plan: RunPlan, step: StepSpec) -> str:
    env = "production" if "prod" in step.selectors else "staging"
    svc = service(plan.pipeline.service).name if plan.pipeline.service else "app"
    return f"https://{svc}.{env}.acme.internal/healthz"


def _role_params(plan: RunPlan, stage: StageSpec, step: StepSpec, rng: random.Random) -> dict[str, Any]:
    pipeline, commit = plan.pipeline, plan.commit
    svc = service(pipeline.service) if pipeline.service else None
    params: dict[str, Any] = {"service": svc.name if svc else pipeline.id}
    role = step.role
    if role == "init":
        params.update(
            image=step.command,
            pod=f"{pipeline.id[:24]}-{stage.identifier[:12]}-{rng.getrandbits(24):06x}",
            node=rng.choice(POOLS["node"]),
        )
    elif role == "clone":
        repo = pipeline.repo or (svc.name if svc else "repo")
        pr = plan.pr
        params.update(
            repo=repo,
            clone_url=f"https://git.harness.io/acme/{pipeline.org}/{pipeline.project}/{repo}.git",
            git_host="git.harness.io",
            ref=f"refs/pull/{pr.number}/head" if pr else "refs/heads/main",
            ref_kind="branch" if not pr else "ref",
            ref_short="main" if not pr else f"pull/{pr.number}/head",
            branch_local=plan.branch or "main",
        )
        if commit is not None:
            params.update(sha=commit.sha, commit_subject=commit.message.splitlines()[0][:72])
    elif role in ("install", "compile", "test"):
        params[f"{role}_cmd"] = step.command
        if svc is not None:
            params.update(app_version=svc.app_version, go_mod_self=svc.package)
        if role == "test":
            params["tests_service"] = pipeline.service
    elif role == "docker":
        sha = commit.sha if commit else "0" * 40
        flavour = stage.identifier.removesuffix("_image") if pipeline.kind == "images" else ""
        base = _BASE_IMAGES.get(svc.toolchain if svc else "docker", "debian:bookworm-slim")
        params.update(base_image=base, artifact=artifact_for(pipeline, sha, flavour))
    elif role in ("deploy", "verify", "smoke", "canary_delete", "approval") and plan.deploy is not None:
        env = stage.environment or "production"
        params.update(
            artifact=plan.deploy.artifact,
            environment=env,
            namespace=f"{pipeline.project}-{env}",
            replicas=6 if env == "production" else 2,
            health_url=_health_url(plan, step),
            approver=plan.deploy.approver.name,
            approver_group="release_managers",
        )
    return params


def _failure_params(
    family: FailureFamily, plan: RunPlan, step: StepSpec, rng: random.Random, params: dict[str, Any]
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "failure": family.id,
        "variant": rng.randrange(8),
        "progress": round(min(rng.uniform(*family.fail_at), 0.98), 3),
        "exit_code": family.exit_code,
        "timeout": step.timeout,
        "selector": ",".join(step.selectors) or "ci",
        "task_id": f"{rng.getrandbits(96):024x}",
    }
    tc = TOOLCHAINS.get(step.toolchain) or TOOLCHAINS.get(
        service(plan.pipeline.service).toolchain if plan.pipeline.service else ""
    )
    if tc is not None and step.role in ("install", "compile", "test", "docker"):
        found.update(package_params(tc, rng))
    if family.category == "compile_error" and plan.pipeline.service:
        files = source_files(plan.pipeline.service)
        path, owner = rng.choice(files) if files else ("src/main.ts", "Main")
        found.update(src_file=path, src_class=owner, go_pkg_full=owner)
    if family.id in ("pod_evicted", "node_lost"):
        found.update(
            pod=params.get("pod", f"{plan.pipeline.id[:24]}-{rng.getrandbits(24):06x}"),
            node=rng.choice(POOLS["node"]),
            container=f"step-{rng.randrange(2, 7)}",
        )
    if family.id == "canary_verification_failed":
        found.update(canary_error_pct=f"{rng.uniform(4, 12):.1f}", baseline_error_pct=f"{rng.uniform(0.1, 0.6):.2f}")
    found["project"] = plan.pipeline.project
    found["step"] = step.identifier
    return found


def log_recipe(
    seed: int,
    plan: RunPlan,
    stage: StageSpec,
    step: StepSpec,
    duration: int,
    family: FailureFamily | None,
    fault_params: dict[str, Any],
    failed_tests: list[dict[str, Any]],
    rng: random.Random,
    in_progress: bool = False,
) -> LogRecipe:
    """The recipe the log service renders for this step (see `logs.render_log`)."""
    params = _role_params(plan, stage, step, rng)
    params.update(toolchain=step.toolchain, role=step.role, duration_ms=max(duration, 1))
    if family is not None:
        params.update(_failure_params(family, plan, step, rng, params))
        params.update(fault_params)
        if failed_tests:
            params["failed_tests"] = failed_tests
    if in_progress:
        params.update(in_progress=1, progress=round(rng.uniform(0.2, 0.9), 3))
    low, high = step.lines
    return LogRecipe(
        family=step.template,
        seed=derive_seed(seed, "log", plan.id, stage.identifier, step.identifier),
        lines=int(low + rng.random() * (high - low)) if high else 0,
        params=params,
    )


S = ExecutionStatus
# The order in which a stage's bad end decides the execution's status (after Running and ApprovalWaiting).
BAD_ORDER = (S.FAILED, S.EXPIRED, S.APPROVAL_REJECTED, S.ABORTED)


def stage_groups(stages: tuple[StageSpec, ...]) -> list[list[StageSpec]]:
    groups: list[list[StageSpec]] = []
    for spec in stages:
        if groups and spec.parallel_group is not None and groups[-1][0].parallel_group == spec.parallel_group:
            groups[-1].append(spec)
        else:
            groups.append([spec])
    return groups


def overall_status(stages: list[StageRun]) -> ExecutionStatus:
    statuses = {stage.status for stage in stages}
    for waiting in (S.RUNNING, S.APPROVAL_WAITING):
        if waiting in statuses:
            return waiting
    for bad in BAD_ORDER:
        if bad in statuses:
            return bad
    return S.SUCCESS


def failure_message(family: FailureFamily, params: dict[str, Any]) -> str:
    fields = {key: str(value) for key, value in params.items() if isinstance(value, (str, int, float))}
    try:
        return family.message.format_map(_Keep(fields))
    except (ValueError, IndexError):
        return family.message


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
