"""Pipelines (v0 API of the pipeline service): list, get, create, update, delete and summary.

A pipeline's document is `{"yaml": <the YAML text>, identifier, name, description, tags, orgIdentifier,
projectIdentifier, stageNames, stageIdentifiers, stageTypes, numOfStages, modules, version}`; everything but
`yaml` is derived from it on every write. The execution engine reads `doc["yaml"]` to run the pipeline. Lists
report each pipeline's recent runs (`executionSummaryInfo`) from the executions table.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from harness_connector.domain.status import ExecutionStatus
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
    update_resource,
    where,
)
from harness_connector.sandbox.routes._common import (
    actor_of,
    check_yaml_scope,
    filter_body,
    matches,
    project_scope,
    require_text,
    route,
    sort_entities,
    window,
)
from harness_connector.sandbox.state import Entity

__all__ = ["INLINE_GIT_DETAILS", "KINDS", "pipeline_modules", "pipeline_stages", "pipeline_summary", "routes"]

_DAY_MS = 86_400_000
_STAGE_MODULES = {
    "CI": "ci",
    "Deployment": "cd",
    "FeatureFlag": "cf",
    "SecurityTests": "sto",
    "IACM": "iacm",
    "Approval": "pms",
    "Custom": "pms",
    "Pipeline": "pms",
}
# Inline (not Git-backed) entities still carry a gitDetails object, every field null.
INLINE_GIT_DETAILS: dict[str, Any] = dict.fromkeys(
    ("objectId", "branch", "repoIdentifier", "rootFolder", "filePath", "repoName", "commitId", "fileUrl", "repoUrl")
)


def pipeline_stages(pipeline: dict[str, Any]) -> list[dict[str, Any]]:
    """The stage mappings of a `pipeline:` block in order, parallel groups flattened."""
    found: list[dict[str, Any]] = []
    stages = pipeline.get("stages")
    for item in stages if isinstance(stages, list) else []:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("stage"), dict):
            found.append(item["stage"])
        elif isinstance(item.get("parallel"), list):
            found.extend(
                p["stage"] for p in item["parallel"] if isinstance(p, dict) and isinstance(p.get("stage"), dict)
            )
    return found


def pipeline_modules(stages: list[dict[str, Any]]) -> list[str]:
    """The modules a pipeline's stages belong to, as the summary lists them."""
    modules = {_STAGE_MODULES.get(str(stage.get("type")), "pms") for stage in stages}
    return sorted(modules) or ["pms"]


