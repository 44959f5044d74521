"""Create-endpoint bodies of the JSON kinds, one function per kind: what the Harness API receives to make each
configuration entity (`{"connector": {...}}`, `{"secret": {...}}`, plain JSON for services and the rest).

Delegates, their tokens and audit events have no public create body; theirs are the documents
`sandbox.resources` accepts for them. Connector bodies may carry a seeded `status` (the last connection test).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from harness_connector.sandbox.scenario.ids import url_safe_id
from harness_connector.sandbox.scenario.timeline import PullRequest
from harness_connector.sandbox.scenario.world import DelegateSpec, ProjectSpec, ServiceSpec, User

__all__ = [
    "Seed",
    "audit_body",
    "audit_seed",
    "connector_body",
    "delegate_body",
    "delegate_token_body",
    "environment_body",
    "feature_flag_body",
    "infrastructure_body",
    "organization_body",
    "project_body",
    "pull_request_body",
    "repository_body",
    "secret_body",
    "service_body",
    "service_override_body",
]


def _scope(org: str, project: str) -> dict[str, str]:
    return {k: v for k, v in (("orgIdentifier", org), ("projectIdentifier", project)) if v}


def organization_body(identifier: str, name: str, description: str) -> dict[str, Any]:
    return {"organization": {"identifier": identifier, "name": name, "description": description, "tags": {}}}


def project_body(spec: ProjectSpec) -> dict[str, Any]:
    return {
        "project": {
            "orgIdentifier": spec.org,
            "identifier": spec.identifier,
            "name": spec.name,
            "color": spec.color,
            "modules": list(spec.modules),
            "description": spec.description,
            "tags": {},
        }
    }


def connector_body(
    org: str, project: str, identifier: str, name: str, kind: str, spec: dict[str, Any], status: dict[str, Any]
) -> dict[str, Any]:
    connector = {
        "name": name,
        "identifier": identifier,
        "description": "",
        **_scope(org, project),
        "tags": {},
        "type": kind,
        "spec": spec,
    }
    return {"connector": connector, "status": status}


def connection_status(ok: bool, tested_at: int, connected_at: int, error: str = "") -> dict[str, Any]:
    """A connector's last connection test, as the connector API reports it."""
    if ok:
        return {
            "status": "SUCCESS",
            "errorSummary": None,
            "errors": None,
            "testedAt": tested_at,
            "lastTestedAt": tested_at,
            "lastConnectedAt": connected_at,
        }
    return {
        "status": "FAILURE",
        "errorSummary": error,
        "testedAt": tested_at,
        "lastTestedAt": tested_at,
        "errors": [{"reason": "Unexpected Error", "message": error, "code": 450}],
        "lastConnectedAt": connected_at,
    }


def secret_body(org: str, project: str, identifier: str, name: str, description: str) -> dict[str, Any]:
    # The value is required by the endpoint and never stored; the scenario only needs the metadata.
    spec = {"secretManagerIdentifier": "harnessSecretManager", "valueType": "Inline", "value": "sandbox-value"}
    secret = {
        "type": "SecretText",
        "name": name,
        "identifier": identifier,
        **_scope(org, project),
        "tags": {},
        "description": description,
        "spec": spec,
    }
    return {"secret": secret}


def service_body(svc: ServiceSpec) -> dict[str, Any]:
    definition = {
        "type": "Kubernetes",
        "spec": {
            "manifests": [
                {
                    "manifest": {
                        "identifier": "k8s_manifests",
                        "type": "K8sManifest",
                        "spec": {
                            "store": {"type": "Harness", "spec": {"files": [f"/{svc.name}/templates"]}},
                            "valuesPaths": [f"/{svc.name}/values.yaml"],
                            "skipResourceVersioning": False,
                        },
                    }
                }
            ],
            "artifacts": {
                "primary": {
                    "primaryArtifactRef": "image",
                    "sources": [
                        {
                            "identifier": "image",
                            "type": "DockerRegistry",
                            "spec": {
                                "connectorRef": "acme_registry",
                                "imagePath": f"{svc.project}/{svc.name}",
                                "tag": "<+pipeline.variables.imageTag>",
                            },
                        }
                    ],
                }
            },
        },
    }
    block = {
        "name": svc.name,
        "identifier": svc.id,
        **_scope(svc.org, svc.project),
        "tags": {"team": svc.project},
        "serviceDefinition": definition,
    }
    return {
        "identifier": svc.id,
        "name": svc.name,
        "description": f"{svc.name} ({svc.toolchain})",
        **_scope(svc.org, svc.project),
        "tags": {"team": svc.project},
        "yaml": yaml.safe_dump({"service": block}, sort_keys=False),
    }


def environment_body(org: str, project: str, identifier: str, production: bool) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "name": identifier,
        **_scope(org, project),
        "description": "",
        "type": "Production" if production else "PreProduction",
        "tags": {},
        "color": "#e63535" if production else "#0063f7",
    }


def infrastructure_body(org: str, project: str, environment: str, connector: str) -> dict[str, Any]:
    identifier = f"{environment}_k8s"
    block = {
        "name": f"{environment}-k8s",
        "identifier": identifier,
        **_scope(org, project),
        "environmentRef": environment,
        "deploymentType": "Kubernetes",
        "type": "KubernetesDirect",
        "spec": {
            "connectorRef": connector,
            "namespace": f"{project}-{environment}",
            "releaseName": "release-<+INFRA_KEY_SHORT_ID>",
        },
        "allowSimultaneousDeployments": False,
    }
    return {
        "identifier": identifier,
        "name": block["name"],
        **_scope(org, project),
        "environmentRef": environment,
        "type": "KubernetesDirect",
        "deploymentType": "Kubernetes",
        "yaml": yaml.safe_dump({"infrastructureDefinition": block}, sort_keys=False),
    }


