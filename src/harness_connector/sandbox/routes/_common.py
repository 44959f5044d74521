"""What the route modules share: binding handlers, scopes, the caller, filter bodies, and list mechanics.

Harness services disagree on small things (which scope parameters are required, how lists sort, which page
fields come back); these helpers keep each rule in one place so every route module applies it the same way.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.envelopes import ApiError
from harness_connector.sandbox.requests import json_body
from harness_connector.sandbox.resources import Actor
from harness_connector.sandbox.state import Entity

__all__ = [
    "Handler",
    "actor_of",
    "body_scope",
    "bool_param",
    "check_body_scope",
    "check_yaml_scope",
    "filter_body",
    "list_everywhere",
    "matches",
    "new_uid",
    "ng_tags",
    "optional_scope",
    "project_scope",
    "purge_scope",
    "require_mapping",
    "require_text",
    "resolve_ref",
    "route",
    "scope_chain",
    "sort_entities",
    "stamps",
    "text",
    "unwrap",
    "window",
]

Handler = Callable[[SandboxContext, Request], Awaitable[Response]]


def route(ctx: SandboxContext, path: str, method: str, handler: Handler) -> Route:
    """A Starlette route whose endpoint calls `handler(ctx, request)`."""

    async def endpoint(request: Request) -> Response:
        return await handler(ctx, request)

    endpoint.__name__ = handler.__name__
    return Route(path, endpoint, methods=[method])


# ---- scope and caller ------------------------------------------------------------------------------------------


def optional_scope(request: Request) -> tuple[str, str]:
    """(org, project) from the query; a project without its org is Harness's 400."""
    org = request.query_params.get("orgIdentifier", "")
    project = request.query_params.get("projectIdentifier", "")
    if project and not org:
        raise ApiError("INVALID_REQUEST", "orgIdentifier is required when projectIdentifier is given")
    return org, project


def project_scope(request: Request) -> tuple[str, str]:
    """(org, project) for endpoints that live only in projects (pipeline service, feature flags)."""
    org, project = optional_scope(request)
    for name, value in (("orgIdentifier", org), ("projectIdentifier", project)):
        if not value:
            raise ApiError("INVALID_REQUEST", f"{name}: must not be null; send it as a query parameter")
    return org, project


def body_scope(holder: Mapping[str, Any], request: Request) -> tuple[str, str]:
    """(org, project) of a create or update body, falling back to the query (NG reads the body first)."""
    org = text(holder, "orgIdentifier") or request.query_params.get("orgIdentifier", "")
    project = text(holder, "projectIdentifier") or request.query_params.get("projectIdentifier", "")
    if project and not org:
        raise ApiError("INVALID_REQUEST", "orgIdentifier is required when projectIdentifier is given")
    return org, project


def resolve_ref(ref: str, org: str, project: str) -> tuple[str, str, str]:
    """(org, project, identifier) of a scoped reference: `id` (this scope), `org.id` or `account.id`."""
    head, _, rest = ref.partition(".")
    if head == "account" and rest:
        return "", "", rest
    if head == "org" and rest:
        return org, "", rest
    return org, project, ref


def check_body_scope(holder: Mapping[str, Any], org: str, project: str) -> None:
    """Refuse a body that names another scope than the one it is stored at."""
    for key, expected in (("orgIdentifier", org), ("projectIdentifier", project)):
        named = holder.get(key)
        if named not in (None, "", expected):
            raise ApiError("INVALID_REQUEST", f"{key} [{named}] does not match the scope of the request [{expected}]")


def check_yaml_scope(block: Mapping[str, Any], what: str, expected: Mapping[str, str]) -> None:
    """Refuse YAML whose `orgIdentifier`, `projectIdentifier` (or other named keys) disagree with the request."""
    for key, value in expected.items():
        named = block.get(key)
        if named not in (None, "", value):
            raise ApiError(
                "INVALID_REQUEST", f"{key} in the {what} YAML [{named}] does not match the request [{value}]"
            )


def scope_chain(org: str, project: str) -> list[tuple[str, str]]:
    """The scope and the scopes above it, nearest first: what a project can use from its org and account."""
    chain = [(org, project)]
    if project:
        chain.append((org, ""))
    if org:
        chain.append(("", ""))
    return chain


def actor_of(ctx: SandboxContext, request: Request) -> Actor:
    """The principal behind the request's token (the edge middleware has already accepted it)."""
    supplied = (
        request.headers.get("x-api-key")
        or request.headers.get("x-harness-token")
        or request.query_params.get("X-Harness-Token")
        or ""
    )
    token = ctx.state.find_token(supplied.strip())
    if token is None:
        raise ApiError("INVALID_TOKEN", "Token is not valid or has expired")
    kind = "SERVICE_ACCOUNT" if token.kind == "sat" else "USER"
    return Actor(token.name, kind, token.org, token.project)


# ---- bodies ----------------------------------------------------------------------------------------------------


async def filter_body(request: Request, filter_type: str, *, required: bool = True) -> dict[str, Any]:
    """A list endpoint's filter body, which Jackson can only read when it names its `filterType`."""
    body = await json_body(request, required=required)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError("INVALID_REQUEST", "Unable to process JSON: the filter body must be an object")
    given = body.get("filterType")
    if given is None:
        raise ApiError(
            "INVALID_REQUEST",
            f"Unable to process JSON: missing type id property 'filterType' (expected \"{filter_type}\")",
        )
    if given != filter_type:
        raise ApiError(
            "INVALID_REQUEST",
            f'Unable to process JSON: filterType {given!r} is not valid here (expected "{filter_type}")',
        )
    return body


