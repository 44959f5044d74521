"""The account's configuration, in the order a team would have created it, written through the create endpoints.

Every entity goes through `sandbox.resources.create_resource` with the sandbox clock set to its creation time,
so the stored documents are exactly what the API would have stored; audit events are created the same way,
with ids derived from the seed (so the state stays deterministic).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from harness_connector.domain.status import ExecutionStatus
from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.resources import create_resource
from harness_connector.sandbox.scenario import entities as bodies
from harness_connector.sandbox.scenario import yaml_bodies as yamls
from harness_connector.sandbox.scenario.faults import Regression, Window
from harness_connector.sandbox.scenario.ids import DAY_MS, HOUR_MS
from harness_connector.sandbox.scenario.pipelines import PIPELINES, PipelineSpec
from harness_connector.sandbox.scenario.plans import RunResult
from harness_connector.sandbox.scenario.timeline import RepoHistory, users_by_id
from harness_connector.sandbox.scenario.world import DELEGATES, ORGS, PROJECTS, SERVICES, User
from harness_connector.sandbox.state import SandboxState

__all__ = ["Seed", "configuration", "write_seeds"]

_DELEGATE_VERSION = "25.02.85300"


@dataclass(frozen=True, slots=True)
class Seed:
    """One entity to create: its kind, scope, create body and creation time."""

    kind: str
    body: Any
    at: int
    org: str = ""
    project: str = ""
    parent: str = ""


class _Clock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


def write_seeds(state: SandboxState, account_id: str, seeds: list[Seed]) -> int:
    """Create every seed, in order, at its time; returns how many were created."""
    clock = _Clock()
    ctx = SandboxContext(state=state, account_id=account_id, clock=clock)
    for seed in seeds:
        clock.now = seed.at
        create_resource(ctx, seed.kind, org=seed.org, project=seed.project, parent=seed.parent, body=seed.body)
    return len(seeds)


def _utc(ms: int) -> str:
    return time.strftime("%Y-%m-%d %I:%M %p", time.gmtime(ms // 1000))


def _platform(seed: int, account: str, start: int, anchor: int, windows: list[Window]) -> Iterator[Seed]:
    users = users_by_id()
    admin = users["kofi_mensah"]
    for n, (ident, name, description) in enumerate(ORGS):
        yield Seed("organization", bodies.organization_body(ident, name, description), start - (400 - n) * DAY_MS)
    for n, spec in enumerate(PROJECTS):
        at = start - (380 - n) * DAY_MS
        yield Seed("project", bodies.project_body(spec), at, org=spec.org)
        yield _audit(seed, account, admin, "CREATE", "CORE", "PROJECT", spec.identifier, spec.name, spec.org, "", at)
    for name, status, revoke in (("default_token", "ACTIVE", None), ("ci_token", "ACTIVE", None),
                                 ("legacy_docker_token", "REVOKED", None)):  # fmt: skip
        yield Seed("delegate_token", bodies.delegate_token_body(seed, name, status, admin, revoke), start - 200 * DAY_MS)
    for n, spec in enumerate(DELEGATES):
        body = bodies.delegate_body(spec, anchor, _DELEGATE_VERSION)
        yield Seed("delegate", body, start - (150 - n) * DAY_MS, org=spec.org, project=spec.project)
    yield from _connectors(start, anchor, windows)
    yield from _secrets(seed, account, admin, start, windows)


def _connectors(start: int, anchor: int, windows: list[Window]) -> Iterator[Seed]:
    at = start - 300 * DAY_MS
    ok = bodies.connection_status(True, anchor - 2 * HOUR_MS, anchor - 2 * HOUR_MS)
    github = {"url": "https://github.com", "type": "Account", "validationRepo": "acme/.github",
              "authentication": {"type": "Http", "spec": {"type": "UsernameToken", "spec": {
                  "username": "acme-ci", "tokenRef": "account.github_pat"}}},
              "apiAccess": {"type": "Token", "spec": {"tokenRef": "account.github_pat"}}, "executeOnDelegate": False}  # fmt: skip
    dockerhub = {"dockerRegistryUrl": "https://index.docker.io/v2/", "providerType": "DockerHub",
                 "auth": {"type": "Anonymous"}, "executeOnDelegate": False}  # fmt: skip
    ci_cluster = {"credential": {"type": "InheritFromDelegate"}, "delegateSelectors": ["ci"]}
    for ident, name, kind, spec in (("github", "GitHub", "Github", github), ("dockerhub", "Docker Hub", "DockerRegistry", dockerhub),
                                    ("ci_cluster", "CI build cluster", "K8sCluster", ci_cluster)):  # fmt: skip
        yield Seed("connector", bodies.connector_body("", "", ident, name, kind, spec, ok), at)
    expired = next((w for w in windows if w.family.id == "k8s_credentials_expired"), None)
    for project in PROJECTS:
        registry = {"dockerRegistryUrl": "https://registry.acme.io", "providerType": "Other",
                    "auth": {"type": "UsernamePassword", "spec": {"username": f"harness-{project.identifier}",
                                                                   "passwordRef": "acme_registry_password"}}}  # fmt: skip
        scope = (project.org, project.identifier)
        yield Seed("connector", bodies.connector_body(*scope, "acme_registry", "ACME registry", "DockerRegistry", registry, ok),
                   at, *scope)  # fmt: skip
        if project.identifier == "infra":
            manual = {"credential": {"type": "ManualConfig", "spec": {"masterUrl": "https://eks-infra.acme.internal",
                      "auth": {"type": "ServiceAccount", "spec": {"serviceAccountTokenRef": "infra_eks_sa_token"}}}},
                      "delegateSelectors": ["ops"]}  # fmt: skip
            status = ok
            if expired is not None:
                error = "Unable to connect to the cluster: Unauthorized (401): the service account token has expired"
                status = bodies.connection_status(False, anchor - 25 * 60_000, expired.start - 10 * 60_000, error)
            yield Seed("connector", bodies.connector_body(*scope, "infra_eks", "Infra EKS", "K8sCluster", manual, status),
                       at, *scope)  # fmt: skip
            continue
        for env, selector in (("staging", "staging"), ("prod", "prod")):
            spec = {"credential": {"type": "InheritFromDelegate"}, "delegateSelectors": [selector]}
            yield Seed("connector", bodies.connector_body(*scope, f"{env}_cluster", f"{env} cluster", "K8sCluster", spec, ok),
                       at, *scope)  # fmt: skip


def _secrets(seed: int, account: str, admin: User, start: int, windows: list[Window]) -> Iterator[Seed]:
    at = start - 310 * DAY_MS
    for ident, description in (("github_pat", "GitHub token of acme-ci"), ("slack_webhook", "Alerts channel")):
        yield Seed("secret", bodies.secret_body("", "", ident, ident, description), at)
    for project in PROJECTS:
        scope = (project.org, project.identifier)
        for ident in ("acme_registry_password", "sonar_token"):
            yield Seed("secret", bodies.secret_body(*scope, ident, ident, ""), at, *scope)
        if project.identifier == "infra":
            yield Seed("secret", bodies.secret_body(*scope, "infra_eks_sa_token", "infra_eks_sa_token", ""), at, *scope)
    for window in windows:
        if window.family.id == "registry_credentials_expired" and window.project:
            project = next(p for p in PROJECTS if p.identifier == window.project)
            yield _audit(seed, account, admin, "UPDATE", "CORE", "SECRET", "acme_registry_password",
                         "acme_registry_password", project.org, project.identifier, window.end)  # fmt: skip


def _audit(seed: int, account: str, user: User, action: str, module: str, kind: str, ident: str, name: str, org: str,
           project: str, at: int, **labels: str) -> Seed:  # fmt: skip
    resource = {"type": kind, "identifier": ident, "labels": {"resourceName": name, **labels}}
    return Seed("audit_event", bodies.audit_body(seed, account, user, action, module, resource, org, project, at), at)


def _cd_entities(start: int) -> Iterator[Seed]:
    at = start - 250 * DAY_MS
    deployed = {p.service for p in PIPELINES if p.kind == "cd"}
    for svc in SERVICES:
        if svc.test_template and svc.id != "storefront_e2e":
            yield Seed("service", bodies.service_body(svc), at, svc.org, svc.project)
    for project in PROJECTS:
        scope = (project.org, project.identifier)
        if project.identifier == "infra":
            yield Seed("environment", bodies.environment_body(*scope, "ops", True), at, *scope)
            continue
        for env, connector in (("staging", "staging_cluster"), ("production", "prod_cluster")):
            yield Seed("environment", bodies.environment_body(*scope, env, env == "production"), at, *scope)
            yield Seed("infrastructure", bodies.infrastructure_body(*scope, env, connector), at, *scope, env)
        for svc in SERVICES:
            if svc.id in deployed and svc.project == project.identifier:
                body = bodies.service_override_body(*scope, "production", svc.id, 6)
                yield Seed("service_override", body, at, *scope)


def _pipelines(seed: int, account: str, start: int, regressions: list[Regression]) -> Iterator[Seed]:
    users = users_by_id()
    for n, pipeline in enumerate(PIPELINES):
        at = start - (90 - n) * DAY_MS
        scope = (pipeline.org, pipeline.project)
        owner = _owner(pipeline, users)
        yield Seed("pipeline", yamls.pipeline_yaml(pipeline), at, *scope)
        yield _audit(seed, account, owner, "CREATE", pipeline.module.upper(), "PIPELINE", pipeline.id, pipeline.name, *scope, at)
        for ident, name, inputs in _input_sets(pipeline):
            yield Seed("input_set", yamls.input_set_yaml(pipeline, ident, name, inputs), at + HOUR_MS, *scope, pipeline.id)
        for ident, name, source, inputs in _triggers(pipeline):
            body = yamls.trigger_yaml(pipeline, ident, name, source, inputs)
            yield Seed("trigger", body, at + 2 * HOUR_MS, *scope, pipeline.id)
    for reg in regressions:
        if reg.family.mode != "main_regression":
            continue
        pipeline = next(p for p in PIPELINES if p.id == reg.pipeline)
        scope = (pipeline.org, pipeline.project)
        for commit in (reg.broken_by, reg.fixed_by):
            if commit is not None:
                yield _audit(seed, account, users[commit.author], "UPDATE", pipeline.module.upper(), "PIPELINE",
                             pipeline.id, pipeline.name, *scope, commit.ts + 30_000, commitId=commit.sha)  # fmt: skip
        if reg.family.id == "missing_secret" and reg.fixed_by is not None:
            secret = str(reg.params["secret"])
            yield Seed("secret", bodies.secret_body(*scope, secret, secret, "added with the fix"), reg.fixed_by.ts - 60_000, *scope)


def _owner(pipeline: PipelineSpec, users: dict[str, User]) -> User:
    svc = next((s for s in SERVICES if s.id == pipeline.service), None)
    return users[svc.authors[0]] if svc is not None else users["kofi_mensah"]


def _input_sets(pipeline: PipelineSpec) -> list[tuple[str, str, dict[str, Any]]]:
    if pipeline.kind == "cd":
        return [("pin_stable", "Pin stable image", {"variables": [{"name": "imageTag", "type": "String", "value": "stable"}]})]
    if pipeline.module == "ci" and pipeline.repo:
        return [("main_branch", "Main branch", yamls.codebase_inputs("branch", "main"))]
    return []


def _triggers(pipeline: PipelineSpec) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    found: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
    if pipeline.module == "ci" and pipeline.repo and pipeline.kind in ("ci", "images"):
        for ident, name, event, build, value, actions in (
            ("on_push_main", "On push to main", "Push", "branch", "<+trigger.branch>", []),
            ("on_pull_request", "On pull request", "PullRequest", "PR", "<+trigger.prNumber>",
             ["Open", "Reopen", "Edit", "Synchronize"]),
        ):  # fmt: skip
            spec = {"repoName": pipeline.repo, "autoAbortPreviousExecutions": event == "PullRequest", "actions": actions,
                    "payloadConditions": [{"key": "targetBranch", "operator": "Equals", "value": "main"}],
                    "headerConditions": []}  # fmt: skip
            source = {"type": "Webhook", "spec": {"type": "Harness", "spec": {"type": event, "spec": spec}}}
            found.append((ident, name, source, yamls.codebase_inputs(build, value)))
    if pipeline.cron:
        ident = "weekly_rebuild" if pipeline.kind == "images" else "nightly"
        source = {"type": "Scheduled", "spec": {"type": "Cron", "spec": {"type": "UNIX", "expression": pipeline.cron}}}
        inputs = yamls.codebase_inputs("branch", "main") if pipeline.repo else {}
        found.append((ident, ident.replace("_", " ").capitalize(), source, inputs))
    if pipeline.kind == "cd":
        source = {"type": "Webhook", "spec": {"type": "Custom", "spec": {"payloadConditions": [], "headerConditions": []}}}
        inputs = {"variables": [{"name": "imageTag", "type": "String", "value": "<+trigger.payload.tag>"}]}
        found.append(("on_new_image", "On new image", source, inputs))
    return found


def _extras(start: int, anchor: int) -> Iterator[Seed]:
    at = start - 40 * DAY_MS
    notify = {"type": "ShellScript", "timeout": "2m", "spec": {
        "shell": "Bash", "onDelegate": True, "environmentVariables": [
            {"name": "WEBHOOK", "type": "Secret", "value": "<+secrets.getValue(\"account.slack_webhook\")>"}],
        "source": {"type": "Inline", "spec": {"script": "curl -sf -X POST \"$WEBHOOK\" -d \"{\\\"text\\\": \\\"$MESSAGE\\\"}\""}}}}  # fmt: skip
    maven = {"type": "Run", "timeout": "30m", "spec": {"connectorRef": "account.dockerhub", "image": "maven:3.9.6-eclipse-temurin-17",
             "shell": "Sh", "command": "mvn -B -ntp verify", "reports": {"type": "JUnit", "spec": {"paths": ["target/surefire-reports/*.xml"]}}}}  # fmt: skip
    gotest = {"type": "Run", "timeout": "20m", "spec": {"connectorRef": "account.dockerhub", "image": "golang:1.22.3-bookworm",
              "shell": "Sh", "command": "gotestsum --junitfile reports/junit.xml -- ./..."}}  # fmt: skip
    rolling = {"type": "Deployment", "spec": {"deploymentType": "Kubernetes", "execution": {"steps": [{"step": {
        "type": "K8sRollingDeploy", "name": "Rollout", "identifier": "rollout", "timeout": "10m",
        "spec": {"skipDryRun": False}}}]}}}  # fmt: skip
    for scope, ident, name, kind, spec in ((("", ""), "slack_notify", "Slack notify", "Step", notify),
                                           (("default", "payments"), "maven_verify", "Maven verify", "Step", maven),
                                           (("platform", ""), "go_test", "Go test", "Step", gotest),
                                           (("default", ""), "k8s_rolling_stage", "K8s rolling stage", "Stage", rolling)):  # fmt: skip
        yield Seed("template", yamls.template_yaml(*scope, ident, name, kind, spec), at, *scope)
    for ident, name, owner, states, description in (
        ("new_checkout_flow", "New checkout flow", "gustavo_lima", {"staging": "on", "production": "off"}, "One-page checkout"),
        ("search_v2_ranking", "Search v2 ranking", "julia_berg", {"staging": "on", "production": "on"}, "Learning-to-rank model"),
        ("promo_banner", "Promo banner", "hana_sato", {"staging": "off", "production": "off"}, "Seasonal promo banner"),
        ("dark_mode", "Dark mode", "hana_sato", {"staging": "on", "production": "off"}, ""),
    ):  # fmt: skip
        yield Seed("feature_flag", bodies.feature_flag_body("web", ident, name, owner, states, description), at, "default", "web")
    prod_only = [{"name": "production", "entities": [{"type": "Service", "filterType": "All"},
                                                     {"type": "EnvType", "filterType": "Equals", "entityRefs": ["Production"]}]}]  # fmt: skip
    day = anchor - anchor % DAY_MS
    for scope, ident, name, status, window in (
        (("default", "web"), "black_friday", "Black Friday", "Enabled",
         {"timeZone": "UTC", "startTime": _utc(day + 12 * DAY_MS), "duration": "4d"}),
        (("default", "payments"), "month_end_close", "Month-end close", "Enabled",
         {"timeZone": "UTC", "startTime": _utc(day - 3 * DAY_MS), "duration": "1d",
          "recurrence": {"type": "Monthly"}}),
        (("default", ""), "holiday_freeze", "Holiday freeze", "Disabled",
         {"timeZone": "UTC", "startTime": _utc(day + 40 * DAY_MS), "duration": "2w", "recurrence": {"type": "Yearly"}}),
    ):  # fmt: skip
        yield Seed("freeze_window", yamls.freeze_yaml(*scope, ident, name, status, window, prod_only), at, *scope)


def _code(histories: dict[str, RepoHistory], start: int) -> Iterator[Seed]:
    users = users_by_id()
    for svc in SERVICES:
        if svc.id in histories:
            yield Seed("repository", bodies.repository_body(svc), start - 500 * DAY_MS, svc.org, svc.project)
    for svc in SERVICES:
        history = histories.get(svc.id)
        for pr in history.pulls if history is not None else []:
            yield Seed("pull_request", bodies.pull_request_body(pr, users[pr.author]), pr.created, svc.org, svc.project,
                       svc.name)  # fmt: skip


def _runs_audit(seed: int, account: str, results: list[RunResult]) -> Iterator[Seed]:
    for result in results:
        plan, record = result.plan, result.record
        scope = (plan.pipeline.org, plan.pipeline.project)
        module = plan.pipeline.module.upper()
        if plan.trigger_type == "MANUAL":
            yield _audit(seed, account, plan.user, "START", module, "PIPELINE", plan.pipeline.id, plan.pipeline.name,
                         *scope, plan.start, planExecutionId=plan.id)  # fmt: skip
        if record.status == ExecutionStatus.ABORTED and plan.abort_at is not None:
            yield _audit(seed, account, plan.user, "ABORT", module, "PIPELINE", plan.pipeline.id, plan.pipeline.name,
                         *scope, plan.abort_at, planExecutionId=plan.id)  # fmt: skip


def configuration(
    seed: int, account: str, start: int, anchor: int, histories: dict[str, RepoHistory], regressions: list[Regression],
    windows: list[Window], results: list[RunResult],
) -> list[Seed]:  # fmt: skip
    """Every configuration entity and audit event of the account, in creation order."""
    return [
        *_platform(seed, account, start, anchor, windows),
        *_cd_entities(start),
        *_pipelines(seed, account, start, regressions),
        *_extras(start, anchor),
        *_code(histories, start),
        *_runs_audit(seed, account, results),
    ]
