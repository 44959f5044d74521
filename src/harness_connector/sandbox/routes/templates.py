"""Templates (template service): versioned steps, stages, step groups and pipelines, at any scope.

Each version is its own entity: `identifier` is the template's identifier and `parent` its version label. The
document is `{"yaml": <text>, identifier, name, versionLabel, templateEntityType, childType, description, tags,
stableTemplate}`; the first version of a template is its stable one, and `setDefaultTemplate=true` (or the
updateStableTemplate endpoint) moves the mark.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.envelopes import ApiError, ok, spring_page
from harness_connector.sandbox.requests import spring_paging
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
    save_doc,
    update_resource,
)
from harness_connector.sandbox.routes._common import (
    actor_of,
    bool_param,
    check_yaml_scope,
    filter_body,
    matches,
    optional_scope,
    require_text,
    route,
    sort_entities,
    window,
)
from harness_connector.sandbox.routes.pipelines import INLINE_GIT_DETAILS
from harness_connector.sandbox.state import Entity

__all__ = ["KINDS", "routes"]

_VERSION = re.compile(r"^[0-9a-zA-Z][^\s]{0,63}$")
_TYPES = (
    "Step",
    "Stage",
    "Pipeline",
    "StepGroup",
    "CustomDeployment",
    "MonitoredService",
    "SecretManager",
    "ArtifactSource",
)


def _parse_template(draft: Draft) -> Parsed:
    text, template, _ = parse_yaml(draft.body, root="template")
    identifier = check_identifier(template.get("identifier"), what="template.identifier")
    name = require_text(template, "name")
    version = check_identifier(str(template.get("versionLabel") or ""), what="template.versionLabel", pattern=_VERSION)
    kind = template.get("type")
    if kind not in _TYPES:
        raise ApiError("INVALID_REQUEST", f"template.type: must be one of {', '.join(_TYPES)}")
    spec = template.get("spec")
    if not isinstance(spec, dict):
        raise ApiError("INVALID_REQUEST", "template.spec: must not be null")
    check_yaml_scope(template, "template", {"orgIdentifier": draft.org, "projectIdentifier": draft.project})
    if draft.previous is not None:
        stable = bool(draft.previous.doc.get("stableTemplate"))
    else:
        stable = not _versions(draft.ctx, draft.org, draft.project, identifier)
    tags = template.get("tags")
    doc = {
        "yaml": text,
        "identifier": identifier,
        "name": name,
        "versionLabel": version,
        "templateEntityType": kind,
        "childType": spec.get("type") or spec.get("stageType"),
        "description": str(template.get("description") or ""),
        "tags": {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {},
        "stableTemplate": stable,
    }
    return Parsed(identifier=identifier, doc=doc, parent=version)


def _versions(ctx: SandboxContext, org: str, project: str, identifier: str) -> list[Entity]:
    return [e for e in list_resources(ctx, "template", org=org, project=project) if e.identifier == identifier]


def _not_found(identifier: str, org: str, project: str, version: str) -> str:
    label = f"versionLabel: {version}" if version else "stable version"
    return f"Template with the given Identifier: {identifier} and {label} does not exist or has been deleted"


def _response(ctx: SandboxContext, entity: Entity) -> dict[str, Any]:
    doc = entity.doc
    scope = "project" if entity.project else "org" if entity.org else "account"
    return {
        "accountId": ctx.account_id,
        "orgIdentifier": entity.org or None,
        "projectIdentifier": entity.project or None,
        "identifier": entity.identifier,
        "name": doc["name"],
        "description": doc["description"],
        "tags": doc["tags"],
        "yaml": doc["yaml"],
        "versionLabel": entity.parent,
        "templateEntityType": doc["templateEntityType"],
        "childType": doc["childType"],
        "templateScope": scope,
        "version": 0,
        "gitDetails": dict(INLINE_GIT_DETAILS),
        "entityValidityDetails": {"valid": True, "invalidYaml": None},
        "lastUpdatedAt": entity.updated_at,
        "createdAt": entity.created_at,
        "storeType": "INLINE",
        "connectorRef": None,
        "stableTemplate": doc["stableTemplate"],
        "icon": None,
    }


def _mark_stable(ctx: SandboxContext, entity: Entity) -> Entity:
    chosen = entity
    for other in _versions(ctx, entity.org, entity.project, entity.identifier):
        is_it = other.parent == entity.parent
        if bool(other.doc.get("stableTemplate")) != is_it:
            saved = save_doc(ctx, other, {**other.doc, "stableTemplate": is_it})
            chosen = saved if is_it else chosen
    return chosen


def _kept(entity: Entity, term: str | None, query: dict[str, Any]) -> bool:
    doc = entity.doc
    if not matches(term, entity.identifier, doc["name"], doc["tags"]):
        return False
    for key, value in (
        ("templateEntityTypes", doc["templateEntityType"]),
        ("childTypes", doc["childType"]),
        ("templateIdentifiers", entity.identifier),
        ("templateNames", doc["name"]),
    ):
        wanted = query.get(key)
        if isinstance(wanted, list) and wanted and value not in wanted:
            return False
    return True


async def list_templates(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    page, size = spring_paging(request, default_size=25)
    query = await filter_body(request, "Template")
    list_type = (request.query_params.get("templateListType") or "Stable").lower()
    term = request.query_params.get("searchTerm")
    found = [e for e in list_resources(ctx, "template", org=org, project=project) if _kept(e, term, query)]
    if list_type == "stable":
        found = [e for e in found if e.doc["stableTemplate"]]
    elif list_type == "lastupdated":
        latest: dict[str, Entity] = {}
        for e in found:
            if e.identifier not in latest or e.updated_at >= latest[e.identifier].updated_at:
                latest[e.identifier] = e
        found = list(latest.values())
    ordered = sort_entities(
        found, request.query_params.get("sort"), name_of=lambda e: str(e.doc["name"]), default="lastUpdatedAt,DESC"
    )
    items = [_response(ctx, e) for e in window(ordered, page, size)]
    return ok(spring_page(items, page=page, size=size, total=len(ordered)))


async def get_template(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    identifier = request.path_params["id"]
    version = request.query_params.get("versionLabel")
    if not version:
        stable = [e for e in _versions(ctx, org, project, identifier) if e.doc["stableTemplate"]]
        if not stable:
            raise ApiError("RESOURCE_NOT_FOUND", _not_found(identifier, org, project, ""))
        return ok(_response(ctx, stable[0]))
    return ok(_response(ctx, get_resource(ctx, "template", identifier, org=org, project=project, parent=version)))


async def create_template(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    body = (await request.body()).decode("utf-8", errors="replace")
    entity = create_resource(ctx, "template", org=org, project=project, body=body, actor=actor_of(ctx, request))
    if bool_param(request, "setDefaultTemplate") and not entity.doc["stableTemplate"]:
        entity = _mark_stable(ctx, entity)
    return ok({"isValid": True, "templateResponseDTO": _response(ctx, entity), "governanceMetadata": None})


async def update_template(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    path = request.path_params
    body = (await request.body()).decode("utf-8", errors="replace")
    entity = update_resource(
        ctx,
        "template",
        path["id"],
        org=org,
        project=project,
        parent=path["version"],
        body=body,
        actor=actor_of(ctx, request),
    )
    if bool_param(request, "setDefaultTemplate") and not entity.doc["stableTemplate"]:
        entity = _mark_stable(ctx, entity)
    return ok({"isValid": True, "templateResponseDTO": _response(ctx, entity), "governanceMetadata": None})


async def update_stable(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    path = request.path_params
    entity = get_resource(ctx, "template", path["id"], org=org, project=project, parent=path["version"])
    return ok(_mark_stable(ctx, entity).parent)


async def delete_template(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    path = request.path_params
    entity = get_resource(ctx, "template", path["id"], org=org, project=project, parent=path["version"])
    if entity.doc["stableTemplate"] and len(_versions(ctx, org, project, entity.identifier)) > 1:
        raise ApiError(
            "INVALID_REQUEST",
            f"Template with identifier [{entity.identifier}] and versionLabel [{entity.parent}] is the stable "
            "version; mark another version stable before deleting it",
        )
    delete_resource(
        ctx, "template", path["id"], org=org, project=project, parent=path["version"], actor=actor_of(ctx, request)
    )
    return ok(True)


KINDS = (
    KindSpec(
        kind="template",
        label="Template",
        parse=_parse_template,
        audit_type="TEMPLATE",
        module="TEMPLATESERVICE",
        parent_label="versionLabel",
        not_found=_not_found,
    ),
)


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The template endpoints."""
    base = "/template/api/templates"
    return [
        route(ctx, base + "/list", "POST", list_templates),
        route(ctx, base, "POST", create_template),
        route(ctx, base + "/update/{id}/{version}", "PUT", update_template),
        route(ctx, base + "/updateStableTemplate/{id}/{version}", "PUT", update_stable),
        route(ctx, base + "/{id}", "GET", get_template),
        route(ctx, base + "/{id}/{version}", "DELETE", delete_template),
    ]
