"""Harness Code repositories and pull requests: Gitness's dialect (bare JSON, `{"message"}` errors, 1-based
`page`/`limit` paging with `x-total` / `x-total-pages` headers).

A repository is addressed by its ref `account/org/project/repo` (one path segment, slashes encoded; shorter
for org- and account-level repositories), or by its bare identifier with the scope in the query. Its document
is its create body `{identifier, description, default_branch, is_public, readme, license, git_ignore}` plus a
numeric `id`. A pull request is stored under its repository (`parent`), its identifier the PR number as text;
its document is `{number, title, description, source_branch, target_branch, is_draft, state, author, merged,
merge_method, source_sha}` (the scenario may set state "merged" or "closed", `merged`, `author`).
"""

from __future__ import annotations

import hashlib
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
    get_resource,
    list_resources,
    update_resource,
)
from harness_connector.sandbox.routes._common import (
    Handler,
    actor_of,
    list_everywhere,
    matches,
    optional_scope,
    require_mapping,
    require_text,
    route,
    text,
)
from harness_connector.sandbox.state import Entity

__all__ = ["KINDS", "routes"]

_REPO_ID = re.compile(r"^[a-zA-Z0-9_.-]{1,100}$")
_PR_STATES = ("open", "closed", "merged")
_REPO_FIELDS = ("identifier", "uid", "description", "default_branch", "is_public", "readme", "license", "git_ignore")
# What the sandbox does not model (sizes, forks, imports) reads as Gitness reports a fresh repository.
_REPO_FIXED = {"parent_id": 0, "created_by": 1, "size": 0, "size_updated": 0, "fork_id": 0, "num_forks": 0,
               "state": 0, "importing": False, "archived": False}  # fmt: skip
_PR_STATS = {"commits": 1, "files_changed": 1, "additions": 0, "deletions": 0, "conversations": 0,
             "unresolved_count": 0}  # fmt: skip
_PR_FIELDS = ("title", "description", "source_branch", "target_branch", "is_draft")


