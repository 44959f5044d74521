"""Deployment freeze windows (NG manager), written as `freeze:` YAML, at account, org or project scope.

A freeze window's document is `{"yaml": <text>, identifier, name, description, tags, status: Enabled |
Disabled, windows[], entityConfigs[]}`. Each window has `timeZone`, `startTime` ("2025-12-20 10:00 AM"), then
`endTime` or `duration` ("2w", "36h", "1d12h"), and may recur (`recurrence.type` Daily, Weekly, Monthly,
Yearly, with `spec.until`). Answers carry the current or next occurrence as `currentOrUpcomingWindow`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.envelopes import ApiError, ng_page, ok
from harness_connector.sandbox.requests import json_body, spring_paging
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
    optional_scope,
    require_text,
    route,
    sort_entities,
    window,
)
from harness_connector.sandbox.state import Entity

__all__ = ["KINDS", "current_window", "routes"]

_TIME_FORMAT = "%Y-%m-%d %I:%M %p"
_DURATION = re.compile(r"(\d+)\s*([wdhms])")
_UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_MAX_RECURRENCES = 5_000


def _moment(value: Any, zone: ZoneInfo, what: str) -> datetime:
    try:
        return datetime.strptime(str(value), _TIME_FORMAT).replace(tzinfo=zone)
    except ValueError:
        raise ApiError("INVALID_REQUEST", f"{what}: {value!r} is not a time like '2025-12-20 10:00 AM'") from None


def _duration(value: Any) -> timedelta:
    parts = _DURATION.findall(str(value))
    if not parts or "".join(n + u for n, u in parts) != re.sub(r"\s+", "", str(value)):
        raise ApiError("INVALID_REQUEST", f"duration: {value!r} is not a duration like '2w', '36h' or '1d12h'")
    return timedelta(seconds=sum(int(n) * _UNIT_SECONDS[u] for n, u in parts))


def _bounds(window_spec: dict[str, Any]) -> tuple[datetime, datetime, dict[str, Any], ZoneInfo]:
    try:
        zone = ZoneInfo(str(window_spec.get("timeZone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError("INVALID_REQUEST", f"timeZone: unknown time zone {window_spec.get('timeZone')!r}") from None
    start = _moment(window_spec.get("startTime"), zone, "startTime")
    if window_spec.get("endTime"):
        end = _moment(window_spec["endTime"], zone, "endTime")
    elif window_spec.get("duration"):
        end = start + _duration(window_spec["duration"])
    else:
        raise ApiError("INVALID_REQUEST", "a freeze window needs endTime or duration")
    if end <= start:
        raise ApiError("INVALID_REQUEST", "a freeze window must end after it starts")
    recurrence = window_spec.get("recurrence")
    return start, end, recurrence if isinstance(recurrence, dict) else {}, zone


def _advance(moment: datetime, kind: str) -> datetime:
    if kind == "Daily":
        return moment + timedelta(days=1)
    if kind == "Weekly":
        return moment + timedelta(weeks=1)
    months = 1 if kind == "Monthly" else 12
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


def current_window(windows: list[dict[str, Any]], now_ms: int) -> dict[str, int] | None:
    """The occurrence in force at `now_ms` or the next one (epoch ms), across all windows; None when all passed."""
    best: tuple[int, int] | None = None
    for spec in windows:
        start, end, recurrence, zone = _bounds(spec)
        kind = str(recurrence.get("type") or "")
        until_raw = (recurrence.get("spec") or {}).get("until") if kind else None
        until = _moment(until_raw, zone, "until") if until_raw else None
        steps = 0
        while kind in ("Daily", "Weekly", "Monthly", "Yearly") and end.timestamp() * 1000 < now_ms:
            start, end, steps = _advance(start, kind), _advance(end, kind), steps + 1
            if steps > _MAX_RECURRENCES or (until is not None and start > until):
                break
        if end.timestamp() * 1000 >= now_ms and (until is None or start <= until):
            found = (int(start.timestamp() * 1000), int(end.timestamp() * 1000))
            best = found if best is None or found < best else best
    return {"startTime": best[0], "endTime": best[1]} if best else None


def _parse_freeze(draft: Draft) -> Parsed:
    text, freeze, _ = parse_yaml(draft.body, root="freeze")
    identifier = check_identifier(freeze.get("identifier"), what="freeze.identifier")
    name = require_text(freeze, "name")
    status = str(freeze.get("status") or "Disabled")
    if status not in ("Enabled", "Disabled"):
        raise ApiError("INVALID_REQUEST", "freeze.status: must be Enabled or Disabled")
    check_yaml_scope(freeze, "freeze", {"orgIdentifier": draft.org, "projectIdentifier": draft.project})
    windows = freeze.get("windows")
    if not isinstance(windows, list) or not windows or not all(isinstance(w, dict) for w in windows):
        raise ApiError("INVALID_REQUEST", "freeze.windows: a freeze needs at least one window")
    for spec in windows:
        _bounds(spec)
    tags = freeze.get("tags")
    entity_configs = freeze.get("entityConfigs")
    doc = {
        "yaml": text,
        "identifier": identifier,
        "name": name,
        "description": str(freeze.get("description") or ""),
        "tags": {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {},
        "status": status,
        "windows": windows,
        "entityConfigs": entity_configs if isinstance(entity_configs, list) else [],
    }
    return Parsed(identifier=identifier, doc=doc)


def _summary(ctx: SandboxContext, entity: Entity) -> dict[str, Any]:
    doc = entity.doc
    return {
        "accountId": ctx.account_id,
        "type": "manual",
        "status": doc["status"],
        "name": doc["name"],
        "identifier": entity.identifier,
        "description": doc["description"],
        "tags": doc["tags"],
        "orgIdentifier": entity.org or None,
        "projectIdentifier": entity.project or None,
        "freezeScope": "project" if entity.project else "org" if entity.org else "account",
        "windows": doc["windows"],
        "currentOrUpcomingWindow": current_window(doc["windows"], ctx.clock()),
        "createdAt": entity.created_at,
        "lastUpdatedAt": entity.updated_at,
    }


def _response(ctx: SandboxContext, entity: Entity) -> dict[str, Any]:
    return {**_summary(ctx, entity), "yaml": entity.doc["yaml"]}


def _kept(ctx: SandboxContext, entity: Entity, query: dict[str, Any]) -> bool:
    doc = entity.doc
    if query.get("freezeStatus") and doc["status"] != query["freezeStatus"]:
        return False
    if not matches(query.get("searchTerm"), entity.identifier, doc["name"], doc["tags"]):
        return False
    wanted = query.get("freezeIdentifiers")
    if isinstance(wanted, list) and wanted and entity.identifier not in wanted:
        return False
    start, end = query.get("startTime"), query.get("endTime")
    if isinstance(start, int) and isinstance(end, int):
        upcoming = current_window(doc["windows"], start)
        return upcoming is not None and upcoming["startTime"] <= end
    return True


async def list_freezes(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    page, size = spring_paging(request, default_size=25)
    body = await json_body(request, required=False)
    query = body if isinstance(body, dict) else {}
    if query and query.get("filterType") != "FreezeSetup":
        raise ApiError(
            "INVALID_REQUEST",
            "Unable to process JSON: missing type id property 'filterType' (expected \"FreezeSetup\")",
        )
    found = [e for e in list_resources(ctx, "freeze_window", org=org, project=project) if _kept(ctx, e, query)]
    ordered = sort_entities(found, request.query_params.get("sort"), name_of=lambda e: str(e.doc["name"]))
    items = [_summary(ctx, e) for e in window(ordered, page, size)]
    # page/size on the wire, an NG PageResponse in the answer.
    return ok(ng_page(items, page=page, size=size, total=len(ordered)))


async def get_freeze(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    entity = get_resource(ctx, "freeze_window", request.path_params["id"], org=org, project=project)
    return ok(_response(ctx, entity))


async def create_freeze(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    body = (await request.body()).decode("utf-8", errors="replace")
    entity = create_resource(ctx, "freeze_window", org=org, project=project, body=body, actor=actor_of(ctx, request))
    return ok(_response(ctx, entity))


async def update_freeze(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    body = (await request.body()).decode("utf-8", errors="replace")
    entity = update_resource(
        ctx,
        "freeze_window",
        request.path_params["id"],
        org=org,
        project=project,
        body=body,
        actor=actor_of(ctx, request),
    )
    return ok(_response(ctx, entity))


async def delete_freeze(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    delete_resource(
        ctx, "freeze_window", request.path_params["id"], org=org, project=project, actor=actor_of(ctx, request)
    )
    return ok(True)


KINDS = (
    KindSpec(kind="freeze_window", label="Freeze", parse=_parse_freeze, audit_type="DEPLOYMENT_FREEZE", module="CD"),
)


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The freeze window endpoints."""
    return [
        route(ctx, "/ng/api/freeze/list", "POST", list_freezes),
        route(ctx, "/ng/api/freeze", "POST", create_freeze),
        route(ctx, "/ng/api/freeze/{id}", "GET", get_freeze),
        route(ctx, "/ng/api/freeze/{id}", "PUT", update_freeze),
        route(ctx, "/ng/api/freeze/{id}", "DELETE", delete_freeze),
    ]
