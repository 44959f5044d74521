"""Services and service overrides (NG manager), at account, org or project scope.

A service's document is its create body `{identifier, name, description, tags, orgIdentifier,
projectIdentifier, yaml}`; Harness writes a minimal `service:` YAML when the body has none. An override's
document is `{identifier, type, environmentRef, serviceRef, infraIdentifier, orgIdentifier, projectIdentifier,
spec}`; without an identifier Harness derives one from the environment, infrastructure and service.
"""

from __future__ import annotations

from typing import Any

import yaml
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
from harness_connector.sandbox.state import Entity

__all__ = ["KINDS", "parse_ng_entity", "routes"]


def parse_ng_entity(draft: Draft, root: str, extra: dict[str, Any]) -> dict[str, Any]:
    """The document of a service or environment body: its fields, and its YAML (written when absent)."""
    body = require_mapping(draft.body)
    identifier = check_identifier(body.get("identifier"))
    check_body_scope(body, draft.org, draft.project)
    doc: dict[str, Any] = {
        "identifier": identifier,
        "name": require_text(body, "name"),
        "description": text(body, "description"),
        "tags": ng_tags(body.get("tags")),
        "orgIdentifier": draft.org,
        "projectIdentifier": draft.project,
        **extra,
    }
    given = body.get("yaml")
    if isinstance(given, str) and given.strip():
        _, block, _ = parse_yaml(given, root=root)
        if block.get("identifier") not in (None, identifier):
            raise ApiError("INVALID_REQUEST", f"{root}.identifier in the YAML does not match [{identifier}]")
        doc["yaml"] = given
    else:
        scope = {k: v for k, v in (("orgIdentifier", draft.org), ("projectIdentifier", draft.project)) if v}
        block = {"name": doc["name"], "identifier": identifier, **scope, "tags": doc["tags"], **extra}
        doc["yaml"] = yaml.safe_dump({root: block}, sort_keys=False)
    return doc


def _parse_service(draft: Draft) -> Parsed:
    doc = parse_ng_entity(draft, "service", {})
    return Parsed(identifier=doc["identifier"], doc=doc)


def _service_response(ctx: SandboxContext, entity: Entity) -> dict[str, Any]:
    doc = entity.doc
    service = {
        "accountId": ctx.account_id,
        "identifier": entity.identifier,
        "orgIdentifier": entity.org or None,
        "projectIdentifier": entity.project or None,
        "name": doc["name"],
        "description": doc["description"],
        "deleted": False,
        "tags": doc["tags"],
        "yaml": doc["yaml"],
        "v2Service": True,
    }
    return {"service": service, "createdAt": entity.created_at, "lastModifiedAt": entity.updated_at}