def _sha(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()


def _parse_repo(draft: Draft) -> Parsed:
    body = require_mapping(draft.body)
    previous = dict(draft.previous.doc) if draft.previous is not None else {}
    merged = {**previous, **body}
    identifier = check_identifier(merged.get("identifier") or merged.get("uid"), pattern=_REPO_ID)
    if identifier.endswith(".git"):
        raise ApiError("INVALID_REQUEST", "identifier: a repository identifier cannot end with .git")
    number = previous.get("id") or 1 + max(
        (int(e.doc["id"]) for e in list_everywhere(draft.ctx, "repository")), default=0
    )
    doc = {
        "id": int(number),
        "identifier": identifier,
        "description": str(merged.get("description") or ""),
        "default_branch": str(merged.get("default_branch") or "main"),
        "is_public": bool(merged.get("is_public", False)),
        "readme": bool(merged.get("readme", False)),
        "license": str(merged.get("license") or ""),
        "git_ignore": str(merged.get("git_ignore") or ""),
    }
    return Parsed(identifier=identifier, doc=doc)


def _repo_path(ctx: SandboxContext, entity: Entity) -> str:
    return "/".join(p for p in (ctx.account_id, entity.org, entity.project, entity.identifier) if p)


def _repo_view(ctx: SandboxContext, entity: Entity) -> dict[str, Any]:
    doc = entity.doc
    pulls = [
        p.doc
        for p in list_resources(ctx, "pull_request", org=entity.org, project=entity.project, parent=entity.identifier)
    ]
    path = _repo_path(ctx, entity)
    counts = {state: sum(1 for p in pulls if p["state"] == state) for state in _PR_STATES}
    return {
        **_REPO_FIXED,
        "id": doc["id"],
        "identifier": entity.identifier,
        "uid": entity.identifier,
        "path": path,
        "description": doc["description"],
        "is_public": doc["is_public"],
        "created": entity.created_at,
        "updated": entity.updated_at,
        "default_branch": doc["default_branch"],
        "num_pulls": len(pulls),
        "num_closed_pulls": counts["closed"],
        "num_open_pulls": counts["open"],
        "num_merged_pulls": counts["merged"],
        "git_url": f"{ctx.base_url}/git/{path}.git",
        "is_empty": not (doc["readme"] or doc["license"] or doc["git_ignore"] or pulls),
    }


def _locate(ctx: SandboxContext, request: Request) -> tuple[str, str, str]:
    """(org, project, repo) of the `{ref}` in the path, as the caller may see it."""
    parts = request.path_params["ref"].strip("/").removesuffix("/+").split("/")
    if len(parts) == 1:
        org, project = optional_scope(request)
        located = (org, project, parts[0])
    elif parts[0] == ctx.account_id and 2 <= len(parts) <= 4:
        scope = [*parts[1:-1], "", ""]
        located = (scope[0], scope[1], parts[-1])
    else:
        raise ApiError("RESOURCE_NOT_FOUND", "Repository not found")
    actor = actor_of(ctx, request)
    if actor.project and located[:2] != (actor.org, actor.project):
        raise ApiError("NG_ACCESS_DENIED", "Forbidden")
    return located


def _repo(ctx: SandboxContext, request: Request) -> Entity:
    org, project, repo = _locate(ctx, request)
    return get_resource(ctx, "repository", repo, org=org, project=project)


def _paged(items: list[Any], request: Request) -> Response:
    try:
        page = max(1, int(request.query_params.get("page") or 1))
        limit = min(100, max(1, int(request.query_params.get("limit") or 30)))
    except ValueError:
        raise ApiError("INVALID_REQUEST", "page and limit must be numbers") from None
    total = len(items)
    pages = max(1, (total + limit - 1) // limit)
    headers = {"x-page": str(page), "x-per-page": str(limit), "x-total": str(total), "x-total-pages": str(pages)}
    if page < pages:
        headers["x-next-page"] = str(page + 1)
    if page > 1:
        headers["x-prev-page"] = str(page - 1)
    return JSONResponse(items[(page - 1) * limit : page * limit], headers=headers)


def _sorted(
    items: list[dict[str, Any]], request: Request, fields: dict[str, str], default: str, order: str
) -> list[dict[str, Any]]:
    key = fields.get((request.query_params.get("sort") or default).lower(), fields[default])
    descending = (request.query_params.get("order") or order).lower() == "desc"
    return sorted(items, key=lambda item: (item.get(key) is None, item.get(key) or 0), reverse=descending)


def _gitness(handler: Handler) -> Handler:
    """Harness Code answers errors as `{"message": ...}`, not NG's Failure body."""

    async def answer(ctx: SandboxContext, request: Request) -> Response:
        try:
            return await handler(ctx, request)
        except ApiError as error:
            return JSONResponse({"message": error.message}, status_code=error.status)

    answer.__name__ = handler.__name__
    return answer


async def list_repos(ctx: SandboxContext, request: Request) -> Response:
    org, project = optional_scope(request)
    term = request.query_params.get("query")
    views = [
        _repo_view(ctx, e)
        for e in list_resources(ctx, "repository", org=org, project=project)
        if matches(term, e.identifier)
    ]
    fields = {"identifier": "identifier", "uid": "identifier", "created": "created", "updated": "updated"}
    return _paged(_sorted(views, request, fields, "identifier", "asc"), request)


async def create_repo(ctx: SandboxContext, request: Request) -> Response:
    body = require_mapping(await json_body(request))
    org, project = optional_scope(request)
    parent_ref = text(body, "parent_ref").strip("/").split("/")
    if parent_ref[0] == ctx.account_id:
        org, project = [*parent_ref[1:], "", ""][:2]
    fields = {k: v for k, v in body.items() if k in _REPO_FIELDS}
    entity = create_resource(ctx, "repository", org=org, project=project, body=fields, actor=actor_of(ctx, request))
    return JSONResponse(_repo_view(ctx, entity), status_code=201)


async def get_repo(ctx: SandboxContext, request: Request) -> Response:
    return JSONResponse(_repo_view(ctx, _repo(ctx, request)))


async def update_repo(ctx: SandboxContext, request: Request) -> Response:
    entity = _repo(ctx, request)
    body = require_mapping(await json_body(request))
    fields = {k: v for k, v in body.items() if k in ("description", "default_branch", "is_public")}
    updated = update_resource(
        ctx,
        "repository",
        entity.identifier,
        org=entity.org,
        project=entity.project,
        body=fields,
        actor=actor_of(ctx, request),
    )
    return JSONResponse(_repo_view(ctx, updated))


# ---- pull requests --------------------------------------------------------------------------------------------


def _parse_pull(draft: Draft) -> Parsed:
    body = require_mapping(draft.body)
    repo = get_resource(draft.ctx, "repository", draft.parent, org=draft.org, project=draft.project)
    previous = dict(draft.previous.doc) if draft.previous is not None else {}
    merged = {**previous, **body}
    title = require_text(merged, "title").strip()
    source, target = require_text(merged, "source_branch"), require_text(merged, "target_branch")
    if source == target:
        raise ApiError("INVALID_REQUEST", "source branch and target branch can't be the same")
    state = str(merged.get("state") or "open")
    if state not in _PR_STATES:
        raise ApiError("INVALID_REQUEST", f"state: must be one of {', '.join(_PR_STATES)}")
    siblings = list_resources(draft.ctx, "pull_request", org=draft.org, project=draft.project, parent=draft.parent)
    if draft.previous is None:
        number = 1 + max((int(p.doc["number"]) for p in siblings), default=0)
        clash = [
            p
            for p in siblings
            if p.doc["state"] == "open" and (p.doc["source_branch"], p.doc["target_branch"]) == (source, target)
        ]
        if clash and state == "open":
            raise ApiError(
                "DUPLICATE_FIELD", "a pull request for this target and source branch already exists", status=409
            )
    else:
        number = int(previous["number"])
    doc = {
        "number": number,
        "title": title,
        "description": str(merged.get("description") or ""),
        "source_branch": source,
        "target_branch": target,
        "is_draft": bool(merged.get("is_draft", False)),
        "state": state,
        "author": merged.get("author") or {"uid": "sandbox", "display_name": "sandbox"},
        "merged": merged.get("merged") if state == "merged" else None,
        "merge_method": merged.get("merge_method") or ("merge" if state == "merged" else None),
        "source_sha": str(merged.get("source_sha") or _sha(repo.identifier, source, str(number))),
    }
    return Parsed(identifier=str(number), doc=doc, parent=draft.parent)


def _pull_view(entity: Entity, repo: Entity) -> dict[str, Any]:
    doc = entity.doc
    author = {"id": 1, "type": "user", "email": "", "created": entity.created_at, "updated": entity.created_at}
    return {
        "number": doc["number"],
        "created": entity.created_at,
        "edited": entity.updated_at,
        "updated": entity.updated_at,
        "state": doc["state"],
        "is_draft": doc["is_draft"],
        "title": doc["title"],
        "description": doc["description"],
        "source_repo_id": repo.doc["id"],
        "source_branch": doc["source_branch"],
        "source_sha": doc["source_sha"],
        "target_repo_id": repo.doc["id"],
        "target_branch": doc["target_branch"],
        "merged": doc["merged"],
        "merge_method": doc["merge_method"],
        "merge_check_status": "mergeable" if doc["state"] == "open" else "",
        "merge_base_sha": _sha(repo.identifier, doc["target_branch"]),
        "author": {**author, **doc["author"]},
        "merger": None,
        "stats": _PR_STATS,
    }


async def list_pulls(ctx: SandboxContext, request: Request) -> Response:
    repo = _repo(ctx, request)
    params = request.query_params
    states = [s for raw in params.getlist("state") for s in raw.split(",") if s]
    views = [
        _pull_view(e, repo)
        for e in list_resources(ctx, "pull_request", org=repo.org, project=repo.project, parent=repo.identifier)
        if (not states or e.doc["state"] in states)
        and matches(params.get("query"), e.doc["title"])
        and params.get("source_branch") in (None, "", e.doc["source_branch"])
        and params.get("target_branch") in (None, "", e.doc["target_branch"])
    ]
    fields = {"number": "number", "created": "created", "edited": "edited", "updated": "edited", "merged": "merged"}
    return _paged(_sorted(views, request, fields, "number", "desc"), request)


async def create_pull(ctx: SandboxContext, request: Request) -> Response:
    repo = _repo(ctx, request)
    actor = actor_of(ctx, request)
    body = {k: v for k, v in require_mapping(await json_body(request)).items() if k in _PR_FIELDS}
    body["author"] = {
        "uid": actor.name,
        "display_name": actor.name,
        "type": "user" if actor.principal_type == "USER" else "service",
    }
    entity = create_resource(
        ctx, "pull_request", org=repo.org, project=repo.project, parent=repo.identifier, body=body, actor=actor
    )
    return JSONResponse(_pull_view(entity, repo), status_code=201)


async def get_pull(ctx: SandboxContext, request: Request) -> Response:
    repo = _repo(ctx, request)
    entity = get_resource(
        ctx,
        "pull_request",
        str(request.path_params["number"]),
        org=repo.org,
        project=repo.project,
        parent=repo.identifier,
    )
    return JSONResponse(_pull_view(entity, repo))


async def update_pull(ctx: SandboxContext, request: Request) -> Response:
    repo = _repo(ctx, request)
    body = {k: v for k, v in require_mapping(await json_body(request)).items() if k in ("title", "description")}
    entity = update_resource(
        ctx,
        "pull_request",
        str(request.path_params["number"]),
        org=repo.org,
        project=repo.project,
        parent=repo.identifier,
        body=body,
        actor=actor_of(ctx, request),
    )
    return JSONResponse(_pull_view(entity, repo))


def _not_found(what: str) -> Any:
    return lambda identifier, org, project, parent: f"{what} not found"


KINDS = (
    KindSpec(
        kind="repository",
        label="Repository",
        parse=_parse_repo,
        audit_type="CODE_REPOSITORY",
        module="CODE",
        not_found=_not_found("Repository"),
        duplicate_status=409,
    ),
    KindSpec(
        kind="pull_request",
        label="Pull request",
        parse=_parse_pull,
        audit_type="CODE_PULL_REQUEST",
        module="CODE",
        parent_label="Repository",
        not_found=_not_found("Pull request"),
        duplicate_status=409,
    ),
)


def routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The Harness Code repository and pull request endpoints (the bare `{ref}` routes last: they match all)."""
    base = "/code/api/v1/repos"
    pulls = base + "/{ref:path}/pullreq"
    return [
        route(ctx, base, "GET", _gitness(list_repos)),
        route(ctx, base, "POST", _gitness(create_repo)),
        route(ctx, pulls + "/{number:int}", "GET", _gitness(get_pull)),
        route(ctx, pulls + "/{number:int}", "PATCH", _gitness(update_pull)),
        route(ctx, pulls, "GET", _gitness(list_pulls)),
        route(ctx, pulls, "POST", _gitness(create_pull)),
        route(ctx, base + "/{ref:path}", "GET", _gitness(get_repo)),
        route(ctx, base + "/{ref:path}", "PATCH", _gitness(update_repo)),
    ]