def service_override_body(org: str, project: str, environment: str, service_id: str, replicas: int) -> dict[str, Any]:
    variables = [
        {"name": "replicas", "type": "String", "value": str(replicas)},
        {"name": "logLevel", "type": "String", "value": "info"},
    ]
    return {
        **_scope(org, project),
        "environmentRef": environment,
        "serviceRef": service_id,
        "type": "ENV_SERVICE_OVERRIDE",
        "spec": {"variables": variables},
    }


def delegate_body(spec: DelegateSpec, anchor: int, version: str) -> dict[str, Any]:
    heartbeat = anchor - int(spec.disconnected_hours * 3_600_000) if spec.disconnected_hours else anchor - 20_000
    replicas = [
        {
            "hostName": f"{spec.name}-{i}",
            "lastHeartbeat": heartbeat - i * 7_000,
            "version": version,
            "expiringAt": anchor + (60 - 9 * i) * 86_400_000,
        }
        for i in range(spec.replicas)
    ]
    return {
        "name": spec.name,
        "type": spec.type,
        "description": f"{spec.type.lower()} delegate ({', '.join(spec.tags)})",
        "tags": list(spec.tags),
        "connected": not spec.disconnected_hours,
        "lastHeartBeat": heartbeat,
        "version": version,
        "hostName": f"{spec.name}-0",
        "autoUpgrade": "OFF" if spec.disconnected_hours else "ON",
        "legacy": spec.type == "DOCKER" and bool(spec.disconnected_hours),
        "tokenName": "default_token",
        "delegateReplicas": replicas,
    }


def delegate_token_body(seed: int, name: str, status: str, creator: User, revoke_after: int | None) -> dict[str, Any]:
    return {
        "name": name,
        "status": status,
        "value": url_safe_id(seed, "delegate-token", name, length=44),
        "revokeAfter": revoke_after,
        "createdBy": {"type": "USER", "name": creator.identifier},
    }


def feature_flag_body(
    project: str, identifier: str, name: str, owner: str, states: dict[str, str], description: str
) -> dict[str, Any]:
    environments = {
        env: {"state": state, "defaultServe": {"variation": "true"}, "offVariation": "false"}
        for env, state in states.items()
    }
    return {
        "identifier": identifier,
        "name": name,
        "kind": "boolean",
        "permanent": False,
        "project": project,
        "defaultOnVariation": "true",
        "defaultOffVariation": "false",
        "tags": [{"name": "team", "identifier": project}],
        "owner": [owner],
        "description": description,
        "environments": environments,
    }


def repository_body(svc: ServiceSpec) -> dict[str, Any]:
    return {
        "identifier": svc.name,
        "description": f"Source of {svc.name}",
        "default_branch": "main",
        "is_public": False,
        "readme": True,
        "license": "",
        "git_ignore": "",
    }


def pull_request_body(pr: PullRequest, author: User) -> dict[str, Any]:
    merged = pr.closed_at if pr.state == "merged" else None
    return {
        "title": pr.title,
        "description": f"{pr.title}\n\nCloses {service_tracker(pr.repo)}-{pr.number * 7 % 900 + 100}",
        "source_branch": pr.source_branch,
        "target_branch": "main",
        "is_draft": False,
        "state": pr.state,
        "author": {"uid": author.identifier, "display_name": author.name, "email": author.email},
        "merged": merged,
        "merge_method": "squash" if merged else None,
        "source_sha": pr.commits[-1].sha,
    }


def service_tracker(repo: str) -> str:
    """The issue-tracker key a repository's PR descriptions refer to."""
    return repo.split("-")[0].upper()[:4]


def audit_body(
    seed: int,
    account: str,
    user: User,
    action: str,
    module: str,
    resource: dict[str, Any],
    org: str,
    project: str,
    timestamp: int,
    new_yaml: str | None = None,
) -> dict[str, Any]:
    audit_id = url_safe_id(seed, "audit", action, json.dumps(resource, sort_keys=True), timestamp, length=20)
    scope = {"accountIdentifier": account, **_scope(org, project)}
    return {
        "auditId": audit_id,
        "action": action,
        "module": module,
        "resource": resource,
        "resourceScope": scope,
        "timestamp": timestamp,
        "newYaml": new_yaml,
        "authenticationInfo": {
            "principal": {"type": "USER", "identifier": user.identifier, "email": user.email},
            "labels": {"username": user.name, "userId": user.identifier},
        },
    }


@dataclass(frozen=True, slots=True)
class Seed:
    """One entity to create: its kind, scope, create body and creation time."""

    kind: str
    body: Any
    at: int
    org: str = ""
    project: str = ""
    parent: str = ""


def audit_seed(
    seed: int,
    account: str,
    user: User,
    action: str,
    module: str,
    kind: str,
    ident: str,
    name: str,
    org: str,
    project: str,
    at: int,
    **labels: str,
) -> Seed:
    resource = {"type": kind, "identifier": ident, "labels": {"resourceName": name, **labels}}
    return Seed("audit_event", audit_body(seed, account, user, action, module, resource, org, project, at), at)
