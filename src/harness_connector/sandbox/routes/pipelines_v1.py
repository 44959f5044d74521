"""Pipelines through the v1 API: `/v1/orgs/{org}/projects/{project}/pipelines`, snake_case and unwrapped.

The same stored pipelines as the v0 API; lists are bare arrays with the totals in `X-Total-Elements`,
`X-Page-Number` and `X-Page-Size`, and each item reports its most recent executions.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.envelopes import ApiError
from harness_connector.sandbox.requests import json_body
from harness_connector.sandbox.resources import (
    check_identifier,
    create_resource,
    delete_resource,
    get_resource,
    list_resources,
    parse_yaml,
    update_resource,
)
from harness_connector.sandbox.routes._common import actor_of, matches, require_mapping, route, sort_entities, window
from harness_connector.sandbox.state import Entity

__all__ = ["routes"]

_BASE = "/v1/orgs/{org}/projects/{project}/pipelines"
_RECENT_RUNS = 10
_V1_SORTS = {"name": "name", "updated": "lastUpdatedAt", "created": "createdAt", "identifier": "identifier"}


def _git_details() -> dict[str, Any]:
    return dict.fromkeys(("object_id", "branch_name", "file_path", "repo_name", "commit_id", "file_url", "repo_url"))


def _recent_runs(ctx: SandboxContext, entity: Entity) -> list[dict[str, Any]]:
    rows = ctx.state.query(
        "SELECT doc FROM executions WHERE org = ? AND project = ? AND pipeline = ? ORDER BY start_ts DESC LIMIT ?",
        (entity.org, entity.project, entity.identifier, _RECENT_RUNS),
    )
    runs: list[dict[str, Any]] = []
    for (raw,) in rows:
        run = json.loads(raw)
        runs.append(
            {
                "execution_id": run.get("plan_execution_id"),
                "execution_status": run.get("status"),
                "started": run.get("start_ts"),
                "ended": run.get("end_ts"),
                "run_number": run.get("run_sequence"),
                "executor_info": {
                    "trigger_type": run.get("trigger_type", "MANUAL"),
                    "username": run.get("triggered_by"),
                    "email": run.get("triggered_by_email"),
                },
            }
        )
    return runs


def _common(entity: Entity) -> dict[str, Any]:
    doc = entity.doc
    return {
        "identifier": entity.identifier,
        "name": doc["name"],
        "description": doc["description"],
        "tags": doc["tags"],
        "org": entity.org,
        "project": entity.project,
        "created": entity.created_at,
        "updated": entity.updated_at,
        "store_type": "INLINE",
        "connector_ref": None,
        "git_details": _git_details(),
        "valid": True,
    }


def _page_params(request: Request) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("page") or 0)
        limit = int(request.query_params.get("limit") or 30)
    except ValueError:
        raise ApiError("INVALID_REQUEST", "page and limit must be numbers") from None
    if page < 0 or not 1 <= limit <= 100:
        raise ApiError("INVALID_REQUEST", "page must be >= 0 and limit between 1 and 100")
    return page, limit


async def list_pipelines(ctx: SandboxContext, request: Request) -> Response:
    org, project = request.path_params["org"], request.path_params["project"]
    page, limit = _page_params(request)
    params = request.query_params
    module = (params.get("module") or "").lower()
    found = [
        e
        for e in list_resources(ctx, "pipeline", org=org, project=project)
        if matches(params.get("search_term"), e.identifier, e.doc["name"], e.doc["tags"])
        and (not module or module in e.doc["modules"])
    ]
    sort_field = _V1_SORTS.get((params.get("sort") or "updated").lower(), "lastUpdatedAt")
    order = (params.get("order") or "DESC").upper()
    ordered = sort_entities(found, f"{sort_field},{order}", name_of=lambda e: str(e.doc["name"]))
    items = [
        {**_common(e), "modules": e.doc["modules"], "recent_execution_info": _recent_runs(ctx, e)}
        for e in window(ordered, page, limit)
    ]
    headers = {"X-Total-Elements": str(len(ordered)), "X-Page-Number": str(page), "X-Page-Size": str(limit)}
    return JSONResponse(items, headers=headers)


async def get_pipeline(ctx: SandboxContext, request: Request) -> Response:
    path = request.path_params
    entity = get_resource(ctx, "pipeline", path["pipeline"], org=path["org"], project=path["project"])
    return JSONResponse({**_common(entity), "pipeline_yaml": entity.doc["yaml"], "yaml_version": "0"})


def _yaml_of(body: Any) -> tuple[str, str]:
    payload = require_mapping(body)
    text = payload.get("pipeline_yaml")
    if not isinstance(text, str) or not text.strip():
        raise ApiError("INVALID_REQUEST", "pipeline_yaml: must not be blank")
    identifier = check_identifier(payload.get("identifier"))
    _, pipeline, _ = parse_yaml(text, root="pipeline")
    if pipeline.get("identifier") != identifier:
        raise ApiError(
            "INVALID_REQUEST",
            f"identifier [{identifier}] does not match the pipeline YAML's [{pipeline.get('identifier')}]",
        )
    return identifier, text


async def create_pipeline(ctx: SandboxContext, request: Request) -> Response:
    org, project = request.path_params["org"], request.path_params["project"]
    _, text = _yaml_of(await json_body(request))
    entity = create_resource(ctx, "pipeline", org=org, project=project, body=text, actor=actor_of(ctx, request))
    return JSONResponse({"identifier": entity.identifier}, status_code=201)


async def update_pipeline(ctx: SandboxContext, request: Request) -> Response:
    path = request.path_params
    _, text = _yaml_of(await json_body(request))
    entity = update_resource(
        ctx,
        "pipeline",
        path["pipeline"],
        org=path["org"],
        project=path["project"],
        body=text,
        actor=actor_of(ctx, request),
    )
    return JSONResponse({"identifier": entity.identifier})


async def delete_pipeline(ctx: SandboxContext, request: Request) -> Response:
    path = request.path_params
    delete_resource(
        ctx, "pipeline", path["pipeline"], org=path["org"], project=path["project"], actor=actor_of(ctx, request)
    )
    return Response(status_code=204)


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The v1 pipeline endpoints."""
    return [
        route(ctx, _BASE, "GET", list_pipelines),
        route(ctx, _BASE, "POST", create_pipeline),
        route(ctx, _BASE + "/{pipeline}", "GET", get_pipeline),
        route(ctx, _BASE + "/{pipeline}", "PUT", update_pipeline),
        route(ctx, _BASE + "/{pipeline}", "DELETE", delete_pipeline),
    ]
