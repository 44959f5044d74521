"""Secrets (NG manager v2 API), at account, org or project scope. Values are write-only.

A secret's document is its create body `{"secret": {type, name, identifier, orgIdentifier, projectIdentifier,
tags, description, spec}}` with the value removed from `spec`: the sandbox never stores a secret's value, so no
endpoint can return it (`spec.value` reads null, as in Harness).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from harness_connector.sandbox.app import SandboxContext
from harness_connector.sandbox.envelopes import ApiError, ng_page, ok
from harness_connector.sandbox.requests import json_body, ng_paging
from harness_connector.sandbox.resources import (
    Draft,
    KindSpec,
    Parsed,
    check_identifier,
    create_resource,
    delete_resource,
    get_resource,
    list_resources,
    update_resource,
)
from harness_connector.sandbox.routes._common import (
    actor_of,
    body_scope,
    check_body_scope,
    filter_body,
    matches,
    ng_tags,
    optional_scope,
    require_text,
    route,
    sort_entities,
    text,
    unwrap,
    window,
)
from harness_connector.sandbox.state import Entity

__all__ = ["KINDS", "routes"]

_TYPES = ("SecretText", "SecretFile", "SSHKey", "WinRmCredentials")
_VALUE_TYPES = ("Inline", "Reference", "CustomSecretManagerValues")
# Spec fields that carry secret material; none is ever stored.
_VALUE_KEYS = ("value", "fileContent", "password", "key", "passphrase")


def _parse_secret(draft: Draft) -> Parsed:
    inner = unwrap(draft.body, "secret")
    identifier = check_identifier(inner.get("identifier"))
    check_body_scope(inner, draft.org, draft.project)
    kind = inner.get("type")
    if kind not in _TYPES:
        raise ApiError("INVALID_REQUEST", f"secret.type: must be one of {', '.join(_TYPES)}")
    spec = inner.get("spec")
    if not isinstance(spec, dict):
        raise ApiError("INVALID_REQUEST", "secret.spec: must not be null")
    if kind == "SecretText":
        require_text(spec, "secretManagerIdentifier")
        if spec.get("valueType") not in _VALUE_TYPES:
            raise ApiError("INVALID_REQUEST", f"secret.spec.valueType: must be one of {', '.join(_VALUE_TYPES)}")
        if draft.previous is None and not text(spec, "value"):
            raise ApiError("INVALID_REQUEST", "secret.spec.value: must not be blank when creating a secret")
    secret = {
        "type": kind,
        "name": require_text(inner, "name"),
        "identifier": identifier,
        "orgIdentifier": draft.org or None,
        "projectIdentifier": draft.project or None,
        "tags": ng_tags(inner.get("tags")),
        "description": text(inner, "description"),
        "spec": {k: v for k, v in spec.items() if k not in _VALUE_KEYS},
    }
    return Parsed(identifier=identifier, doc={"secret": secret})


def _response(entity: Entity) -> dict[str, Any]:
    secret = dict(entity.doc["secret"])
    spec = dict(secret["spec"])
    if secret["type"] == "SecretText":
        spec["value"] = None
    return {
        "secret": {**secret, "spec": spec},
        "createdAt": entity.created_at,
        "updatedAt": entity.updated_at,
        "draft": False,
        "governanceMetadata": None,
    }


def _page(request: Request, ctx: SandboxContext, query: dict[str, Any]) -> Response:
    org, project = optional_scope(request)
    page, size = ng_paging(request, default_size=100)
    params = request.query_params
    term = params.get("searchTerm") or query.get("searchTerm")
    types = [*params.getlist("type"), *(query.get("secretTypes") or [])]
    identifiers = [*params.getlist("identifiers"), *(query.get("identifiers") or [])]
    managers = query.get("secretManagerIdentifiers") or []
    found = [
        e
        for e in list_resources(ctx, "secret", org=org, project=project)
        if matches(term, e.identifier, e.doc["secret"]["name"], e.doc["secret"]["tags"])
        and (not types or e.doc["secret"]["type"] in types)
        and (not identifiers or e.identifier in identifiers)
        and (not managers or e.doc["secret"]["spec"].get("secretManagerIdentifier") in managers)
    ]
    ordered = sort_entities(found, params.get("sort"), name_of=lambda e: str(e.doc["secret"]["name"]))
    items = [_response(e) for e in window(ordered, page, size)]
    return ok(ng_page(items, page=page, size=size, total=len(ordered)))


async def list_secrets_filtered(ctx: SandboxContext, request: Request) -> Response:
    return _page(request, ctx, await filter_body(request, "Secret"))


async def list_secrets(ctx: SandboxContext, request: Request) -> Response:
    return _page(request, ctx, {})


async def get_secret(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    return ok(_response(get_resource(ctx, "secret", request.path_params["id"], org=org, project=project)))


async def create_secret(ctx: SandboxContext, request: Request) -> Response:
    body = await json_body(request)
    org, project = body_scope(unwrap(body, "secret"), request)
    entity = create_resource(ctx, "secret", org=org, project=project, body=body, actor=actor_of(ctx, request))
    return ok(_response(entity))


async def update_secret(ctx: SandboxContext, request: Request) -> Response:
    body = await json_body(request)
    org, project = body_scope(unwrap(body, "secret"), request)
    entity = update_resource(
        ctx, "secret", request.path_params["id"], org=org, project=project, body=body, actor=actor_of(ctx, request)
    )
    return ok(_response(entity))


async def delete_secret(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    delete_resource(ctx, "secret", request.path_params["id"], org=org, project=project, actor=actor_of(ctx, request))
    return ok(True)


KINDS = (KindSpec(kind="secret", label="Secret", parse=_parse_secret, audit_type="SECRET"),)


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The secret endpoints."""
    base = "/ng/api/v2/secrets"
    return [
        route(ctx, base + "/list/secrets", "POST", list_secrets_filtered),
        route(ctx, base, "GET", list_secrets),
        route(ctx, base, "POST", create_secret),
        route(ctx, base + "/{id}", "GET", get_secret),
        route(ctx, base + "/{id}", "PUT", update_secret),
        route(ctx, base + "/{id}", "DELETE", delete_secret),
    ]
