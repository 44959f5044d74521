"""Code toolset: Harness Code repositories and their pull requests.

Harness Code names a repository by its ref, the repository's full path `account/org/project/repo` (shorter for
repositories kept at org or account level: `account/org/repo`, `account/repo`). The ref travels as ONE path
segment, so its slashes are URL-encoded (`acct%2Fdefault%2Fpayments%2Fcheckout`); `Operation.prepare` does that.

The caller passes the ref as `repo_id`. A caller holding only the short repository identifier (from a UI URL,
say) composes it first: `"/".join([account_id, org_id, project_id, repo])`. Repository list items carry the
ref ready-made in `path`, which is why that is the type's `id_field`. The scope then lives in the path, so
these operations send no org/project query parameters; only listing and creating repositories, which have no
ref yet, are scoped by query.
"""

from __future__ import annotations

from harness_connector.harness.registry._conventions import CREATE, READ, UPDATE, operations
from harness_connector.harness.registry.model import (
    PATH_SCOPE,
    BodyKind,
    Envelope,
    FieldSpec,
    Operation,
    PagingStyle,
    ResourceType,
    Scope,
)

__all__ = ["RESOURCE_TYPES", "TOOLSET"]

TOOLSET = "code"

_REPO = "/code/api/v1/repos/{repo_ref}"
_REPO_PATH = {"repo_ref": "repo_id"}
_PULLREQ = _REPO + "/pullreq"
_PR_PATH = {**_REPO_PATH, "pr_number": "pr_number"}
_REPO_ID_NOTE = "repo_id is the repository path account/org/project/repo"

REPOSITORY = ResourceType(
    name="repository",
    display_name="Code Repository",
    toolset=TOOLSET,
    description=f"A Git repository hosted in Harness Code; {_REPO_ID_NOTE} (the path field of a listed repository).",
    scope=Scope.PROJECT,
    supported_scopes=(Scope.ACCOUNT, Scope.ORG, Scope.PROJECT),
    identifier_fields=("repo_id",),
    operations=operations(
        Operation(
            name="list",
            method="GET",
            path="/code/api/v1/repos",
            policy=READ,
            description="List the repositories of a scope.",
            query_params={"query": "search_term", "sort": "sort", "order": "order"},
            envelope=Envelope.BARE,
            paging=PagingStyle.CODE_PAGE,
        ),
        Operation(
            name="get",
            method="GET",
            path=_REPO,
            policy=READ,
            description="Get a repository: default branch, visibility, clone URL and pull-request counts.",
            path_params=_REPO_PATH,
            scope_params=PATH_SCOPE,
            envelope=Envelope.BARE,
        ),
        Operation(
            name="create",
            method="POST",
            path="/code/api/v1/repos",
            policy=CREATE,
            description=(
                "Create a repository in the scope from {identifier, default_branch?, description?, is_public?, "
                "readme?, git_ignore?, license?}."
            ),
            body=BodyKind.JSON,
            envelope=Envelope.BARE,
            required=("body",),
        ),
        Operation(
            name="update",
            method="PATCH",
            path=_REPO,
            policy=UPDATE,
            description="Change a repository's description or default branch from {description?, default_branch?}.",
            path_params=_REPO_PATH,
            scope_params=PATH_SCOPE,
            body=BodyKind.JSON,
            envelope=Envelope.BARE,
            required=("body",),
        ),
    ),
    fields=(
        "identifier",
        "path",
        "description",
        "default_branch",
        "is_public",
        "num_open_pulls",
        "git_url",
        "updated",
    ),
    filters=(
        FieldSpec(name="search_term", description="Matches repository identifier."),
        FieldSpec(name="sort", description="Field to sort by.", enum=("identifier", "created", "updated")),
        FieldSpec(name="order", description="Sort direction.", enum=("asc", "desc")),
    ),
    id_field="path",
    name_field="identifier",
    # No ui_path: Code pages live under /module/code/, outside the project UI path that ui_path extends.
    example={"repo_id": "acct123/default/payments/checkout"},
    search_aliases=("repositories", "repo", "repos", "git_repository", "harness_code"),
)

PULL_REQUEST = ResourceType(
    name="pull_request",
    display_name="Pull Request",
    toolset=TOOLSET,
    description=f"A pull request in a Harness Code repository, addressed by its number; {_REPO_ID_NOTE}.",
    scope=Scope.PROJECT,
    identifier_fields=("repo_id", "pr_number"),
    operations=operations(
        Operation(
            name="list",
            method="GET",
            path=_PULLREQ,
            policy=READ,
            description="List a repository's pull requests, newest first.",
            path_params=_REPO_PATH,
            query_params={
                "state": "state",
                "query": "search_term",
                "source_branch": "source_branch",
                "target_branch": "target_branch",
            },
            scope_params=PATH_SCOPE,
            envelope=Envelope.BARE,
            paging=PagingStyle.CODE_PAGE,
        ),
        Operation(
            name="get",
            method="GET",
            path=_PULLREQ + "/{pr_number}",
            policy=READ,
            description="Get a pull request with its branches, author, state and merge status.",
            path_params=_PR_PATH,
            scope_params=PATH_SCOPE,
            envelope=Envelope.BARE,
        ),
        Operation(
            name="create",
            method="POST",
            path=_PULLREQ,
            policy=CREATE,
            description="Open a pull request from {title, source_branch, target_branch, description?, is_draft?}.",
            path_params=_REPO_PATH,
            scope_params=PATH_SCOPE,
            body=BodyKind.JSON,
            envelope=Envelope.BARE,
            required=("body",),
        ),
        Operation(
            name="update",
            method="PATCH",
            path=_PULLREQ + "/{pr_number}",
            policy=UPDATE,
            description="Change a pull request's title or description from {title?, description?}.",
            path_params=_PR_PATH,
            scope_params=PATH_SCOPE,
            body=BodyKind.JSON,
            envelope=Envelope.BARE,
            required=("body",),
        ),
    ),
    fields=(
        "number",
        "title",
        "state",
        "is_draft",
        "source_branch",
        "target_branch",
        "author.display_name",
        "created",
        "merged",
    ),
    filters=(
        FieldSpec(name="state", description="Only pull requests in this state.", enum=("open", "closed", "merged")),
        FieldSpec(name="search_term", description="Matches pull request title."),
        FieldSpec(name="source_branch", description="Only pull requests from this branch."),
        FieldSpec(name="target_branch", description="Only pull requests into this branch."),
    ),
    id_field="number",
    name_field="title",
    example={"repo_id": "acct123/default/payments/checkout", "pr_number": 42},
    search_aliases=("pull_requests", "pr", "prs", "merge_request", "pullreq"),
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (REPOSITORY, PULL_REQUEST)
