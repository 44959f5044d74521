"""The account's configuration, in the order a team would have created it, written through the create endpoints.

Every entity goes through `sandbox.resources.create_resource` with the sandbox clock set to its creation time,
so the stored documents are exactly what the API would have stored; audit events are created the same way,
with ids derived from the seed (so the state stays deterministic).
"""

from __future__ import annotations

from collections.abc import Iterator

from harness_connector.domain.status import ExecutionStatus
from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.resources import create_resource
from harness_connector.sandbox.scenario import entities as bodies
from harness_connector.sandbox.scenario.entities import Seed, audit_seed
from harness_connector.sandbox.scenario.faults import Regression, Window
from harness_connector.sandbox.scenario.ids import DAY_MS, HOUR_MS
from harness_connector.sandbox.scenario.pipelines import PIPELINES
from harness_connector.sandbox.scenario.plans import RunResult
from harness_connector.sandbox.scenario.seeding_pipelines import extra_seeds, pipeline_seeds
from harness_connector.sandbox.scenario.timeline import RepoHistory, users_by_id
from harness_connector.sandbox.scenario.world import DELEGATES, ORGS, PROJECTS, SERVICES, User
from harness_connector.sandbox.state import SandboxState

__all__ = ["Seed", "configuration", "write_seeds"]

_DELEGATE_VERSION = "25.02.85300"


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


def _platform(seed: int, account: str, start: int, anchor: int, windows: list[Window]) -> Iterator[Seed]:
    users = users_by_id()
    admin = users["kofi_mensah"]
    for n, (ident, name, description) in enumerate(ORGS):
        yield Seed("organization", bodies.organization_body(ident, name, description), start - (400 - n) * DAY_MS)
    for n, spec in enumerate(PROJECTS):
        at = start - (380 - n) * DAY_MS
        yield Seed("project", bodies.project_body(spec), at, org=spec.org)
        yield audit_seed(
            seed, account, admin, "CREATE", "CORE", "PROJECT", spec.identifier, spec.name, spec.org, "", at
        )
    for name, status, revoke in (
        ("default_token", "ACTIVE", None),
        ("ci_token", "ACTIVE", None),
        ("legacy_docker_token", "REVOKED", None),
    ):
        yield Seed(
            "delegate_token", bodies.delegate_token_body(seed, name, status, admin, revoke), start - 200 * DAY_MS
        )
    for n, delegate in enumerate(DELEGATES):
        body = bodies.delegate_body(delegate, anchor, _DELEGATE_VERSION)
        yield Seed("delegate", body, start - (150 - n) * DAY_MS, org=delegate.org, project=delegate.project)
    yield from _connectors(start, anchor, windows)
    yield from _secrets(seed, account, admin, start, windows)


