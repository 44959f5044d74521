"""Turn a Harness UI URL (what people paste from the browser) into the identifiers the API needs.

Only the path, the fragment and the query matter. SaaS, regional (`app.eu1.harness.io`), vanity and self-managed
hosts all serve the same routes, so the host is ignored. The old single-page form keeps its route after `#`
(`/ng/#/account/...`), so a fragment that starts with `/` is read as more path, and may carry its own query.

The walk is driven by data: each known collection segment (`pipelines`, `executions`, `connectors`, ...) records a
match, the segment after it is that resource's id unless it is itself a route word, and the deepest match names the
resource. Page words (`pipeline-studio`, `details`, `conversation`, ...) are skipped, so new pages of known resources
parse without changes here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final
from urllib.parse import parse_qs, unquote, urlsplit

from harness_connector.domain.refs import HarnessRef
from harness_connector.errors import InvalidHarnessURL

__all__ = ["HarnessRef", "InvalidHarnessURL", "parse_harness_url"]

_EXAMPLE: Final = "https://app.harness.io/ng/account/<account>/all/orgs/<org>/projects/<project>/pipelines/<pipeline>"
_EXPECTED: Final = f"expected a Harness UI URL such as {_EXAMPLE}"

# Collection segment -> (registry resource type, the HarnessRef field its id also fills as context).
_COLLECTIONS: Final[dict[str, tuple[str, str | None]]] = {
    "orgs": ("organization", "org_id"),
    "organizations": ("organization", "org_id"),
    "projects": ("project", "project_id"),
    "pipelines": ("pipeline", "pipeline_id"),
    "executions": ("execution", "execution_id"),
    "deployments": ("execution", "execution_id"),  # the CD module's name for the same execution pages
    "input-sets": ("input_set", None),
    "triggers": ("trigger", None),
    "templates": ("template", None),
    "services": ("service", None),
    "environments": ("environment", "environment_id"),
    "infrastructures": ("infrastructure", None),
    "infrastructure-definitions": ("infrastructure", None),
    "connectors": ("connector", None),
    "secrets": ("secret", None),
    "delegates": ("delegate", None),
    "feature-flags": ("feature_flag", None),
    "repos": ("repository", "repo_id"),
    "repositories": ("repository", "repo_id"),
    "pulls": ("pull_request", None),
    "pull-requests": ("pull_request", None),
    "pullrequests": ("pull_request", None),
}

# Segments that are route structure, never an id: a collection followed by one of these is a list page.
_ROUTE_WORDS: Final = frozenset({"ng", "all", "account", "module", *_COLLECTIONS})

# Module names that may follow `account/<id>` or `all` directly (`/ng/account/A/cd/...`, `/ng/account/A/all/ci/...`).
_MODULES: Final = frozenset({"cd", "ci", "cf", "ce", "cv", "sto", "chaos", "idp", "sei", "code", "ssca", "iacm"})

# Resource types that exist at account, org and project scope; the URL's deepest scope says which one is meant.
_SCOPED: Final = frozenset(
    {"connector", "secret", "service", "environment", "infrastructure", "template", "delegate"},
)

# Harness Code pages whose remaining segments are a git ref (then, after `~`, a file path), not route words.
_REF_PAGES: Final = frozenset({"files", "commits"})

# Query parameters the UI puts on execution and pipeline pages -> HarnessRef field. The first spelling present wins.
_QUERY_FIELDS: Final[dict[str, str]] = {
    "step": "step_id",
    "stepId": "step_id",
    "stage": "stage_id",
    "stageId": "stage_id",
    "stageExecId": "stage_execution_id",
    "branch": "branch",
    "storeType": "store_type",
    "connectorRef": "connector_ref",
    "repoName": "repo_name",
}


@dataclass(slots=True)
class _Found:
    """What the walk over the path has found so far; the deepest match overwrites the resource."""

    resource_type: str | None = None
    resource_id: str | None = None
    pr_number: int | None = None
    ids: dict[str, str] = field(default_factory=dict)


def parse_harness_url(url: str) -> HarnessRef:
    """The scope and identifiers a Harness UI URL points at.

    Accepts `http(s)` URLs on any host, and bare paths starting with `/` (such as `/ng/account/...`). Raises
    `InvalidHarnessURL`, saying what was expected, for anything that is not a Harness UI URL.
    """
    path, query = _path_and_query(url)
    # Split before decoding so an encoded slash (`feature%2Fx`) stays inside its segment.
    segments = [unquote(segment) for segment in path.split("/") if segment]
    account_id, rest = _account(url, segments)

    found = _Found()
    _walk(rest, found)
    for name, values in query.items():
        target = _QUERY_FIELDS.get(name)
        if target is not None:
            # setdefault: a branch named by the path (Code file pages) is more specific than a `?branch=`.
            found.ids.setdefault(target, values[0])

    ids = found.ids
    scope: str | None = None
    if found.resource_type in _SCOPED:
        scope = "project" if "project_id" in ids else "org" if "org_id" in ids else "account"
    return HarnessRef(
        account_id=account_id,
        org_id=ids.get("org_id"),
        project_id=ids.get("project_id"),
        module=_module(rest),
        resource_type=found.resource_type,
        resource_id=found.resource_id,
        resource_scope=scope,
        pipeline_id=ids.get("pipeline_id"),
        execution_id=ids.get("execution_id"),
        stage_id=ids.get("stage_id"),
        step_id=ids.get("step_id"),
        stage_execution_id=ids.get("stage_execution_id"),
        environment_id=ids.get("environment_id"),
        repo_id=ids.get("repo_id"),
        pr_number=found.pr_number,
        branch=ids.get("branch"),
        store_type=ids.get("store_type"),
        connector_ref=ids.get("connector_ref"),
        repo_name=ids.get("repo_name"),
    )


def _invalid(url: str, reason: str) -> InvalidHarnessURL:
    # Quote at most a prefix: the input may be a whole pasted document, and the error goes back to a model's context.
    shown = url if len(url) <= 120 else url[:117] + "..."
    return InvalidHarnessURL(f"{shown!r} is not a Harness UI URL ({reason}); {_EXPECTED}")


def _path_and_query(url: str) -> tuple[str, dict[str, list[str]]]:
    """The route path and its query, with the old `#/...` route folded into both."""
    # Surrounding whitespace is what copying from a chat or terminal adds; whitespace inside is never a URL.
    text = url.strip()
    if not text:
        raise _invalid(url, "it is empty")
    if any(char.isspace() for char in text):
        raise _invalid(url, "it contains whitespace")
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # e.g. an unbalanced `[` in the host
        raise _invalid(url, f"it cannot be parsed: {exc}") from exc
    if parts.scheme:
        if parts.scheme not in ("http", "https"):
            raise _invalid(url, f"the scheme {parts.scheme!r} is not http or https")
        if not parts.netloc:
            raise _invalid(url, "it has no host")
    elif parts.netloc or not text.startswith("/"):
        raise _invalid(url, "it is neither an http(s) URL nor a path starting with /ng/")

    path, query = parts.path, parse_qs(parts.query)
    if parts.fragment.startswith("/"):
        # partition, not urlsplit: a fragment starting with `//` must not be read as a host.
        fragment_path, _, fragment_query = parts.fragment.partition("?")
        path = f"{path}/{fragment_path}"
        query.update(parse_qs(fragment_query))
    return path, query


def _account(url: str, segments: list[str]) -> tuple[str, list[str]]:
    """The account id, and the segments after it (where the rest of the route lives)."""
    if "account" not in segments:
        raise _invalid(url, "it has no account/<account id> segment")
    index = segments.index("account")
    if index + 1 >= len(segments) or segments[index + 1] in _ROUTE_WORDS:
        raise _invalid(url, "the account segment has no account id after it")
    return segments[index + 1], segments[index + 2 :]


def _module(rest: list[str]) -> str | None:
    """The module a page belongs to: `module/<m>`, or a known module name right after the account or `all`."""
    if rest[:1] == ["module"]:
        return rest[1] if len(rest) > 1 else None
    head = rest[1:2] if rest[:1] == ["all"] else rest[:1]
    return head[0] if head and head[0] in _MODULES else None


def _walk(segments: list[str], found: _Found) -> None:
    """Record every collection/id pair along the path; the last one is the resource the page is about."""
    index = 0
    while index < len(segments):
        segment = segments[index]
        if segment in _REF_PAGES and "repo_id" in found.ids:
            branch = _branch(segments[index + 1 :])
            if branch:
                found.ids["branch"] = branch
            return  # what follows is a ref and a file path, whose segments may look like route words
        entry = _COLLECTIONS.get(segment)
        if entry is None:
            index += 1  # a page word (`pipeline-studio`, `details`, `setup`, a module name ...)
            continue
        resource_type, context_field = entry
        ident = segments[index + 1] if index + 1 < len(segments) else None
        if ident in _ROUTE_WORDS:
            ident = None
        if resource_type == "pull_request":
            # PR ids are numbers; `pulls/compare/...` and similar are pages of the PR list, not a PR.
            ident = ident if ident is not None and ident.isascii() and ident.isdigit() else None
            found.pr_number = int(ident) if ident is not None else None
        found.resource_type, found.resource_id = resource_type, ident
        if context_field is not None and ident is not None:
            found.ids[context_field] = ident
        index += 1 if ident is None else 2


def _branch(after: list[str]) -> str | None:
    """The git ref of a Code `files/<ref>/~/<path>` or `commits/<ref>` page; the ref may itself contain slashes."""
    ref = after[: after.index("~")] if "~" in after else after
    return "/".join(ref).removeprefix("refs/heads/") or None
