"""Platform toolset: organizations, projects and the audit trail (NG manager and audit service).

Documents: an organization is `{"organization": {identifier, name, description, tags}}`; a project is
`{"project": {orgIdentifier, identifier, name, color, modules, description, tags}}`; an audit event is
Harness's AuditEventDTO plus `oldYaml`/`newYaml` (served by `/audit/api/auditYaml`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.envelopes import ApiError, ng_page, ok
from harness_connector.sandbox.requests import json_body, ng_paging, require
from harness_connector.sandbox.resources import (
    Draft,
    KindSpec,
    Parsed,
    check_identifier,
    create_resource,
    delete_resource,
    find_resource,
    get_resource,
    list_resources,
    update_resource,
)
from harness_connector.sandbox.routes._common import (
    actor_of,
    filter_body,
    list_everywhere,
    matches,
    new_uid,
    ng_tags,
    purge_scope,
    require_mapping,
    require_text,
    route,
    sort_entities,
    stamps,
    text,
    unwrap,
    window,
)
from harness_connector.sandbox.state import Entity

__all__ = ["KINDS", "routes"]

DEFAULT_ORG = "default"
# What a new project gets when the body names no modules (Harness enables every licensed module).
_DEFAULT_MODULES = ["CD", "CI", "CV", "CF", "CE", "STO", "CHAOS", "SRM", "IACM", "CET", "IDP", "CODE", "CORE", "PMS"]


# ---- organizations --------------------------------------------------------------------------------------------


def _parse_org(draft: Draft) -> Parsed:
    inner = unwrap(draft.body, "organization")
    identifier = check_identifier(inner.get("identifier"))
    org = {
        "identifier": identifier,
        "name": require_text(inner, "name"),
        "description": text(inner, "description"),
        "tags": ng_tags(inner.get("tags")),
    }
    return Parsed(identifier=identifier, doc={"organization": org})


def _purge_org(ctx: SandboxContext, entity: Entity) -> None:
    purge_scope(ctx, entity.identifier)


def ensure_default_org(ctx: SandboxContext) -> None:
    """Every Harness account has the `default` organization; the sandbox makes it on first use."""
    if find_resource(ctx, "organization", DEFAULT_ORG) is None:
        body = {"organization": {"identifier": DEFAULT_ORG, "name": "default", "description": "default"}}
        create_resource(ctx, "organization", body=body)


def _org_response(entity: Entity) -> dict[str, Any]:
    return {**entity.doc, **stamps(entity), "harnessManaged": entity.identifier == DEFAULT_ORG}


async def list_orgs(ctx: SandboxContext, request: Request) -> Response:
    ensure_default_org(ctx)
    page, size = ng_paging(request)
    term = request.query_params.get("searchTerm")
    found = [
        e
        for e in list_resources(ctx, "organization")
        if matches(term, e.identifier, e.doc["organization"]["name"], e.doc["organization"]["tags"])
    ]
    ordered = sort_entities(found, request.query_params.get("sort"), name_of=_org_name, default="name,ASC")
    items = [_org_response(e) for e in window(ordered, page, size)]
    return ok(ng_page(items, page=page, size=size, total=len(ordered)))


def _org_name(entity: Entity) -> str:
    return str(entity.doc["organization"]["name"])


async def get_org(ctx: SandboxContext, request: Request) -> Response:
    if request.path_params["org"] == DEFAULT_ORG:
        ensure_default_org(ctx)
    return ok(_org_response(get_resource(ctx, "organization", request.path_params["org"])))


async def create_org(ctx: SandboxContext, request: Request) -> Response:
    body = await json_body(request)
    entity = create_resource(ctx, "organization", body=body, actor=actor_of(ctx, request))
    return ok(_org_response(entity))


async def update_org(ctx: SandboxContext, request: Request) -> Response:
    body = await json_body(request)
    org = request.path_params["org"]
    entity = update_resource(ctx, "organization", org, body=body, actor=actor_of(ctx, request))
    return ok(_org_response(entity))


async def delete_org(ctx: SandboxContext, request: Request) -> Response:
    org = request.path_params["org"]
    if org == DEFAULT_ORG:
        raise ApiError("INVALID_REQUEST", "Delete operation not supported for Default Organization")
    delete_resource(ctx, "organization", org, actor=actor_of(ctx, request))
    return ok(True)


# ---- projects -------------------------------------------------------------------------------------------------


def _parse_project(draft: Draft) -> Parsed:
    inner = unwrap(draft.body, "project")
    identifier = check_identifier(inner.get("identifier"))
    named_org = inner.get("orgIdentifier")
    if named_org not in (None, "", draft.org):
        raise ApiError("INVALID_REQUEST", f"Invalid request: org identifier [{named_org}] does not match [{draft.org}]")
    if draft.previous is None:
        if draft.org == DEFAULT_ORG:
            ensure_default_org(draft.ctx)
        get_resource(draft.ctx, "organization", draft.org)
    modules = inner.get("modules")
    project = {
        "orgIdentifier": draft.org,
        "identifier": identifier,
        "name": require_text(inner, "name"),
        "color": text(inner, "color", "#0063f7"),
        "modules": [str(m) for m in modules] if isinstance(modules, list) and modules else list(_DEFAULT_MODULES),
        "description": text(inner, "description"),
        "tags": ng_tags(inner.get("tags")),
    }
    return Parsed(identifier=identifier, doc={"project": project})


def _purge_project(ctx: SandboxContext, entity: Entity) -> None:
    purge_scope(ctx, entity.org, entity.identifier)


def _project_response(entity: Entity) -> dict[str, Any]:
    return {**entity.doc, **stamps(entity), "isFavorite": False}


def _project_org(request: Request) -> str:
    # Harness's project endpoints default the org rather than refusing the call.
    return request.query_params.get("orgIdentifier") or DEFAULT_ORG


async def list_projects(ctx: SandboxContext, request: Request) -> Response:
    page, size = ng_paging(request)
    params = request.query_params
    org = params.get("orgIdentifier")
    found = list_resources(ctx, "project", org=org) if org else list_everywhere(ctx, "project")
    module = (params.get("moduleType") or "").upper()
    wanted = (params.get("hasModule") or "true").lower() == "true"
    term = params.get("searchTerm")
    kept = [
        e
        for e in found
        if matches(term, e.identifier, e.doc["project"]["name"], e.doc["project"]["tags"])
        and (not module or (module in e.doc["project"]["modules"]) == wanted)
    ]
    ordered = sort_entities(kept, params.get("sort"), name_of=lambda e: str(e.doc["project"]["name"]))
    items = [_project_response(e) for e in window(ordered, page, size)]
    return ok(ng_page(items, page=page, size=size, total=len(ordered)))


async def get_project(ctx: SandboxContext, request: Request) -> Response:
    entity = get_resource(ctx, "project", request.path_params["project"], org=_project_org(request))
    return ok(_project_response(entity))


async def create_project(ctx: SandboxContext, request: Request) -> Response:
    body = await json_body(request)
    entity = create_resource(ctx, "project", org=_project_org(request), body=body, actor=actor_of(ctx, request))
    return ok(_project_response(entity))


async def update_project(ctx: SandboxContext, request: Request) -> Response:
    body = await json_body(request)
    project, org = request.path_params["project"], _project_org(request)
    entity = update_resource(ctx, "project", project, org=org, body=body, actor=actor_of(ctx, request))
    return ok(_project_response(entity))


async def delete_project(ctx: SandboxContext, request: Request) -> Response:
    project, org = request.path_params["project"], _project_org(request)
    delete_resource(ctx, "project", project, org=org, actor=actor_of(ctx, request))
    return ok(True)


# ---- audit trail ----------------------------------------------------------------------------------------------

_METHOD_OF = {"CREATE": "POST", "UPDATE": "PUT", "DELETE": "DELETE", "UPSERT": "PUT", "REVOKE_TOKEN": "PUT"}


def _parse_audit(draft: Draft) -> Parsed:
    body = require_mapping(draft.body)
    action = require_text(body, "action")
    resource = require_mapping(body.get("resource"), "resource")
    require_text(resource, "type")
    require_text(resource, "identifier")
    audit_id = text(body, "auditId") or new_uid(20)
    scope = dict(body.get("resourceScope") or {})
    scope.setdefault("accountIdentifier", draft.ctx.account_id)
    timestamp = body.get("timestamp")
    doc = {
        "auditId": audit_id,
        "insertId": text(body, "insertId") or audit_id,
        "resourceScope": scope,
        "httpRequestInfo": body.get("httpRequestInfo") or {"requestMethod": _METHOD_OF.get(action, "POST")},
        "requestMetadata": body.get("requestMetadata") or {"clientIP": "127.0.0.1"},
        "timestamp": int(timestamp) if isinstance(timestamp, int | float) else draft.ctx.clock(),
        "authenticationInfo": body.get("authenticationInfo")
        or {"principal": {"type": "SYSTEM", "identifier": "harness"}, "labels": {}},
        "module": text(body, "module", "CORE"),
        "resource": {"labels": {}, **resource},
        "action": action,
        "environment": body.get("environment"),
        "oldYaml": body.get("oldYaml"),
        "newYaml": body.get("newYaml"),
    }
    return Parsed(identifier=audit_id, doc=doc)


def _audit_matches(doc: dict[str, Any], query: dict[str, Any]) -> bool:
    timestamp = int(doc["timestamp"])
    if isinstance(query.get("startTime"), int) and timestamp < query["startTime"]:
        return False
    if isinstance(query.get("endTime"), int) and timestamp > query["endTime"]:
        return False
    for key, value in (("modules", doc["module"]), ("actions", doc["action"])):
        if query.get(key) and value not in query[key]:
            return False
    if query.get("resources") and not any(
        r.get("type") == doc["resource"]["type"] and r.get("identifier") in (None, doc["resource"]["identifier"])
        for r in query["resources"]
    ):
        return False
    principal = doc["authenticationInfo"].get("principal", {})
    if query.get("principals") and not any(
        p.get("identifier") == principal.get("identifier") for p in query["principals"]
    ):
        return False
    scope = doc["resourceScope"]
    return not query.get("scopes") or any(
        all(s.get(k) in (None, "", scope.get(k)) for k in ("orgIdentifier", "projectIdentifier"))
        for s in query["scopes"]
    )


async def list_audits(ctx: SandboxContext, request: Request) -> Response:
    page, size = ng_paging(request)
    query = await filter_body(request, "Audit")
    found = [e for e in list_resources(ctx, "audit_event") if _audit_matches(e.doc, query)]
    found.sort(key=lambda e: (int(e.doc["timestamp"]), e.created_at), reverse=True)
    items = [{k: v for k, v in e.doc.items() if k not in ("oldYaml", "newYaml")} for e in window(found, page, size)]
    return ok(ng_page(items, page=page, size=size, total=len(found)))


async def get_audit_yaml(ctx: SandboxContext, request: Request) -> Response:
    doc = get_resource(ctx, "audit_event", require(request, "auditId")).doc
    return ok({"oldYaml": doc.get("oldYaml"), "newYaml": doc.get("newYaml")})


KINDS = (
    KindSpec(
        kind="organization", label="Organization", parse=_parse_org, audit_type="ORGANIZATION", cascade=_purge_org
    ),
    KindSpec(kind="project", label="Project", parse=_parse_project, audit_type="PROJECT", cascade=_purge_project),
    KindSpec(kind="audit_event", label="Audit event", parse=_parse_audit, audit_type="AUDIT", audited=False),
)


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The organization, project and audit endpoints."""
    return [
        route(ctx, "/ng/api/organizations", "GET", list_orgs),
        route(ctx, "/ng/api/organizations", "POST", create_org),
        route(ctx, "/ng/api/organizations/{org}", "GET", get_org),
        route(ctx, "/ng/api/organizations/{org}", "PUT", update_org),
        route(ctx, "/ng/api/organizations/{org}", "DELETE", delete_org),
        route(ctx, "/ng/api/projects", "GET", list_projects),
        route(ctx, "/ng/api/projects", "POST", create_project),
        route(ctx, "/ng/api/projects/{project}", "GET", get_project),
        route(ctx, "/ng/api/projects/{project}", "PUT", update_project),
        route(ctx, "/ng/api/projects/{project}", "DELETE", delete_project),
        route(ctx, "/audit/api/audits/list", "POST", list_audits),
        route(ctx, "/audit/api/auditYaml", "GET", get_audit_yaml),
    ]
