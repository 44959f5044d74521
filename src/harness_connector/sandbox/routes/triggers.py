"""Triggers of a pipeline (pipeline service): schedules, webhooks and artifact triggers.

A trigger's document is `{"yaml": <text>, identifier, name, description, tags, type, sourceType, enabled,
targetIdentifier}`, stored under its pipeline (`parent`). The YAML is a `trigger:` document; `type` is
`source.type` (Webhook, Scheduled, Artifact, Manifest) and `sourceType` its `spec.type` (Cron, Custom, Github...).
Lists report the runs a trigger started over the last week from the executions table.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.envelopes import ApiError, ng_page, ok
from harness_connector.sandbox.requests import require, spring_paging
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
    check_yaml_scope,
    matches,
    project_scope,
    require_text,
    route,
    sort_entities,
    window,
)
from harness_connector.sandbox.state import Entity

__all__ = ["KINDS", "routes"]

_DAY_MS = 86_400_000
_SOURCES = ("Webhook", "Scheduled", "Artifact", "Manifest", "MultiRegionArtifact")
_WEBHOOKS = ("Github", "Gitlab", "Bitbucket", "AzureRepo", "AwsCodeCommit", "Harness", "Custom")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _check_source(source: Any) -> tuple[str, str]:
    if not isinstance(source, dict) or source.get("type") not in _SOURCES:
        raise ApiError("INVALID_REQUEST", f"trigger.source.type: must be one of {', '.join(_SOURCES)}")
    spec = _mapping(source.get("spec"))
    kind, spec_type = str(source["type"]), str(spec.get("type", ""))
    if kind == "Scheduled":
        expression = str(_mapping(spec.get("spec")).get("expression") or "")
        if len(expression.split()) not in (5, 6, 7):
            raise ApiError("INVALID_REQUEST", f"Invalid cron expression [{expression}] for a Scheduled trigger")
    if kind == "Webhook" and spec_type not in _WEBHOOKS:
        raise ApiError("INVALID_REQUEST", f"trigger.source.spec.type: must be one of {', '.join(_WEBHOOKS)}")
    return kind, spec_type


def _parse_trigger(draft: Draft) -> Parsed:
    text, trigger, _ = parse_yaml(draft.body, root="trigger")
    identifier = check_identifier(trigger.get("identifier"), what="trigger.identifier")
    name = require_text(trigger, "name")
    get_resource(draft.ctx, "pipeline", draft.parent, org=draft.org, project=draft.project)
    expected = {"orgIdentifier": draft.org, "projectIdentifier": draft.project, "pipelineIdentifier": draft.parent}
    check_yaml_scope(trigger, "trigger", expected)
    kind, spec_type = _check_source(trigger.get("source"))
    tags = trigger.get("tags")
    doc = {
        "yaml": text,
        "identifier": identifier,
        "name": name,
        "description": str(trigger.get("description") or ""),
        "tags": {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {},
        "type": kind,
        "sourceType": spec_type,
        "enabled": trigger.get("enabled") is not False,
        "targetIdentifier": draft.parent,
    }
    return Parsed(identifier=identifier, doc=doc, parent=draft.parent)


def _response(ctx: SandboxContext, entity: Entity) -> dict[str, Any]:
    doc = entity.doc
    return {
        "name": doc["name"],
        "identifier": entity.identifier,
        "description": doc["description"],
        "type": doc["type"],
        "accountIdentifier": ctx.account_id,
        "orgIdentifier": entity.org,
        "projectIdentifier": entity.project,
        "targetIdentifier": entity.parent,
        "yaml": doc["yaml"],
        "version": 0,
        "enabled": doc["enabled"],
        "tags": doc["tags"],
        "errorResponse": False,
    }


def _webhook_url(ctx: SandboxContext, entity: Entity) -> str | None:
    if entity.doc["type"] != "Webhook":
        return None
    if entity.doc["sourceType"] == "Custom":
        query = urlencode(
            {
                "accountIdentifier": ctx.account_id,
                "orgIdentifier": entity.org,
                "projectIdentifier": entity.project,
                "pipelineIdentifier": entity.parent,
                "triggerIdentifier": entity.identifier,
            }
        )
        return f"{ctx.base_url}/gateway/pipeline/api/webhook/custom/v2?{query}"
    return f"{ctx.base_url}/gateway/ng/api/webhook?accountIdentifier={ctx.account_id}"


def _runs(ctx: SandboxContext, entity: Entity) -> tuple[list[int], dict[str, Any] | None]:
    today = ctx.clock() // _DAY_MS
    rows = ctx.state.query(
        "SELECT id, status, start_ts FROM executions WHERE org = ? AND project = ? AND pipeline = ? "
        "AND json_extract(doc, '$.triggered_by') = ? AND json_extract(doc, '$.trigger_type') != 'MANUAL' "
        "ORDER BY start_ts DESC",
        (entity.org, entity.project, entity.parent, entity.identifier),
    )
    counts = [0] * 7
    for _, _, start in rows:
        index = 6 - (today - int(start) // _DAY_MS)
        if 0 <= index < 7:
            counts[index] += 1
    if not rows:
        return counts, None
    run_id, status, start = rows[0]
    last = {
        "lastExecutionTime": int(start),
        "lastExecutionSuccessful": True,
        "lastExecutionStatus": str(status),
        "planExecutionId": str(run_id),
        "message": "Pipeline execution was requested successfully",
    }
    return counts, last


def _details(ctx: SandboxContext, entity: Entity) -> dict[str, Any]:
    doc = entity.doc
    url = _webhook_url(ctx, entity)
    counts, last = _runs(ctx, entity)
    status: dict[str, Any] = {
        "status": "SUCCESS",
        "detailMessages": [],
        "validationStatus": {"statusResult": "SUCCESS", "detailedMessage": None},
    }
    if doc["type"] == "Webhook":
        status["webhookAutoRegistrationStatus"] = {"registrationResult": "SUCCESS", "detailedMessage": None}
        status["webhookInfo"] = {"webhookId": entity.identifier}
    curl = None
    if url and doc["sourceType"] == "Custom":
        sample = '{"sample_key": "sample_value"}'
        curl = f"curl -X POST -H 'Content-Type: application/json' --url '{url}' -d '{sample}'"
    return {
        "name": doc["name"],
        "identifier": entity.identifier,
        "description": doc["description"],
        "type": doc["type"],
        "tags": doc["tags"],
        "enabled": doc["enabled"],
        "yaml": doc["yaml"],
        "webhookUrl": url,
        "webhookCurlCommand": curl,
        "triggerStatus": status,
        "executions": counts,
        "lastTriggerExecutionDetails": last,
        "pipelineInputOutdated": False,
        "createdAt": entity.created_at,
        "lastModifiedAt": entity.updated_at,
    }


def _where(request: Request) -> tuple[str, str, str]:
    org, project = project_scope(request)
    return org, project, require(request, "targetIdentifier")


async def list_triggers(ctx: SandboxContext, request: Request) -> Response:
    org, project, pipeline = _where(request)
    page, size = spring_paging(request, default_size=25)
    term = request.query_params.get("searchTerm")
    found = [
        e
        for e in list_resources(ctx, "trigger", org=org, project=project, parent=pipeline)
        if matches(term, e.identifier, e.doc["name"], e.doc["tags"])
    ]
    ordered = sort_entities(found, request.query_params.get("sort"), name_of=lambda e: str(e.doc["name"]))
    items = [_details(ctx, e) for e in window(ordered, page, size)]
    # Triggers take page/size on the wire but answer an NG PageResponse.
    return ok(ng_page(items, page=page, size=size, total=len(ordered)))


async def get_trigger(ctx: SandboxContext, request: Request) -> Response:
    org, project, pipeline = _where(request)
    entity = get_resource(ctx, "trigger", request.path_params["id"], org=org, project=project, parent=pipeline)
    return ok(_response(ctx, entity))


async def create_trigger(ctx: SandboxContext, request: Request) -> Response:
    org, project, pipeline = _where(request)
    body = (await request.body()).decode("utf-8", errors="replace")
    entity = create_resource(
        ctx, "trigger", org=org, project=project, parent=pipeline, body=body, actor=actor_of(ctx, request)
    )
    return ok(_response(ctx, entity))


async def update_trigger(ctx: SandboxContext, request: Request) -> Response:
    org, project, pipeline = _where(request)
    body = (await request.body()).decode("utf-8", errors="replace")
    entity = update_resource(
        ctx,
        "trigger",
        request.path_params["id"],
        org=org,
        project=project,
        parent=pipeline,
        body=body,
        actor=actor_of(ctx, request),
    )
    return ok(_response(ctx, entity))


async def delete_trigger(ctx: SandboxContext, request: Request) -> Response:
    org, project, pipeline = _where(request)
    delete_resource(
        ctx,
        "trigger",
        request.path_params["id"],
        org=org,
        project=project,
        parent=pipeline,
        actor=actor_of(ctx, request),
    )
    return ok(True)


KINDS = (
    KindSpec(
        kind="trigger",
        label="Trigger",
        parse=_parse_trigger,
        audit_type="TRIGGER",
        module="PMS",
        parent_label="Pipeline",
    ),
)


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The trigger endpoints."""
    return [
        route(ctx, "/pipeline/api/triggers", "GET", list_triggers),
        route(ctx, "/pipeline/api/triggers", "POST", create_trigger),
        route(ctx, "/pipeline/api/triggers/{id}", "GET", get_trigger),
        route(ctx, "/pipeline/api/triggers/{id}", "PUT", update_trigger),
        route(ctx, "/pipeline/api/triggers/{id}", "DELETE", delete_trigger),
    ]
