"""Environments and their infrastructure definitions (NG manager), at account, org or project scope.

An environment's document is its create body `{identifier, name, type, color, description, tags,
orgIdentifier, projectIdentifier, yaml}` (`type` Production or PreProduction). An infrastructure's document is
`{identifier, name, environmentRef, type, deploymentType, description, tags, orgIdentifier, projectIdentifier,
yaml}`, stored under its environment (`parent`); type and deploymentType default to the YAML's.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.envelopes import ApiError, ng_page, ok
from harness_connector.sandbox.requests import json_body, require, spring_paging
from harness_connector.sandbox.resources import (
    Draft,
    KindSpec,
    Parsed,
    check_identifier,
    create_resource,
    delete_resource,
    get_resource,
    list_resources,
    parse_yaml,
    update_resource,
)
from harness_connector.sandbox.routes._common import (
    actor_of,
    body_scope,
    check_body_scope,
    matches,
    ng_tags,
    optional_scope,
    require_mapping,
    require_text,
    resolve_ref,
    route,
    sort_entities,
    text,
    window,
)
from harness_connector.sandbox.routes.services import parse_ng_entity
from harness_connector.sandbox.state import Entity

__all__ = ["KINDS", "routes"]

_ENV_TYPES = ("Production", "PreProduction")


def _parse_environment(draft: Draft) -> Parsed:
    body = require_mapping(draft.body)
    kind = body.get("type")
    if kind not in _ENV_TYPES:
        raise ApiError("INVALID_REQUEST", "type: must be Production or PreProduction")
    doc = parse_ng_entity(draft, "environment", {"type": kind})
    doc["color"] = text(body, "color", "#0063F7")
    return Parsed(identifier=doc["identifier"], doc=doc)


def _cascade_environment(ctx: SandboxContext, entity: Entity) -> None:
    # Harness removes an environment's infrastructure definitions and overrides with it.
    for infra in list_resources(
        ctx, "infrastructure", org=entity.org, project=entity.project, parent=entity.identifier
    ):
        ctx.state.delete_entity(
            "infrastructure", infra.identifier, org=infra.org, project=infra.project, parent=infra.parent
        )
    for override in list_resources(ctx, "service_override", org=entity.org, project=entity.project):
        if resolve_ref(override.doc["environmentRef"], entity.org, entity.project)[2] == entity.identifier:
            ctx.state.delete_entity("service_override", override.identifier, org=override.org, project=override.project)


def _environment_response(ctx: SandboxContext, entity: Entity) -> dict[str, Any]:
    doc = entity.doc
    environment = {
        "accountId": ctx.account_id,
        "orgIdentifier": entity.org or None,
        "projectIdentifier": entity.project or None,
        "identifier": entity.identifier,
        "name": doc["name"],
        "description": doc["description"],
        "color": doc["color"],
        "type": doc["type"],
        "deleted": False,
        "tags": doc["tags"],
        "yaml": doc["yaml"],
        "storeType": "INLINE",
    }
    return {"environment": environment, "createdAt": entity.created_at, "lastModifiedAt": entity.updated_at}


async def list_environments(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    page, size = spring_paging(request, default_size=100)
    term = request.query_params.get("searchTerm")
    wanted = request.query_params.getlist("envIdentifiers")
    found = [
        e
        for e in list_resources(ctx, "environment", org=org, project=project)
        if matches(term, e.identifier, e.doc["name"], e.doc["tags"]) and (not wanted or e.identifier in wanted)
    ]
    ordered = sort_entities(found, request.query_params.getlist("sort"), name_of=lambda e: str(e.doc["name"]))
    items = [_environment_response(ctx, e) for e in window(ordered, page, size)]
    return ok(ng_page(items, page=page, size=size, total=len(ordered)))


async def get_environment(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    entity = get_resource(ctx, "environment", request.path_params["id"], org=org, project=project)
    return ok(_environment_response(ctx, entity))


async def create_environment(ctx: SandboxContext, request: Request) -> Response:
    body = require_mapping(await json_body(request))
    org, project = body_scope(body, request)
    entity = create_resource(ctx, "environment", org=org, project=project, body=body, actor=actor_of(ctx, request))
    return ok(_environment_response(ctx, entity))


async def update_environment(ctx: SandboxContext, request: Request) -> Response:
    body = require_mapping(await json_body(request))
    org, project = body_scope(body, request)
    identifier = check_identifier(body.get("identifier"))
    entity = update_resource(
        ctx, "environment", identifier, org=org, project=project, body=body, actor=actor_of(ctx, request)
    )
    return ok(_environment_response(ctx, entity))


async def delete_environment(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    delete_resource(
        ctx, "environment", request.path_params["id"], org=org, project=project, actor=actor_of(ctx, request)
    )
    return ok(True)


# ---- infrastructure definitions -------------------------------------------------------------------------------


def _parse_infrastructure(draft: Draft) -> Parsed:
    body = require_mapping(draft.body)
    identifier = check_identifier(body.get("identifier"))
    check_body_scope(body, draft.org, draft.project)
    given = body.get("yaml")
    if not isinstance(given, str) or not given.strip():
        raise ApiError("INVALID_REQUEST", "yaml: must not be blank; send the infrastructureDefinition YAML")
    _, block, _ = parse_yaml(given, root="infrastructureDefinition")
    if block.get("identifier") not in (None, identifier):
        raise ApiError("INVALID_REQUEST", f"infrastructureDefinition.identifier does not match [{identifier}]")
    env = text(body, "environmentRef") or str(block.get("environmentRef") or "")
    if not env:
        raise ApiError("INVALID_REQUEST", "environmentRef: must not be blank")
    get_resource(draft.ctx, "environment", env, org=draft.org, project=draft.project)
    doc = {
        "identifier": identifier,
        "name": text(body, "name") or require_text(block, "name"),
        "environmentRef": env,
        "type": text(body, "type") or str(block.get("type") or ""),
        "deploymentType": text(body, "deploymentType") or str(block.get("deploymentType") or ""),
        "description": text(body, "description") or str(block.get("description") or ""),
        "tags": ng_tags(body.get("tags") if body.get("tags") is not None else block.get("tags")),
        "orgIdentifier": draft.org,
        "projectIdentifier": draft.project,
        "yaml": given,
    }
    for key in ("type", "deploymentType"):
        if not doc[key]:
            raise ApiError("INVALID_REQUEST", f"{key}: must not be blank")
    return Parsed(identifier=identifier, doc=doc, parent=env)


def _infrastructure_response(ctx: SandboxContext, entity: Entity) -> dict[str, Any]:
    doc = entity.doc
    infrastructure = {
        "accountId": ctx.account_id,
        "identifier": entity.identifier,
        "orgIdentifier": entity.org or None,
        "projectIdentifier": entity.project or None,
        "environmentRef": entity.parent,
        "name": doc["name"],
        "description": doc["description"],
        "tags": doc["tags"],
        "type": doc["type"],
        "deploymentType": doc["deploymentType"],
        "yaml": doc["yaml"],
        "storeType": "INLINE",
    }
    return {"infrastructure": infrastructure, "createdAt": entity.created_at, "lastModifiedAt": entity.updated_at}


async def list_infrastructures(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    env = require(request, "environmentIdentifier")
    page, size = spring_paging(request, default_size=100)
    term = request.query_params.get("searchTerm")
    deployment = request.query_params.get("deploymentType")
    found = [
        e
        for e in list_resources(ctx, "infrastructure", org=org, project=project, parent=env)
        if matches(term, e.identifier, e.doc["name"], e.doc["tags"])
        and (not deployment or e.doc["deploymentType"] == deployment)
    ]
    ordered = sort_entities(found, request.query_params.getlist("sort"), name_of=lambda e: str(e.doc["name"]))
    items = [_infrastructure_response(ctx, e) for e in window(ordered, page, size)]
    return ok(ng_page(items, page=page, size=size, total=len(ordered)))


async def get_infrastructure(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    env = require(request, "environmentIdentifier")
    entity = get_resource(ctx, "infrastructure", request.path_params["id"], org=org, project=project, parent=env)
    return ok(_infrastructure_response(ctx, entity))


async def create_infrastructure(ctx: SandboxContext, request: Request) -> Response:
    body = require_mapping(await json_body(request))
    org, project = body_scope(body, request)
    entity = create_resource(ctx, "infrastructure", org=org, project=project, body=body, actor=actor_of(ctx, request))
    return ok(_infrastructure_response(ctx, entity))


async def update_infrastructure(ctx: SandboxContext, request: Request) -> Response:
    body = require_mapping(await json_body(request))
    org, project = body_scope(body, request)
    identifier = check_identifier(body.get("identifier"))
    # The environment may be named only inside the YAML; the update must find the stored entity under it.
    given = body.get("yaml")
    named = parse_yaml(given, root="infrastructureDefinition")[1] if isinstance(given, str) and given.strip() else {}
    env = text(body, "environmentRef") or str(named.get("environmentRef") or "")
    entity = update_resource(
        ctx, "infrastructure", identifier, org=org, project=project, parent=env, body=body, actor=actor_of(ctx, request)
    )
    return ok(_infrastructure_response(ctx, entity))


async def delete_infrastructure(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    env = require(request, "environmentIdentifier")
    delete_resource(
        ctx,
        "infrastructure",
        request.path_params["id"],
        org=org,
        project=project,
        parent=env,
        actor=actor_of(ctx, request),
    )
    return ok(True)


KINDS = (
    KindSpec(
        kind="environment",
        label="Environment",
        parse=_parse_environment,
        audit_type="ENVIRONMENT",
        module="CD",
        cascade=_cascade_environment,
    ),
    KindSpec(
        kind="infrastructure",
        label="Infrastructure",
        parse=_parse_infrastructure,
        audit_type="INFRASTRUCTURE",
        module="CD",
        parent_label="Environment",
    ),
)


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The environment and infrastructure endpoints (the override list under environmentsV2 is in services)."""
    return [
        route(ctx, "/ng/api/environmentsV2", "GET", list_environments),
        route(ctx, "/ng/api/environmentsV2", "POST", create_environment),
        route(ctx, "/ng/api/environmentsV2", "PUT", update_environment),
        route(ctx, "/ng/api/environmentsV2/{id}", "GET", get_environment),
        route(ctx, "/ng/api/environmentsV2/{id}", "DELETE", delete_environment),
        route(ctx, "/ng/api/infrastructures", "GET", list_infrastructures),
        route(ctx, "/ng/api/infrastructures", "POST", create_infrastructure),
        route(ctx, "/ng/api/infrastructures", "PUT", update_infrastructure),
        route(ctx, "/ng/api/infrastructures/{id}", "GET", get_infrastructure),
        route(ctx, "/ng/api/infrastructures/{id}", "DELETE", delete_infrastructure),
    ]
