"""Delegates and delegate tokens (NG manager), both answered in the older RestResponse envelope.

Delegates have no create endpoint: the scenario (or a test) registers them with `create_resource(ctx,
"delegate", body={name, type, tags[], connected, lastHeartBeat, version, hostName, description, autoUpgrade,
legacy, tokenName, delegateReplicas[], expiringAt})`, and `update_resource` merges a partial body (a heartbeat is
`{"lastHeartBeat": t}`). A delegate is connected only while its last heartbeat is under five minutes old, its
`connected` flag is not false, and the token it registered with (if named) is not revoked. A delegate declared
`connected: true` that is not a delegate agent (the scenario's delegates) is a simulated running delegate: it
keeps heartbeating as the clock moves on, so it stays connected however long the sandbox runs.

A token's document is `{name, status: ACTIVE | REVOKED, value, revokeAfter, createdBy}`; the value is shown
only in the answer to create.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.envelopes import ApiError, rest_response
from harness_connector.sandbox.requests import json_body, require
from harness_connector.sandbox.resources import (
    Actor,
    Draft,
    KindSpec,
    Parsed,
    check_identifier,
    create_resource,
    find_resource,
    get_resource,
    list_resources,
    record_audit,
    save_doc,
)
from harness_connector.sandbox.routes._common import (
    actor_of,
    bool_param,
    list_everywhere,
    matches,
    optional_scope,
    require_mapping,
    route,
    scope_chain,
)
from harness_connector.sandbox.state import Entity

__all__ = ["KINDS", "delegate_id", "delegate_selectors", "eligible_delegate", "is_connected", "routes"]

HEARTBEAT_WINDOW_MS = 5 * 60_000
_IMAGE_LIFETIME_MS = 90 * 86_400_000
# How long ago a simulated, connected delegate is taken to have sent its last heartbeat (it sends one a minute).
_SIMULATED_BEAT_MS = 20_000
_NAME = re.compile(r"^[a-zA-Z0-9_][-a-zA-Z0-9_. ]{0,127}$")


def _parse_delegate(draft: Draft) -> Parsed:
    body = require_mapping(draft.body)
    previous = dict(draft.previous.doc) if draft.previous is not None else {}
    merged = {**previous, **body}
    name = check_identifier(merged.get("name"), what="name", pattern=_NAME)
    tags = merged.get("tags") or []
    if not isinstance(tags, list):
        raise ApiError("INVALID_REQUEST", "tags: must be a list of strings")
    doc = {
        "name": name,
        "type": str(merged.get("type") or "KUBERNETES"),
        "description": str(merged.get("description") or ""),
        "tags": [str(t) for t in tags],
        # None (not said) lets the heartbeat decide; the execution engine reads the same field.
        "connected": merged.get("connected") if isinstance(merged.get("connected"), bool) else None,
        "lastHeartBeat": int(merged.get("lastHeartBeat") or draft.ctx.clock()),
        "version": str(merged.get("version") or "25.02.85300"),
        "hostName": str(merged.get("hostName") or f"{name}-0"),
        "autoUpgrade": str(merged.get("autoUpgrade") or "ON"),
        "legacy": bool(merged.get("legacy", False)),
        "tokenName": merged.get("tokenName"),
        "delegateReplicas": merged.get("delegateReplicas"),
        "expiringAt": merged.get("expiringAt"),
        # A delegate agent registered through the delegate protocol: it executes the steps it takes.
        "agent": bool(merged.get("agent", False)),
    }
    return Parsed(identifier=name, doc=doc)


def _uid(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:22]


def delegate_id(entity: Entity) -> str:
    """The id a delegate agent is known by: stable for its name and scope, so it survives a re-registration."""
    return _uid("delegate", entity.org, entity.project, entity.identifier)


def _heartbeat_lag(ctx: SandboxContext, entity: Entity) -> int:
    """How far a simulated delegate's stored heartbeats lag behind the ones it has sent since (0 for the rest).

    A delegate the scenario (or a caller) declares `connected: true` stands for a running delegate that keeps
    heartbeating, but nothing stores its heartbeats as the clock moves on: its last one is taken to be
    `_SIMULATED_BEAT_MS` ago. A delegate agent's heartbeats are real and stored, so they alone decide.
    """
    if entity.doc.get("connected") is not True or entity.doc.get("agent"):
        return 0
    return max(0, ctx.clock() - _SIMULATED_BEAT_MS - int(entity.doc["lastHeartBeat"]))


def _last_heartbeat(ctx: SandboxContext, entity: Entity) -> int:
    return int(entity.doc["lastHeartBeat"]) + _heartbeat_lag(ctx, entity)


def _replicas(entity: Entity, lag_ms: int = 0) -> list[dict[str, Any]]:
    doc = entity.doc
    given = doc.get("delegateReplicas")
    expiring = int(doc.get("expiringAt") or entity.created_at + _IMAGE_LIFETIME_MS)
    if isinstance(given, list) and given:
        return [
            {
                "uuid": r.get("uuid") or _uid(entity.identifier, str(i)),
                "lastHeartbeat": int(r.get("lastHeartbeat") or doc["lastHeartBeat"]) + lag_ms,
                "hostName": r.get("hostName") or f"{entity.identifier}-{i}",
                "version": r.get("version") or doc["version"],
                "expiringAt": int(r.get("expiringAt") or expiring),
            }
            for i, r in enumerate(r for r in given if isinstance(r, dict))
        ]
    return [
        {
            "uuid": _uid(entity.identifier, "0"),
            "lastHeartbeat": int(doc["lastHeartBeat"]) + lag_ms,
            "hostName": doc["hostName"],
            "version": doc["version"],
            "expiringAt": expiring,
        }
    ]


def is_connected(ctx: SandboxContext, entity: Entity) -> bool:
    """Whether the delegate counts as connected now: flag set, fresh heartbeat, token not revoked."""
    if entity.doc.get("connected") is False:
        return False
    lag = _heartbeat_lag(ctx, entity)
    last = max([_last_heartbeat(ctx, entity), *(r["lastHeartbeat"] for r in _replicas(entity, lag))])
    if ctx.clock() - last > HEARTBEAT_WINDOW_MS:
        return False
    token_name = entity.doc.get("tokenName")
    if token_name:
        token = _find_token(ctx, str(token_name), entity.org, entity.project)
        if token is not None and token.doc["status"] == "REVOKED":
            return False
    return True


def delegate_selectors(entity: Entity) -> set[str]:
    """What a task can select the delegate by (lower-cased, as Harness compares them): tags, name, host names."""
    names = {entity.identifier, str(entity.doc.get("hostName") or ""), *entity.doc["tags"]}
    names.update(r["hostName"] for r in _replicas(entity))
    return {n.lower() for n in names if n}


def eligible_delegate(ctx: SandboxContext, org: str, project: str, selectors: list[str]) -> Entity | None:
    """A connected delegate usable from the scope (its own, its org's, the account's) with every selector."""
    for scope_org, scope_project in scope_chain(org, project):
        for entity in list_resources(ctx, "delegate", org=scope_org, project=scope_project):
            if is_connected(ctx, entity) and {s.lower() for s in selectors} <= delegate_selectors(entity):
                return entity
    return None


def _label(ctx: SandboxContext, kind: str, identifier: str, org: str = "") -> str | None:
    if not identifier:
        return None
    found = find_resource(ctx, kind, identifier, org=org)
    return str(found.doc[kind]["name"]) if found is not None else identifier


def _delegate_view(ctx: SandboxContext, entity: Entity) -> dict[str, Any]:
    doc = entity.doc
    replicas = _replicas(entity, _heartbeat_lag(ctx, entity))
    return {
        "type": doc["type"],
        "name": entity.identifier,
        "description": doc["description"],
        "tags": doc["tags"],
        "lastHeartBeat": max([_last_heartbeat(ctx, entity), *(r["lastHeartbeat"] for r in replicas)]),
        "connected": is_connected(ctx, entity),
        "delegateReplicas": replicas,
        "autoUpgrade": doc["autoUpgrade"],
        "legacy": doc["legacy"],
        "orgName": _label(ctx, "organization", entity.org),
        "projectName": _label(ctx, "project", entity.project, entity.org),
        "groupId": _uid(entity.org, entity.project, entity.identifier),
        "delegateGroupIdentifier": entity.identifier,
    }


def _delegate_kept(ctx: SandboxContext, entity: Entity, query: dict[str, Any]) -> bool:
    doc = entity.doc
    status = str(query.get("status") or "").upper()
    if status in ("CONNECTED", "DISCONNECTED") and is_connected(ctx, entity) != (status == "CONNECTED"):
        return False
    checks = (("delegateName", entity.identifier), ("description", doc["description"]), ("hostName", doc["hostName"]))
    if any(query.get(key) and not matches(str(query[key]), value) for key, value in checks):
        return False
    if query.get("delegateType") and str(query["delegateType"]).upper() != doc["type"].upper():
        return False
    if query.get("autoUpgrade") and str(query["autoUpgrade"]).upper() != doc["autoUpgrade"].upper():
        return False
    wanted = query.get("delegateTags")
    return not (isinstance(wanted, list) and not set(map(str, wanted)) <= set(doc["tags"]))


async def list_delegates(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    body = await json_body(request, required=False)
    query = body if isinstance(body, dict) else {}
    if query.get("filterType") not in (None, "Delegate"):
        raise ApiError(
            "INVALID_REQUEST", f"Unable to process JSON: filterType {query['filterType']!r} is not valid here"
        )
    if bool_param(request, "all"):
        # `all` adds the delegates of the scopes below this one.
        found = [e for e in list_everywhere(ctx, "delegate", org=org or None) if not project or e.project == project]
    else:
        found = list_resources(ctx, "delegate", org=org, project=project)
    kept = sorted((e for e in found if _delegate_kept(ctx, e, query)), key=lambda e: e.identifier)
    return rest_response([_delegate_view(ctx, e) for e in kept])


# ---- delegate tokens ------------------------------------------------------------------------------------------


def _parse_token(draft: Draft) -> Parsed:
    body = require_mapping(draft.body)
    previous = dict(draft.previous.doc) if draft.previous is not None else {}
    merged = {**previous, **body}
    name = check_identifier(merged.get("name"), what="tokenName", pattern=_NAME)
    status = str(merged.get("status") or "ACTIVE").upper()
    if status not in ("ACTIVE", "REVOKED"):
        raise ApiError("INVALID_REQUEST", "status: must be ACTIVE or REVOKED")
    revoke_after = merged.get("revokeAfter")
    doc = {
        "name": name,
        "status": status,
        "value": str(merged.get("value") or secrets.token_urlsafe(33)),
        "revokeAfter": int(revoke_after) if isinstance(revoke_after, int | float | str) and revoke_after else None,
        "createdBy": merged.get("createdBy") or {"type": "USER", "name": "sandbox"},
    }
    return Parsed(identifier=name, doc=doc)


def _find_token(ctx: SandboxContext, name: str, org: str, project: str) -> Entity | None:
    for scope_org, scope_project in scope_chain(org, project):
        found = find_resource(ctx, "delegate_token", name, org=scope_org, project=scope_project)
        if found is not None:
            return found
    return None


def _token_view(ctx: SandboxContext, entity: Entity, *, with_value: bool = False) -> dict[str, Any]:
    doc = entity.doc
    expired = doc["revokeAfter"] is not None and doc["revokeAfter"] <= ctx.clock()
    return {
        "uuid": _uid("token", entity.org, entity.project, entity.identifier),
        "accountId": ctx.account_id,
        "name": entity.identifier,
        "createdAt": entity.created_at,
        "createdBy": doc["createdBy"],
        "status": "REVOKED" if expired else doc["status"],
        "value": doc["value"] if with_value else None,
        "ownerIdentifier": entity.project or entity.org or None,
        "revokeAfter": doc["revokeAfter"],
    }


async def list_tokens(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    name = request.query_params.get("name")
    status = (request.query_params.get("status") or "").upper()
    views = [_token_view(ctx, e) for e in list_resources(ctx, "delegate_token", org=org, project=project)]
    kept = [v for v in views if (not name or v["name"] == name) and (not status or v["status"] == status)]
    return rest_response(kept)


async def create_token(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    actor = actor_of(ctx, request)
    body = {
        "name": require(request, "tokenName"),
        "revokeAfter": request.query_params.get("revokeAfter"),
        "createdBy": {"type": actor.principal_type, "name": actor.name},
    }
    entity = create_resource(ctx, "delegate_token", org=org, project=project, body=body, actor=actor)
    return rest_response(_token_view(ctx, entity, with_value=True))


async def revoke_token(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    actor: Actor = actor_of(ctx, request)
    entity = get_resource(ctx, "delegate_token", require(request, "tokenName"), org=org, project=project)
    revoked = save_doc(ctx, entity, {**entity.doc, "status": "REVOKED"})
    with ctx.state.transaction():
        record_audit(ctx, actor, "REVOKE_TOKEN", revoked, old_yaml=None, new_yaml=None)
    return rest_response(_token_view(ctx, revoked))


KINDS = (
    KindSpec(kind="delegate", label="Delegate", parse=_parse_delegate, audit_type="DELEGATE"),
    KindSpec(kind="delegate_token", label="Delegate token", parse=_parse_token, audit_type="DELEGATE_TOKEN"),
)


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The delegate list and delegate token endpoints."""
    return [
        route(ctx, "/ng/api/delegate-setup/listDelegates", "POST", list_delegates),
        route(ctx, "/ng/api/delegate-token-ng", "GET", list_tokens),
        route(ctx, "/ng/api/delegate-token-ng", "POST", create_token),
        route(ctx, "/ng/api/delegate-token-ng", "PUT", revoke_token),
    ]
