"""Feature flags through the legacy CF admin API: bare JSON, CF's own paging and error dialect.

A flag's document is its create body `{identifier, name, kind, permanent, project, variations[],
defaultOnVariation, defaultOffVariation, tags[], owner[], description, archived}` plus `"environments"`:
`{<environment id>: {state: on|off, defaultServe: {variation}, offVariation, version, modifiedAt}}`. A flag is
off, serving its on-variation when turned on, in every environment not listed; the scenario may seed states.
PATCH applies instructions (setFeatureFlagState, updateDefaultServe, updateOffVariation, updateName,
updateDescription, addTag, removeTag) to one environment.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.envelopes import ApiError
from harness_connector.sandbox.requests import json_body
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
from harness_connector.sandbox.routes._common import actor_of, matches, project_scope, require_mapping, route, text
from harness_connector.sandbox.state import Entity

__all__ = ["KINDS", "routes"]

_FLAG_ID = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9_.$-]{0,127}$")
_KINDS = ("boolean", "int", "string", "json")
_NEVER = -6_795_364_578_871  # CF's "never requested" lastAccess


def _variations(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    given = body.get("variations")
    if given is None and kind == "boolean":
        given = [
            {"identifier": "true", "name": "True", "value": "true"},
            {"identifier": "false", "name": "False", "value": "false"},
        ]
    if not isinstance(given, list) or len(given) < 2:
        raise ApiError("INVALID_REQUEST", "variations: a flag needs at least two variations")
    out = []
    for item in given:
        if not isinstance(item, dict) or not isinstance(item.get("identifier"), str) or "value" not in item:
            raise ApiError("INVALID_REQUEST", "variations: each needs an identifier and a value")
        out.append(
            {
                "identifier": item["identifier"],
                "name": str(item.get("name") or item["identifier"]),
                "value": str(item["value"]),
                "description": str(item.get("description") or ""),
            }
        )
    return out


def _parse_flag(draft: Draft) -> Parsed:
    body = require_mapping(draft.body)
    identifier = check_identifier(body.get("identifier"), pattern=_FLAG_ID)
    kind = str(body.get("kind") or "boolean")
    if kind not in _KINDS:
        raise ApiError("INVALID_REQUEST", f"kind: must be one of {', '.join(_KINDS)}")
    if body.get("project") not in (None, "", draft.project):
        raise ApiError("INVALID_REQUEST", f"project [{body.get('project')}] does not match projectIdentifier")
    variations = _variations(body, kind)
    ids = [v["identifier"] for v in variations]
    on = text(body, "defaultOnVariation") or ids[0]
    off = text(body, "defaultOffVariation") or ids[-1]
    if on not in ids or off not in ids:
        raise ApiError("INVALID_REQUEST", "defaultOnVariation and defaultOffVariation must name variations")
    owner = body.get("owner")
    previous = draft.previous.doc.get("environments", {}) if draft.previous is not None else {}
    seeded = body.get("environments")
    doc = {
        "identifier": identifier,
        "name": text(body, "name") or identifier,
        "kind": kind,
        "permanent": bool(body.get("permanent", False)),
        "project": draft.project,
        "variations": variations,
        "defaultOnVariation": on,
        "defaultOffVariation": off,
        "tags": [t for t in body.get("tags") or [] if isinstance(t, dict)],
        "owner": [str(o) for o in owner] if isinstance(owner, list) else [str(owner)] if owner else [],
        "description": text(body, "description"),
        "archived": bool(body.get("archived", False)),
        "environments": dict(seeded) if isinstance(seeded, dict) else dict(previous),
    }
    return Parsed(identifier=identifier, doc=doc)


def _env_state(doc: dict[str, Any], env: str, modified: int) -> dict[str, Any]:
    given = doc["environments"].get(env) or {}
    return {
        "environment": env,
        "state": str(given.get("state") or "off"),
        "defaultServe": given.get("defaultServe") or {"variation": doc["defaultOnVariation"]},
        "offVariation": given.get("offVariation") or doc["defaultOffVariation"],
        "rules": given.get("rules") or [],
        "variationMap": given.get("variationMap") or [],
        "version": int(given.get("version") or 1),
        "modifiedAt": int(given.get("modifiedAt") or modified),
        "pipelineConfigured": False,
        "pipelineDetails": None,
        "jiraEnabled": False,
    }


def _feature(entity: Entity, env: str | None) -> dict[str, Any]:
    doc = entity.doc
    feature = {
        key: doc[key]
        for key in (
            "identifier",
            "name",
            "kind",
            "project",
            "archived",
            "defaultOnVariation",
            "defaultOffVariation",
            "description",
            "permanent",
            "owner",
            "tags",
            "variations",
        )
    }
    feature.update(
        createdAt=entity.created_at,
        modifiedAt=entity.updated_at,
        prerequisites=[],
        results=[],
        services=[],
        stale=False,
        staleReason="",
        evaluation=None,
        evaluationIdentifier=None,
        status={"status": "never-requested", "lastAccess": _NEVER},
    )
    if env:
        feature["envProperties"] = _env_state(doc, env, entity.updated_at)
    return feature


def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    try:
        return default if raw in (None, "") else int(str(raw))
    except ValueError:
        raise ApiError("INVALID_REQUEST", f"{name} must be a number") from None


async def list_flags(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    params = request.query_params
    env = params.get("environmentIdentifier")
    page, size = _int(request, "pageNumber", 0), _int(request, "pageSize", 50)
    if page < 0 or not 1 <= size <= 1000:
        raise ApiError("INVALID_REQUEST", "pageNumber must be >= 0 and pageSize between 1 and 1000")
    archived = (params.get("archived") or "false").lower() == "true"
    wanted = [i for raw in params.getlist("featureIdentifiers") for i in raw.split(",") if i]
    features = [_feature(e, env) for e in list_resources(ctx, "feature_flag", org=org, project=project)]
    kept = [
        f
        for f in features
        if f["archived"] == archived
        and matches(params.get("name"), f["name"])
        and matches(params.get("identifier"), f["identifier"])
        and (not params.get("kind") or f["kind"] == params["kind"])
        and (not wanted or f["identifier"] in wanted)
        and (
            not params.get("enabled")
            or not env
            or (f["envProperties"]["state"] == "on") == (params["enabled"] == "true")
        )
    ]
    by = params.get("sortByField") or "name"
    kept.sort(
        key=lambda f: (str(f.get(by, f["name"])).lower(), f["identifier"]),
        reverse=(params.get("sortOrder") or "ASCENDING").upper() == "DESCENDING",
    )
    chunk = kept[page * size : (page + 1) * size]
    return JSONResponse(
        {
            "itemCount": len(kept),
            "pageCount": (len(kept) + size - 1) // size,
            "pageIndex": page,
            "pageSize": size,
            "features": chunk,
            "version": 1,
        }
    )


async def get_flag(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    entity = get_resource(ctx, "feature_flag", request.path_params["id"], org=org, project=project)
    return JSONResponse(_feature(entity, request.query_params.get("environmentIdentifier")))


def _api_body(body: Any) -> Any:
    # Per-environment state is set with PATCH instructions, never through the definition.
    return {k: v for k, v in body.items() if k != "environments"} if isinstance(body, dict) else body


async def create_flag(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    body = _api_body(await json_body(request))
    create_resource(ctx, "feature_flag", org=org, project=project, body=body, actor=actor_of(ctx, request))
    return Response(status_code=201)


async def update_flag(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    body = {"identifier": request.path_params["id"], **require_mapping(_api_body(await json_body(request)))}
    entity = update_resource(
        ctx,
        "feature_flag",
        request.path_params["id"],
        org=org,
        project=project,
        body=body,
        actor=actor_of(ctx, request),
    )
    return JSONResponse(_feature(entity, request.query_params.get("environmentIdentifier")))


async def delete_flag(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    delete_resource(
        ctx, "feature_flag", request.path_params["id"], org=org, project=project, actor=actor_of(ctx, request)
    )
    return Response(status_code=204)


def _apply(doc: dict[str, Any], env: str | None, instruction: dict[str, Any], now: int) -> None:
    kind, params = instruction.get("kind"), instruction.get("parameters") or {}
    ids = [v["identifier"] for v in doc["variations"]]
    if kind in ("setFeatureFlagState", "updateDefaultServe", "updateOffVariation"):
        if not env:
            raise ApiError("INVALID_REQUEST", f"environmentIdentifier is required for {kind}")
        state = dict(doc["environments"].get(env) or {})
        if kind == "setFeatureFlagState":
            if params.get("state") not in ("on", "off"):
                raise ApiError("INVALID_REQUEST", "setFeatureFlagState needs parameters.state on or off")
            state["state"] = params["state"]
        else:
            variation = params.get("variation")
            if variation not in ids:
                raise ApiError("INVALID_REQUEST", f"{kind}: unknown variation {variation!r}")
            state["defaultServe" if kind == "updateDefaultServe" else "offVariation"] = (
                {"variation": variation} if kind == "updateDefaultServe" else variation
            )
        state.update(version=int(state.get("version") or 1) + 1, modifiedAt=now)
        doc["environments"] = {**doc["environments"], env: state}
    elif kind in ("updateName", "updateDescription"):
        key = "name" if kind == "updateName" else "description"
        doc[key] = str(params.get(key) or "")
    elif kind in ("addTag", "removeTag"):
        tag = {"name": str(params.get("name") or ""), "identifier": str(params.get("identifier") or "")}
        doc["tags"] = [t for t in doc["tags"] if t.get("identifier") != tag["identifier"]]
        if kind == "addTag":
            doc["tags"].append(tag)
    else:
        raise ApiError("INVALID_REQUEST", f"unknown instruction kind {kind!r}")


async def patch_flag(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    entity = get_resource(ctx, "feature_flag", request.path_params["id"], org=org, project=project)
    body = require_mapping(await json_body(request))
    instructions = body.get("instructions")
    if not isinstance(instructions, list) or not instructions:
        raise ApiError("INVALID_REQUEST", "instructions: must not be empty")
    env = request.query_params.get("environmentIdentifier")
    doc = {**entity.doc, "tags": list(entity.doc["tags"]), "environments": dict(entity.doc["environments"])}
    for instruction in instructions:
        _apply(doc, env, require_mapping(instruction, "instruction"), ctx.clock())
    saved = save_doc(ctx, entity, doc, actor=actor_of(ctx, request))
    return JSONResponse(_feature(saved, env))


def _not_found(identifier: str, org: str, project: str, parent: str) -> str:
    return f"Feature flag '{identifier}' not found in project '{project}'"


KINDS = (
    KindSpec(
        kind="feature_flag",
        label="Feature flag",
        parse=_parse_flag,
        audit_type="FEATURE_FLAG",
        module="CF",
        not_found=_not_found,
        duplicate_status=409,
    ),
)


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The CF admin feature endpoints."""
    return [
        route(ctx, "/cf/admin/features", "GET", list_flags),
        route(ctx, "/cf/admin/features", "POST", create_flag),
        route(ctx, "/cf/admin/features/{id}", "GET", get_flag),
        route(ctx, "/cf/admin/features/{id}", "PUT", update_flag),
        route(ctx, "/cf/admin/features/{id}", "DELETE", delete_flag),
        route(ctx, "/cf/admin/features/{id}", "PATCH", patch_flag),
    ]