async def list_services(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    page, size = spring_paging(request, default_size=100)
    term = request.query_params.get("searchTerm")
    wanted = request.query_params.getlist("serviceIdentifiers")
    found = [
        e
        for e in list_resources(ctx, "service", org=org, project=project)
        if matches(term, e.identifier, e.doc["name"], e.doc["tags"]) and (not wanted or e.identifier in wanted)
    ]
    ordered = sort_entities(found, request.query_params.getlist("sort"), name_of=lambda e: str(e.doc["name"]))
    items = [_service_response(ctx, e) for e in window(ordered, page, size)]
    return ok(ng_page(items, page=page, size=size, total=len(ordered)))


async def get_service(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    entity = get_resource(ctx, "service", request.path_params["id"], org=org, project=project)
    return ok(_service_response(ctx, entity))


async def create_service(ctx: SandboxContext, request: Request) -> Response:
    body = require_mapping(await json_body(request))
    org, project = body_scope(body, request)
    entity = create_resource(ctx, "service", org=org, project=project, body=body, actor=actor_of(ctx, request))
    return ok(_service_response(ctx, entity))


async def update_service(ctx: SandboxContext, request: Request) -> Response:
    body = require_mapping(await json_body(request))
    org, project = body_scope(body, request)
    identifier = check_identifier(body.get("identifier"))
    entity = update_resource(
        ctx, "service", identifier, org=org, project=project, body=body, actor=actor_of(ctx, request)
    )
    return ok(_service_response(ctx, entity))


async def delete_service(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    delete_resource(ctx, "service", request.path_params["id"], org=org, project=project, actor=actor_of(ctx, request))
    return ok(True)


# ---- service overrides ----------------------------------------------------------------------------------------

_OVERRIDE_TYPES = ("ENV_GLOBAL_OVERRIDE", "ENV_SERVICE_OVERRIDE", "INFRA_GLOBAL_OVERRIDE", "INFRA_SERVICE_OVERRIDE")


def _parse_override(draft: Draft) -> Parsed:
    body = require_mapping(draft.body)
    check_body_scope(body, draft.org, draft.project)
    kind = body.get("type")
    if kind not in _OVERRIDE_TYPES:
        raise ApiError("INVALID_REQUEST", f"type: must be one of {', '.join(_OVERRIDE_TYPES)}")
    env_ref = require_text(body, "environmentRef")
    env_org, env_project, env_id = resolve_ref(env_ref, draft.org, draft.project)
    get_resource(draft.ctx, "environment", env_id, org=env_org, project=env_project)
    service_ref = text(body, "serviceRef") or None
    infra = text(body, "infraIdentifier") or None
    if kind.endswith("SERVICE_OVERRIDE"):
        if service_ref is None:
            raise ApiError("INVALID_REQUEST", f"serviceRef: must not be blank for a {kind}")
        svc_org, svc_project, svc_id = resolve_ref(service_ref, draft.org, draft.project)
        get_resource(draft.ctx, "service", svc_id, org=svc_org, project=svc_project)
    if kind.startswith("INFRA"):
        if infra is None:
            raise ApiError("INVALID_REQUEST", f"infraIdentifier: must not be blank for a {kind}")
        get_resource(draft.ctx, "infrastructure", infra, org=env_org, project=env_project, parent=env_id)
    spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
    derived = "_".join(p for p in (env_ref, infra, service_ref) if p).replace(".", "_")
    identifier = check_identifier(text(body, "identifier") or derived)
    doc = {
        "identifier": identifier,
        "type": kind,
        "environmentRef": env_ref,
        "serviceRef": service_ref,
        "infraIdentifier": infra,
        "orgIdentifier": draft.org,
        "projectIdentifier": draft.project,
        "spec": spec,
    }
    return Parsed(identifier=identifier, doc=doc)


def _override_response(ctx: SandboxContext, entity: Entity, *, created: bool = False) -> dict[str, Any]:
    doc = entity.doc
    return {
        "identifier": entity.identifier,
        "accountId": ctx.account_id,
        "orgIdentifier": entity.org or None,
        "projectIdentifier": entity.project or None,
        "environmentRef": doc["environmentRef"],
        "serviceRef": doc["serviceRef"],
        "infraIdentifier": doc["infraIdentifier"],
        "clusterIdentifier": None,
        "type": doc["type"],
        "spec": doc["spec"],
        "isNewlyCreated": created,
        "createdAt": entity.created_at,
        "lastModifiedAt": entity.updated_at,
    }


def _override_row(ctx: SandboxContext, entity: Entity) -> dict[str, Any]:
    # The environment-scoped list is the older override API: its rows carry the override as YAML.
    doc = entity.doc
    block = {"environmentRef": doc["environmentRef"], "serviceRef": doc["serviceRef"], **doc["spec"]}
    return {
        "accountId": ctx.account_id,
        "orgIdentifier": entity.org or None,
        "projectIdentifier": entity.project or None,
        "environmentRef": doc["environmentRef"],
        "serviceRef": doc["serviceRef"],
        "identifier": entity.identifier,
        "type": doc["type"],
        "infraIdentifier": doc["infraIdentifier"],
        "yaml": yaml.safe_dump({"serviceOverrides": block}, sort_keys=False),
    }


async def list_overrides(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    page, size = spring_paging(request, default_size=100)
    env = require(request, "environmentIdentifier")
    service = request.query_params.get("serviceIdentifier")
    found = [
        e
        for e in list_resources(ctx, "service_override", org=org, project=project)
        if resolve_ref(e.doc["environmentRef"], org, project)[2] == env
        and (not service or (e.doc["serviceRef"] and resolve_ref(e.doc["serviceRef"], org, project)[2] == service))
    ]
    ordered = sort_entities(found, request.query_params.get("sort"))
    items = [_override_row(ctx, e) for e in window(ordered, page, size)]
    return ok(ng_page(items, page=page, size=size, total=len(ordered)))


async def get_override(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    entity = get_resource(ctx, "service_override", request.path_params["id"], org=org, project=project)
    return ok(_override_response(ctx, entity))


async def create_override(ctx: SandboxContext, request: Request) -> Response:
    body = require_mapping(await json_body(request))
    org, project = body_scope(body, request)
    entity = create_resource(ctx, "service_override", org=org, project=project, body=body, actor=actor_of(ctx, request))
    return ok(_override_response(ctx, entity, created=True))


async def update_override(ctx: SandboxContext, request: Request) -> Response:
    body = require_mapping(await json_body(request))
    org, project = body_scope(body, request)
    identifier = check_identifier(body.get("identifier"))
    entity = update_resource(
        ctx, "service_override", identifier, org=org, project=project, body=body, actor=actor_of(ctx, request)
    )
    return ok(_override_response(ctx, entity))


async def delete_override(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    delete_resource(
        ctx, "service_override", request.path_params["id"], org=org, project=project, actor=actor_of(ctx, request)
    )
    return ok(True)


KINDS = (
    KindSpec(kind="service", label="Service", parse=_parse_service, audit_type="SERVICE", module="CD"),
    KindSpec(
        kind="service_override",
        label="Service Override",
        parse=_parse_override,
        audit_type="SERVICE_OVERRIDE",
        module="CD",
    ),
)


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The service and service override endpoints."""
    return [
        route(ctx, "/ng/api/servicesV2", "GET", list_services),
        route(ctx, "/ng/api/servicesV2", "POST", create_service),
        route(ctx, "/ng/api/servicesV2", "PUT", update_service),
        route(ctx, "/ng/api/servicesV2/{id}", "GET", get_service),
        route(ctx, "/ng/api/servicesV2/{id}", "DELETE", delete_service),
        route(ctx, "/ng/api/environmentsV2/serviceOverrides", "GET", list_overrides),
        route(ctx, "/ng/api/serviceOverrides", "POST", create_override),
        route(ctx, "/ng/api/serviceOverrides", "PUT", update_override),
        route(ctx, "/ng/api/serviceOverrides/{id}", "GET", get_override),
        route(ctx, "/ng/api/serviceOverrides/{id}", "DELETE", delete_override),
    ]
