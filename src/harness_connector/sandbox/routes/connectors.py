"""Connectors (NG manager), at account, org or project scope, and their connection test.

A connector's document is its create body `{"connector": {name, identifier, description, orgIdentifier,
projectIdentifier, tags, type, spec}}` plus `"status"`, the ConnectorConnectivityDetails of its last test
(UNKNOWN until tested; the scenario may seed one). A connector that runs on a delegate (delegate selectors,
`executeOnDelegate`, or credentials inherited from a delegate) passes its test only when a connected delegate
usable from its scope carries every selector; otherwise the test fails as Harness's does, with "No eligible
delegate(s) in account to execute task. No matching selector(s)" as the deepest response message.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.envelopes import ApiError, ng_page, ok
from harness_connector.sandbox.requests import json_body, ng_paging
from harness_connector.sandbox.resources import (
    Draft,
    KindSpec,
    Parsed,
    check_identifier,
    create_resource,
    delete_resource,
    get_resource,
    list_resources,
    save_doc,
    update_resource,
)
from harness_connector.sandbox.routes._common import (
    actor_of,
    body_scope,
    bool_param,
    check_body_scope,
    filter_body,
    matches,
    ng_tags,
    optional_scope,
    require_text,
    route,
    scope_chain,
    sort_entities,
    text,
    unwrap,
    window,
)
from harness_connector.sandbox.routes.delegates import eligible_delegate
from harness_connector.sandbox.state import Entity

__all__ = ["KINDS", "NO_DELEGATE", "routes"]

NO_DELEGATE = "No eligible delegate(s) in account to execute task. No matching selector(s)"
_CATEGORIES = {
    "CLOUD_PROVIDER": ("K8sCluster", "Aws", "Gcp", "Azure", "Pdc", "Rancher"),
    "CODE_REPO": ("Github", "Gitlab", "Bitbucket", "Git", "AzureRepo", "CodeCommit", "Harness"),
    "ARTIFACTORY": ("DockerRegistry", "Artifactory", "Nexus", "HttpHelmRepo", "OciHelmRepo", "Jenkins"),
    "SECRET_MANAGER": ("Vault", "AwsKms", "AwsSecretManager", "AzureKeyVault", "GcpKms", "GcpSecretManager"),
    "TICKETING": ("Jira", "ServiceNow", "PagerDuty"),
    "MONITORING": ("Datadog", "Prometheus", "NewRelic", "AppDynamics", "Splunk", "Dynatrace", "ElasticSearch"),
}


def _unknown_status() -> dict[str, Any]:
    return {
        "status": "UNKNOWN",
        "errorSummary": None,
        "errors": None,
        "testedAt": 0,
        "lastTestedAt": 0,
        "lastConnectedAt": 0,
        "lastAlertSent": None,
    }


def _parse_connector(draft: Draft) -> Parsed:
    inner = unwrap(draft.body, "connector")
    identifier = check_identifier(inner.get("identifier"))
    check_body_scope(inner, draft.org, draft.project)
    spec = inner.get("spec")
    if not isinstance(spec, dict):
        raise ApiError("INVALID_REQUEST", "connector.spec: must not be null")
    connector = {
        "name": require_text(inner, "name"),
        "identifier": identifier,
        "description": text(inner, "description"),
        "orgIdentifier": draft.org or None,
        "projectIdentifier": draft.project or None,
        "tags": ng_tags(inner.get("tags")),
        "type": require_text(inner, "type"),
        "spec": spec,
    }
    seeded = draft.body.get("status") if isinstance(draft.body, dict) else None
    if isinstance(seeded, dict):
        status = {**_unknown_status(), **seeded}
    elif draft.previous is not None:
        status = draft.previous.doc["status"]
    else:
        status = _unknown_status()
    return Parsed(identifier=identifier, doc={"connector": connector, "status": status})


def _response(ctx: SandboxContext, entity: Entity) -> dict[str, Any]:
    return {
        "connector": {**entity.doc["connector"], "accountIdentifier": ctx.account_id},
        "createdAt": entity.created_at,
        "lastModifiedAt": entity.updated_at,
        "status": entity.doc["status"],
        "activityDetails": {"lastActivityTime": entity.updated_at},
        "harnessManaged": False,
        "gitDetails": None,
        "entityValidityDetails": {"valid": True, "invalidYaml": None},
        "governanceMetadata": None,
        "isFavorite": False,
    }


def _kept(entity: Entity, term: str | None, query: dict[str, Any]) -> bool:
    connector, status = entity.doc["connector"], entity.doc["status"]
    if not matches(term, entity.identifier, connector["name"], connector["tags"]):
        return False
    checks = (
        ("types", connector["type"]),
        ("connectorIdentifiers", entity.identifier),
        ("connectorNames", connector["name"]),
        ("connectivityStatuses", status.get("status")),
    )
    for key, value in checks:
        wanted = query.get(key)
        if isinstance(wanted, list) and wanted and value not in wanted:
            return False
    categories = query.get("categories")
    if isinstance(categories, list) and categories:
        return any(connector["type"] in _CATEGORIES.get(str(c), ()) for c in categories)
    return True


async def list_connectors(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    page, size = ng_paging(request, default_size=100)
    query = await filter_body(request, "Connector")
    scopes = (
        scope_chain(org, project) if bool_param(request, "includeAllConnectorsAvailableAtScope") else [(org, project)]
    )
    term = request.query_params.get("searchTerm") or query.get("searchTerm")
    found = [e for o, p in scopes for e in list_resources(ctx, "connector", org=o, project=p) if _kept(e, term, query)]
    ordered = sort_entities(found, request.query_params.get("sort"), name_of=lambda e: str(e.doc["connector"]["name"]))
    items = [_response(ctx, e) for e in window(ordered, page, size)]
    return ok(ng_page(items, page=page, size=size, total=len(ordered)))


async def get_connector(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    return ok(_response(ctx, get_resource(ctx, "connector", request.path_params["id"], org=org, project=project)))


async def create_connector(ctx: SandboxContext, request: Request) -> Response:
    body = await json_body(request)
    inner = unwrap(body, "connector")
    org, project = body_scope(inner, request)
    # The API cannot set a test result; only the scenario seeds one.
    entity = create_resource(
        ctx, "connector", org=org, project=project, body={"connector": inner}, actor=actor_of(ctx, request)
    )
    return ok(_response(ctx, entity))


async def update_connector(ctx: SandboxContext, request: Request) -> Response:
    inner = unwrap(await json_body(request), "connector")
    org, project = body_scope(inner, request)
    identifier = check_identifier(inner.get("identifier"))
    entity = update_resource(
        ctx, "connector", identifier, org=org, project=project, body={"connector": inner}, actor=actor_of(ctx, request)
    )
    return ok(_response(ctx, entity))


async def delete_connector(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    delete_resource(ctx, "connector", request.path_params["id"], org=org, project=project, actor=actor_of(ctx, request))
    return ok(True)


def _delegate_needs(spec: dict[str, Any]) -> list[str] | None:
    """The selectors a connector's test needs a delegate for, or None when Harness tests it itself."""
    selectors = [str(s) for s in spec.get("delegateSelectors") or []]
    credential = spec.get("credential")
    inherits = isinstance(credential, dict) and credential.get("type") == "InheritFromDelegate"
    if selectors or inherits or spec.get("executeOnDelegate") is True:
        return selectors
    return None