def _connectors(start: int, anchor: int, windows: list[Window]) -> Iterator[Seed]:
    at = start - 300 * DAY_MS
    ok = bodies.connection_status(True, anchor - 2 * HOUR_MS, anchor - 2 * HOUR_MS)
    github = {
        "url": "https://github.com",
        "type": "Account",
        "validationRepo": "acme/.github",
        "authentication": {
            "type": "Http",
            "spec": {"type": "UsernameToken", "spec": {"username": "acme-ci", "tokenRef": "account.github_pat"}},
        },
        "apiAccess": {"type": "Token", "spec": {"tokenRef": "account.github_pat"}},
        "executeOnDelegate": False,
    }
    dockerhub = {
        "dockerRegistryUrl": "https://index.docker.io/v2/",
        "providerType": "DockerHub",
        "auth": {"type": "Anonymous"},
        "executeOnDelegate": False,
    }
    ci_cluster = {"credential": {"type": "InheritFromDelegate"}, "delegateSelectors": ["ci"]}
    for ident, name, kind, spec in (
        ("github", "GitHub", "Github", github),
        ("dockerhub", "Docker Hub", "DockerRegistry", dockerhub),
        ("ci_cluster", "CI build cluster", "K8sCluster", ci_cluster),
    ):
        yield Seed("connector", bodies.connector_body("", "", ident, name, kind, spec, ok), at)
    expired = next((w for w in windows if w.family.id == "k8s_credentials_expired"), None)
    for project in PROJECTS:
        registry = {
            "dockerRegistryUrl": "https://registry.acme.io",
            "providerType": "Other",
            "auth": {
                "type": "UsernamePassword",
                "spec": {"username": f"harness-{project.identifier}", "passwordRef": "acme_registry_password"},
            },
        }
        scope = (project.org, project.identifier)
        yield Seed(
            "connector",
            bodies.connector_body(*scope, "acme_registry", "ACME registry", "DockerRegistry", registry, ok),
            at,
            *scope,
        )
        if project.identifier == "infra":
            manual = {
                "credential": {
                    "type": "ManualConfig",
                    "spec": {
                        "masterUrl": "https://eks-infra.acme.internal",
                        "auth": {"type": "ServiceAccount", "spec": {"serviceAccountTokenRef": "infra_eks_sa_token"}},
                    },
                },
                "delegateSelectors": ["ops"],
            }
            status = ok
            if expired is not None:
                error = "Unable to connect to the cluster: Unauthorized (401): the service account token has expired"
                status = bodies.connection_status(False, anchor - 25 * 60_000, expired.start - 10 * 60_000, error)
            yield Seed(
                "connector",
                bodies.connector_body(*scope, "infra_eks", "Infra EKS", "K8sCluster", manual, status),
                at,
                *scope,
            )
            continue
        for env, selector in (("staging", "staging"), ("prod", "prod")):
            spec = {"credential": {"type": "InheritFromDelegate"}, "delegateSelectors": [selector]}
            yield Seed(
                "connector",
                bodies.connector_body(*scope, f"{env}_cluster", f"{env} cluster", "K8sCluster", spec, ok),
                at,
                *scope,
            )


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
            yield audit_seed(
                seed,
                account,
                admin,
                "UPDATE",
                "CORE",
                "SECRET",
                "acme_registry_password",
                "acme_registry_password",
                project.org,
                project.identifier,
                window.end,
            )


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


def _code(histories: dict[str, RepoHistory], start: int) -> Iterator[Seed]:
    users = users_by_id()
    for svc in SERVICES:
        if svc.id in histories:
            yield Seed("repository", bodies.repository_body(svc), start - 500 * DAY_MS, svc.org, svc.project)
    for svc in SERVICES:
        history = histories.get(svc.id)
        for pr in history.pulls if history is not None else []:
            yield Seed(
                "pull_request",
                bodies.pull_request_body(pr, users[pr.author]),
                pr.created,
                svc.org,
                svc.project,
                svc.name,
            )


def _runsaudit_seed(seed: int, account: str, results: list[RunResult]) -> Iterator[Seed]:
    for result in results:
        plan, record = result.plan, result.record
        scope = (plan.pipeline.org, plan.pipeline.project)
        module = plan.pipeline.module.upper()
        if plan.trigger_type == "MANUAL":
            yield audit_seed(
                seed,
                account,
                plan.user,
                "START",
                module,
                "PIPELINE",
                plan.pipeline.id,
                plan.pipeline.name,
                *scope,
                plan.start,
                planExecutionId=plan.id,
            )
        if record.status == ExecutionStatus.ABORTED and plan.abort_at is not None:
            yield audit_seed(
                seed,
                account,
                plan.user,
                "ABORT",
                module,
                "PIPELINE",
                plan.pipeline.id,
                plan.pipeline.name,
                *scope,
                plan.abort_at,
                planExecutionId=plan.id,
            )


def configuration(
    seed: int,
    account: str,
    start: int,
    anchor: int,
    histories: dict[str, RepoHistory],
    regressions: list[Regression],
    windows: list[Window],
    results: list[RunResult],
) -> list[Seed]:
    """Every configuration entity and audit event of the account, in creation order."""
    return [
        *_platform(seed, account, start, anchor, windows),
        *_cd_entities(start),
        *pipeline_seeds(seed, account, start, regressions),
        *extra_seeds(start, anchor),
        *_code(histories, start),
        *_runsaudit_seed(seed, account, results),
    ]