def unwrap(body: Any, key: str) -> dict[str, Any]:
    """The object inside a `{key: {...}}` wrapper body."""
    inner = body.get(key) if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        raise ApiError("INVALID_REQUEST", f'{key}: must not be null; the body must be {{"{key}": {{...}}}}')
    return inner


def require_mapping(body: Any, what: str = "body") -> dict[str, Any]:
    """A JSON object body."""
    if not isinstance(body, dict):
        raise ApiError("INVALID_REQUEST", f"{what}: must be a JSON object")
    return body


def require_text(holder: Mapping[str, Any], key: str) -> str:
    """A non-blank string field."""
    value = holder.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ApiError("INVALID_REQUEST", f"{key}: must not be blank")
    return value


def text(holder: Mapping[str, Any], key: str, default: str = "") -> str:
    """An optional string field ('' when absent or null)."""
    value = holder.get(key)
    return value if isinstance(value, str) else default


def ng_tags(value: Any) -> dict[str, str]:
    """NG tags: a string map (Harness turns a null value into an empty one)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError("INVALID_REQUEST", "tags: must be a map of strings")
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def bool_param(request: Request, name: str, default: bool = False) -> bool:
    """A boolean query parameter as JAX-RS reads one."""
    raw = request.query_params.get(name)
    return default if raw is None or raw == "" else raw.strip().lower() == "true"


# ---- entities across scopes ----------------------------------------------------------------------------------


def list_everywhere(ctx: SandboxContext, kind: str, *, org: str | None = None) -> list[Entity]:
    """The entities of a kind at every scope (within one org when `org` is given), oldest first."""
    sql = "SELECT kind, org, project, parent, identifier, doc, created_at, updated_at FROM entities WHERE kind = ?"
    params: list[Any] = [kind]
    if org is not None:
        sql += " AND org = ?"
        params.append(org)
    rows = ctx.state.query(sql + " ORDER BY created_at, org, project, identifier", params)
    return [Entity(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), int(r[6]), int(r[7])) for r in rows]


def purge_scope(ctx: SandboxContext, org: str, project: str | None = None) -> int:
    """Delete every entity of an org (or of one of its projects), as Harness does with the org or project."""
    sql = "SELECT kind, project, parent, identifier FROM entities WHERE org = ?"
    params: list[Any] = [org]
    if project is not None:
        sql += " AND project = ?"
        params.append(project)
    rows = ctx.state.query(sql, params)
    for kind, proj, parent, identifier in rows:
        ctx.state.delete_entity(kind, identifier, org=org, project=proj, parent=parent)
    return len(rows)


def new_uid(length: int = 22) -> str:
    """A Harness-looking random id (url-safe, `length` characters)."""
    return secrets.token_urlsafe(length)[:length]


# ---- lists -----------------------------------------------------------------------------------------------------


def matches(term: str | None, *values: Any) -> bool:
    """Case-insensitive substring search over names, identifiers and tag keys/values."""
    if not term:
        return True
    needle = term.lower()
    for value in values:
        if isinstance(value, Mapping):
            if any(needle in str(k).lower() or needle in str(v).lower() for k, v in value.items()):
                return True
        elif isinstance(value, list | tuple):
            if any(needle in str(item).lower() for item in value):
                return True
        elif value is not None and needle in str(value).lower():
            return True
    return False


_SORT_KEYS: dict[str, Callable[[Entity], Any]] = {
    "lastmodifiedat": lambda e: e.updated_at,
    "lastupdatedat": lambda e: e.updated_at,
    "updated": lambda e: e.updated_at,
    "createdat": lambda e: e.created_at,
    "created": lambda e: e.created_at,
    "identifier": lambda e: e.identifier.lower(),
}


def sort_entities(
    entities: Iterable[Entity],
    sort: str | Sequence[str] | None,
    *,
    name_of: Callable[[Entity], str] = lambda e: e.identifier,
    default: str = "lastModifiedAt,DESC",
) -> list[Entity]:
    """Entities ordered by a Spring `sort` (`field,DIRECTION`); unknown fields fall back to the default."""
    keys: dict[str, Callable[[Entity], Any]] = {**_SORT_KEYS, "name": lambda e: name_of(e).lower()}
    spec = sort if isinstance(sort, str) else (sort[0] if sort else None)
    field_name, _, direction = (spec or default).partition(",")
    key = keys.get(field_name.strip().lower())
    if key is None:
        field_name, _, direction = default.partition(",")
        key = keys[field_name.lower()]
    ordered = sorted(entities, key=lambda e: e.identifier)
    return sorted(ordered, key=key, reverse=direction.strip().upper() == "DESC")


def window(items: Sequence[Any], page: int, size: int) -> list[Any]:
    """The items of one 0-based page."""
    return list(items[page * size : (page + 1) * size])


def stamps(entity: Entity) -> dict[str, int]:
    """The bookkeeping times NG responses carry next to the resource."""
    return {"createdAt": entity.created_at, "lastModifiedAt": entity.updated_at}