def _parse_pipeline(draft: Draft) -> Parsed:
    text, pipeline, _ = parse_yaml(draft.body, root="pipeline")
    identifier = check_identifier(pipeline.get("identifier"), what="pipeline.identifier")
    name = require_text(pipeline, "name")
    check_yaml_scope(pipeline, "pipeline", {"orgIdentifier": draft.org, "projectIdentifier": draft.project})
    if "stages" in pipeline and not isinstance(pipeline["stages"], list):
        raise ApiError("INVALID_REQUEST", "Invalid yaml: pipeline.stages must be a list")
    stages = pipeline_stages(pipeline)
    tags = pipeline.get("tags")
    previous = int(draft.previous.doc.get("version", 0)) if draft.previous is not None else 0
    doc = {
        "yaml": text,
        "identifier": identifier,
        "name": name,
        "description": str(pipeline.get("description") or ""),
        "tags": {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {},
        "orgIdentifier": draft.org,
        "projectIdentifier": draft.project,
        "stageNames": [str(s.get("name", s.get("identifier", ""))) for s in stages],
        "stageIdentifiers": [str(s.get("identifier", "")) for s in stages],
        "stageTypes": [str(s.get("type", "")) for s in stages],
        "numOfStages": len(stages),
        "modules": pipeline_modules(stages),
        "version": previous + 1,
    }
    return Parsed(identifier=identifier, doc=doc)


def _cascade(ctx: SandboxContext, entity: Entity) -> None:
    # Harness deletes a pipeline's input sets and triggers with it.
    for kind in ("input_set", "trigger"):
        for child in list_resources(ctx, kind, org=entity.org, project=entity.project, parent=entity.identifier):
            ctx.state.delete_entity(kind, child.identifier, org=child.org, project=child.project, parent=child.parent)


def _not_found(identifier: str, org: str, project: str, parent: str) -> str:
    return f"Pipeline [{identifier}] {where(org, project)} doesn't exist or has been deleted."


def execution_summary(ctx: SandboxContext, org: str, project: str, pipeline: str) -> dict[str, Any]:
    """`executionSummaryInfo`: runs and failures per day over the last week, and the latest run."""
    now = ctx.clock()
    today = now // _DAY_MS
    rows = ctx.state.query(
        "SELECT id, status, start_ts FROM executions WHERE org = ? AND project = ? AND pipeline = ? "
        "AND start_ts >= ? ORDER BY start_ts DESC",
        (org, project, pipeline, (today - 6) * _DAY_MS),
    )
    deployments, errors = [0] * 7, [0] * 7
    for _, status, start in rows:
        index = 6 - (today - int(start) // _DAY_MS)
        if 0 <= index < 7:
            deployments[index] += 1
            errors[index] += int(_is_failure(str(status)))
    latest = ctx.state.query(
        "SELECT id, status, start_ts FROM executions WHERE org = ? AND project = ? AND pipeline = ? "
        "ORDER BY start_ts DESC LIMIT 1",
        (org, project, pipeline),
    )
    info: dict[str, Any] = {"numOfErrors": errors, "deployments": deployments}
    if latest:
        run_id, status, start = latest[0]
        info.update(lastExecutionTs=int(start), lastExecutionStatus=str(status), lastExecutionId=str(run_id))
    return info


def _is_failure(status: str) -> bool:
    try:
        return ExecutionStatus.parse(status).is_failure
    except ValueError:
        return False


def pipeline_summary(ctx: SandboxContext, entity: Entity) -> dict[str, Any]:
    """PMSPipelineSummaryResponse: a list item, and the answer of the summary endpoint."""
    doc = entity.doc
    return {
        "name": doc["name"],
        "identifier": entity.identifier,
        "description": doc["description"],
        "tags": doc["tags"],
        "version": doc["version"],
        "numOfStages": doc["numOfStages"],
        "createdAt": entity.created_at,
        "lastUpdatedAt": entity.updated_at,
        "modules": doc["modules"],
        "executionSummaryInfo": execution_summary(ctx, entity.org, entity.project, entity.identifier),
        "filters": {module: {} for module in doc["modules"]},
        "stageNames": doc["stageNames"],
        "storeType": "INLINE",
        "connectorRef": None,
        "isDraft": False,
        "yamlVersion": "0",
        "gitDetails": dict(INLINE_GIT_DETAILS),
        "entityValidityDetails": {"valid": True, "invalidYaml": None},
    }


def _kept(entity: Entity, request: Request, query: dict[str, Any]) -> bool:
    doc = entity.doc
    if not matches(request.query_params.get("searchTerm"), entity.identifier, doc["name"], doc["tags"]):
        return False
    module = (request.query_params.get("module") or "").lower()
    if module and module not in doc["modules"]:
        return False
    wanted = query.get("pipelineIdentifiers")
    if isinstance(wanted, list) and wanted and entity.identifier not in wanted:
        return False
    for key in ("name", "description"):
        if isinstance(query.get(key), str) and query[key] and query[key].lower() not in str(doc[key]).lower():
            return False
    tags = query.get("pipelineTags")
    pairs = [(str(t.get("key")), t.get("value")) for t in tags if isinstance(t, dict)] if isinstance(tags, list) else []
    return all(key in doc["tags"] and value in (None, "", doc["tags"][key]) for key, value in pairs)


async def list_pipelines(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    page, size = spring_paging(request, default_size=25)
    query = await filter_body(request, "PipelineSetup")
    found = [e for e in list_resources(ctx, "pipeline", org=org, project=project) if _kept(e, request, query)]
    ordered = sort_entities(
        found, request.query_params.getlist("sort"), name_of=lambda e: str(e.doc["name"]), default="lastUpdatedAt,DESC"
    )
    items = [pipeline_summary(ctx, e) for e in window(ordered, page, size)]
    return ok(spring_page(items, page=page, size=size, total=len(ordered)))


async def get_pipeline(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    entity = get_resource(ctx, "pipeline", request.path_params["pipeline"], org=org, project=project)
    yaml_text = entity.doc["yaml"]
    response = ok(
        {
            "yamlPipeline": yaml_text,
            "resolvedTemplatesPipelineYaml": yaml_text,
            "version": entity.doc["version"],
            "gitDetails": dict(INLINE_GIT_DETAILS),
            "entityValidityDetails": {"valid": True, "invalidYaml": None},
            "modules": entity.doc["modules"],
            "storeType": "INLINE",
            "connectorRef": None,
            "allowDynamicExecutions": False,
            "yamlSchemaErrorWrapper": None,
            "cacheResponse": None,
        }
    )
    response.headers["ETag"] = f'"{entity.doc["version"]}"'
    return response


def _governance(ctx: SandboxContext, org: str, project: str) -> dict[str, Any]:
    return {
        "id": "",
        "deny": False,
        "details": [],
        "message": "",
        "timestamp": ctx.clock(),
        "status": "pass",
        "accountId": ctx.account_id,
        "orgId": org,
        "projectId": project,
        "entity": "",
        "type": "pipeline",
        "action": "onsave",
        "created": ctx.clock(),
    }


async def create_pipeline(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    body = (await request.body()).decode("utf-8", errors="replace")
    entity = create_resource(ctx, "pipeline", org=org, project=project, body=body, actor=actor_of(ctx, request))
    return ok({"identifier": entity.identifier, "governanceMetadata": _governance(ctx, org, project)})


async def update_pipeline(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    body = (await request.body()).decode("utf-8", errors="replace")
    entity = update_resource(
        ctx,
        "pipeline",
        request.path_params["pipeline"],
        org=org,
        project=project,
        body=body,
        actor=actor_of(ctx, request),
    )
    return ok({"identifier": entity.identifier, "governanceMetadata": _governance(ctx, org, project)})


async def delete_pipeline(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    delete_resource(
        ctx, "pipeline", request.path_params["pipeline"], org=org, project=project, actor=actor_of(ctx, request)
    )
    return ok(True)


async def get_summary(ctx: SandboxContext, request: Request) -> Response:
    org, project = project_scope(request)
    entity = get_resource(ctx, "pipeline", request.path_params["pipeline"], org=org, project=project)
    return ok(pipeline_summary(ctx, entity))


KINDS = (
    KindSpec(
        kind="pipeline",
        label="Pipeline",
        parse=_parse_pipeline,
        audit_type="PIPELINE",
        module="PMS",
        cascade=_cascade,
        not_found=_not_found,
    ),
)


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The v0 pipeline endpoints."""
    return [
        route(ctx, "/pipeline/api/pipelines/list", "POST", list_pipelines),
        route(ctx, "/pipeline/api/pipelines/summary/{pipeline}", "GET", get_summary),
        route(ctx, "/pipeline/api/pipelines/v2", "POST", create_pipeline),
        # The older create endpoint takes the same YAML.
        route(ctx, "/pipeline/api/pipelines", "POST", create_pipeline),
        route(ctx, "/pipeline/api/pipelines/v2/{pipeline}", "PUT", update_pipeline),
        route(ctx, "/pipeline/api/pipelines/{pipeline}", "GET", get_pipeline),
        route(ctx, "/pipeline/api/pipelines/{pipeline}", "DELETE", delete_pipeline),
    ]
