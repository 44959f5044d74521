"""Input sets of a pipeline, the runtime-input template, and merging input sets (pipeline service).

An input set's document is `{"yaml": <text>, identifier, name, description, tags, pipelineIdentifier,
inputSetType: INPUT_SET | OVERLAY_INPUT_SET, inputSetReferences}`, stored under the pipeline (`parent`). The
YAML is an `inputSet:` document whose `pipeline:` block holds the values, or an `overlayInputSet:` document
listing other input sets in `inputSetReferences`.
"""

from __future__ import annotations

from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.envelopes import ApiError, ng_page, ok
from harness_connector.sandbox.requests import json_body, ng_paging, require, spring_paging
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
    parse_yaml,
    update_resource,
)
from harness_connector.sandbox.routes._common import (
    actor_of,
    check_yaml_scope,
    matches,
    project_scope,
    require_text,
    route,
    sort_entities,
    window,
)
from harness_connector.sandbox.routes.pipelines import INLINE_GIT_DETAILS
from harness_connector.sandbox.routes.runtime_inputs import (
    apply_inputs,
    input_paths,
    merge_trees,
    runtime_input_template,
)
from harness_connector.sandbox.state import Entity

__all__ = ["KINDS", "merged_inputs", "routes"]


def _parse_input_set(draft: Draft) -> Parsed:
    text, block, root = parse_yaml(draft.body, root=("inputSet", "overlayInputSet"))
    identifier = check_identifier(block.get("identifier"), what=f"{root}.identifier")
    name = require_text(block, "name")
    pipeline_id = draft.parent
    get_resource(draft.ctx, "pipeline", pipeline_id, org=draft.org, project=draft.project)
    check_yaml_scope(block, "input set", {"orgIdentifier": draft.org, "projectIdentifier": draft.project})
    references: list[str] = []
    if root == "inputSet":
        pipeline = block.get("pipeline")
        if not isinstance(pipeline, dict):
            raise ApiError("INVALID_REQUEST", "Invalid yaml: inputSet.pipeline must be a mapping")
        if pipeline.get("identifier") not in (None, pipeline_id):
            raise ApiError(
                "INVALID_REQUEST",
                f"Pipeline identifier in the input set [{pipeline.get('identifier')}] does not match [{pipeline_id}]",
            )
    else:
        if block.get("pipelineIdentifier") not in (None, pipeline_id):
            raise ApiError("INVALID_REQUEST", f"pipelineIdentifier must be [{pipeline_id}]")
        raw = block.get("inputSetReferences")
        if not isinstance(raw, list) or not raw:
            raise ApiError("INVALID_REQUEST", "inputSetReferences: an overlay input set must reference input sets")
        references = [str(r) for r in raw]
        for ref in references:
            if (
                find_resource(draft.ctx, "input_set", ref, org=draft.org, project=draft.project, parent=pipeline_id)
                is None
            ):
                raise ApiError("INVALID_REQUEST", f"Reference {ref} does not exist")
    tags = block.get("tags")
    doc = {
        "yaml": text,
        "identifier": identifier,
        "name": name,
        "description": str(block.get("description") or ""),
        "tags": {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {},
        "pipelineIdentifier": pipeline_id,
        "inputSetType": "INPUT_SET" if root == "inputSet" else "OVERLAY_INPUT_SET",
        "inputSetReferences": references,
    }
    return Parsed(identifier=identifier, doc=doc, parent=pipeline_id)


def _is_outdated(ctx: SandboxContext, entity: Entity) -> bool:
    if entity.doc["inputSetType"] != "INPUT_SET":
        return False
    pipeline = find_resource(ctx, "pipeline", entity.parent, org=entity.org, project=entity.project)
    if pipeline is None:
        return True
    template = yaml.safe_load(runtime_input_template(pipeline.doc["yaml"]) or "{}") or {}
    given = (yaml.safe_load(entity.doc["yaml"]) or {}).get("inputSet", {}).get("pipeline", {})
    return bool(input_paths(given) - input_paths(template.get("pipeline", {})))


def _summary(ctx: SandboxContext, entity: Entity) -> dict[str, Any]:
    doc = entity.doc
    return {
        "identifier": entity.identifier,
        "name": doc["name"],
        "pipelineIdentifier": entity.parent,
        "description": doc["description"],
        "inputSetType": doc["inputSetType"],
        "tags": doc["tags"],
        "gitDetails": dict(INLINE_GIT_DETAILS),
        "createdAt": entity.created_at,
        "lastUpdatedAt": entity.updated_at,
        "isOutdated": _is_outdated(ctx, entity),
        "inputSetErrorDetails": None,
        "overlaySetErrorDetails": None,
        "entityValidityDetails": {"valid": True, "invalidYaml": None},
        "modules": [],
        "storeType": "INLINE",
    }


def _response(ctx: SandboxContext, entity: Entity) -> dict[str, Any]:
    doc = entity.doc
    body: dict[str, Any] = {
        "accountId": ctx.account_id,
        "orgIdentifier": entity.org,
        "projectIdentifier": entity.project,
        "pipelineIdentifier": entity.parent,
        "identifier": entity.identifier,
        "name": doc["name"],
        "description": doc["description"],
        "tags": doc["tags"],
        "isOutdated": _is_outdated(ctx, entity),
        "inputSetErrorWrapper": None,
        "version": 1,
        "gitDetails": dict(INLINE_GIT_DETAILS),
        "entityValidityDetails": {"valid": True, "invalidYaml": None},
        "storeType": "INLINE",
        "connectorRef": None,
        "errorResponse": False,
        "createdAt": entity.created_at,
        "lastUpdatedAt": entity.updated_at,
    }
    if doc["inputSetType"] == "OVERLAY_INPUT_SET":
        return {**body, "overlayInputSetYaml": doc["yaml"], "inputSetReferences": doc["inputSetReferences"]}
    return {**body, "inputSetYaml": doc["yaml"]}


def _where(request: Request) -> tuple[str, str, str]:
    org, project = project_scope(request)
    return org, project, require(request, "pipelineIdentifier")


def _paging(request: Request) -> tuple[int, int]:
    # The SDK sends pageIndex/pageSize; the official MCP server sends page/size. Harness reads either.
    if "pageIndex" not in request.query_params and "page" in request.query_params:
        return spring_paging(request, default_size=100)
    return ng_paging(request, default_size=100)


async def list_input_sets(ctx: SandboxContext, request: Request) -> Response:
    org, project, pipeline = _where(request)
    get_resource(ctx, "pipeline", pipeline, org=org, project=project)
    page, size = _paging(request)
    kind = (request.query_params.get("inputSetType") or "ALL").upper()
    term = request.query_params.get("searchTerm")
    found = [
        e
        for e in list_resources(ctx, "input_set", org=org, project=project, parent=pipeline)
        if (kind == "ALL" or e.doc["inputSetType"] == kind) and matches(term, e.identifier, e.doc["name"])
    ]
    ordered = sort_entities(found, request.query_params.get("sort"), name_of=lambda e: str(e.doc["name"]))
    items = [_summary(ctx, e) for e in window(ordered, page, size)]
    return ok(ng_page(items, page=page, size=size, total=len(ordered)))


async def get_input_set(ctx: SandboxContext, request: Request) -> Response:
    org, project, pipeline = _where(request)
    entity = get_resource(ctx, "input_set", request.path_params["id"], org=org, project=project, parent=pipeline)
    return ok(_response(ctx, entity))


async def create_input_set(ctx: SandboxContext, request: Request) -> Response:
    org, project, pipeline = _where(request)
    body = (await request.body()).decode("utf-8", errors="replace")
    entity = create_resource(
        ctx, "input_set", org=org, project=project, parent=pipeline, body=body, actor=actor_of(ctx, request)
    )
    return ok(_response(ctx, entity))


async def update_input_set(ctx: SandboxContext, request: Request) -> Response:
    org, project, pipeline = _where(request)
    body = (await request.body()).decode("utf-8", errors="replace")
    entity = update_resource(
        ctx,
        "input_set",
        request.path_params["id"],
        org=org,
        project=project,
        parent=pipeline,
        body=body,
        actor=actor_of(ctx, request),
    )
    return ok(_response(ctx, entity))


async def delete_input_set(ctx: SandboxContext, request: Request) -> Response:
    org, project, pipeline = _where(request)
    delete_resource(
        ctx,
        "input_set",
        request.path_params["id"],
        org=org,
        project=project,
        parent=pipeline,
        actor=actor_of(ctx, request),
    )
    return ok(True)


async def input_set_template(ctx: SandboxContext, request: Request) -> Response:
    org, project, pipeline_id = _where(request)
    pipeline = get_resource(ctx, "pipeline", pipeline_id, org=org, project=project)
    body = await json_body(request, required=False)
    stages = body.get("stageIdentifiers") if isinstance(body, dict) else None
    template = runtime_input_template(pipeline.doc["yaml"], [str(s) for s in stages] if stages else None)
    has_sets = bool(list_resources(ctx, "input_set", org=org, project=project, parent=pipeline_id))
    return ok(
        {
            "inputSetTemplateYaml": template,
            "replacedExpressions": [],
            "modules": pipeline.doc["modules"],
            "hasInputSets": has_sets,
        }
    )


def merged_inputs(ctx: SandboxContext, org: str, project: str, pipeline: str, references: list[str]) -> str:
    """The runtime-input YAML of input sets merged in order (overlays expanded), as a run would use it.

    Raises:
        ApiError: INVALID_REQUEST when a reference does not exist.
    """
    merged: dict[str, Any] = {}
    for ref in references:
        entity = find_resource(ctx, "input_set", ref, org=org, project=project, parent=pipeline)
        if entity is None:
            raise ApiError("INVALID_REQUEST", f"Reference {ref} does not exist")
        if entity.doc["inputSetType"] == "OVERLAY_INPUT_SET":
            inner = merged_inputs(ctx, org, project, pipeline, list(entity.doc["inputSetReferences"]))
            tree = (yaml.safe_load(inner) or {}).get("pipeline", {}) if inner else {}
        else:
            tree = (yaml.safe_load(entity.doc["yaml"]) or {}).get("inputSet", {}).get("pipeline", {})
        merged = merge_trees(merged, tree)
    return str(yaml.safe_dump({"pipeline": merged}, sort_keys=False)) if merged else ""


async def merge_input_sets(ctx: SandboxContext, request: Request) -> Response:
    org, project, pipeline_id = _where(request)
    pipeline = get_resource(ctx, "pipeline", pipeline_id, org=org, project=project)
    body = await json_body(request)
    references = body.get("inputSetReferences") if isinstance(body, dict) else None
    if not isinstance(references, list) or not references:
        raise ApiError("INVALID_REQUEST", "inputSetReferences: must not be empty")
    merged = merged_inputs(ctx, org, project, pipeline_id, [str(r) for r in references])
    complete = apply_inputs(pipeline.doc["yaml"], merged) if body.get("withMergedPipelineYaml") else None
    return ok(
        {
            "pipelineYaml": merged,
            "completePipelineYaml": complete,
            "isErrorResponse": False,
            "inputSetErrorWrapper": None,
        }
    )


KINDS = (
    KindSpec(
        kind="input_set",
        label="Input Set",
        parse=_parse_input_set,
        audit_type="INPUT_SET",
        module="PMS",
        parent_label="Pipeline",
    ),
)


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The input set endpoints."""
    base = "/pipeline/api/inputSets"
    return [
        route(ctx, base, "GET", list_input_sets),
        route(ctx, base, "POST", create_input_set),
        route(ctx, base + "/overlay", "POST", create_input_set),
        route(ctx, base + "/template", "POST", input_set_template),
        route(ctx, base + "/merge", "POST", merge_input_sets),
        route(ctx, base + "/overlay/{id}", "GET", get_input_set),
        route(ctx, base + "/overlay/{id}", "PUT", update_input_set),
        route(ctx, base + "/{id}", "GET", get_input_set),
        route(ctx, base + "/{id}", "PUT", update_input_set),
        route(ctx, base + "/{id}", "DELETE", delete_input_set),
    ]