async def test_connection(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    entity = get_resource(ctx, "connector", request.path_params["id"], org=org, project=project)
    now = ctx.clock()
    previous = entity.doc["status"]
    selectors = _delegate_needs(entity.doc["connector"]["spec"])
    delegate = eligible_delegate(ctx, org, project, selectors) if selectors is not None else None
    if selectors is not None and delegate is None:
        error = {"reason": "Delegate(s) not available", "message": NO_DELEGATE, "code": 450}
        status = {
            **previous,
            "status": "FAILURE",
            "errorSummary": NO_DELEGATE,
            "errors": [error],
            "testedAt": now,
            "lastTestedAt": now,
        }
        save_doc(ctx, entity, {**entity.doc, "status": status}, touch=False)
        raise ApiError("GENERAL_ERROR", "Connection test failed: no delegate could run it", causes=[NO_DELEGATE])
    status = {
        **previous,
        "status": "SUCCESS",
        "errorSummary": None,
        "errors": None,
        "testedAt": now,
        "lastTestedAt": now,
        "lastConnectedAt": now,
    }
    save_doc(ctx, entity, {**entity.doc, "status": status}, touch=False)
    delegate_id = delegate.doc.get("hostName") if delegate is not None else None
    return ok({"status": "SUCCESS", "errors": None, "errorSummary": None, "testedAt": now, "delegateId": delegate_id})


KINDS = (KindSpec(kind="connector", label="Connector", parse=_parse_connector, audit_type="CONNECTOR"),)


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The connector endpoints."""
    return [
        route(ctx, "/ng/api/connectors/listV2", "POST", list_connectors),
        route(ctx, "/ng/api/connectors/testConnection/{id}", "POST", test_connection),
        route(ctx, "/ng/api/connectors", "POST", create_connector),
        route(ctx, "/ng/api/connectors", "PUT", update_connector),
        route(ctx, "/ng/api/connectors/{id}", "GET", get_connector),
        route(ctx, "/ng/api/connectors/{id}", "DELETE", delete_connector),
    ]
