"""Ranked keyword search across resource types, with a hard cap on upstream requests.

The official server sends a query to every listable type (45–123 list calls) and returns items in API order with
no score. Here the query picks the types, each costs a request using Harness's own `searchTerm` filter, at most
`MAX_REQUESTS` are sent, and every hit is scored locally so the best match comes first whatever its type.

How the query is read: words that name a resource type pick the types to search and leave the search terms.
Three tiers of type words exist, strongest first: a type's own name or display name (`pipeline`, `feature flag`,
plural or not), its registry `search_aliases` (`flag`, `env`, `repo`), and hint words (`deploy`). Only the
strongest tier present in the query picks types; weaker type words stay search terms, so in
"payments deploy pipeline" `pipeline` picks pipelines and `deploy` is still searched for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from pydantic import BaseModel, ConfigDict, Field

from harness_connector.errors import HarnessAuthError, HarnessError, UsageError
from harness_connector.harness.pagination import Page
from harness_connector.harness.registry import ResourceType, Scope, get_resource_type
from harness_connector.harness.registry import resource_types as registry_types
from harness_connector.services.arguments import Target, resolve_target
from harness_connector.services.connection import Connection
from harness_connector.services.shaping import compact_item, dig, ui_link

__all__ = ["MAX_REQUESTS", "SearchHit", "SearchResult", "SkippedType", "read_query", "score_item", "search"]

MAX_REQUESTS = 5
PAGE_SIZE = 50  # enough candidates for local ranking to find the exact match Harness may list late
MAX_PER_TYPE = 20
UPSTREAM_MATCH = 0.05  # Harness's filter matched on a field the connector does not score

# Likelihood order: the types people search for most come first when the budget cannot cover every type.
_PRIORITY = (
    "pipeline", "service", "environment", "connector", "secret", "template", "execution", "feature_flag",
    "trigger", "input_set", "infrastructure", "repository", "freeze_window", "project", "organization",
    "delegate", "pipeline_v1", "pull_request", "service_override", "audit_event", "approval_instance",
    "delegate_token",
)  # fmt: skip
_DEFAULT_TYPES = ("pipeline", "service", "environment", "connector", "secret")
_HINTS: dict[str, tuple[str, ...]] = dict.fromkeys(("deploy", "deploys", "deploying"), ("pipeline", "execution"))
_STOPWORDS = frozenset(
    ("a", "an", "and", "all", "any", "called", "find", "for", "in", "is", "list", "me", "my", "named", "of", "on",
     "or", "search", "show", "the", "to", "which", "with")
)  # fmt: skip
_WORD_EDGES = ".,;:!?\"'()[]{}<>"
_SCORE_RULE = "Relevance: exact identifier 1, exact name .95, prefix .65-.85, word overlap .3-.6, other .1-.25"
_BROWSE_HINT = "the query named only resource types, so these are their first items, unranked; page with harness_list"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchHit(_Model):
    """One matching item."""

    resource_type: str
    id: str | None = None
    name: str | None = None
    score: float = Field(ge=0, le=1, description=_SCORE_RULE)
    matched: list[str] = Field(description="Fields the terms matched: identifier, name, description, tags.")
    link: str | None = None
    summary: dict[str, Any] = Field(description="The item's compact row, without id and name.")


class SkippedType(_Model):
    """A type that was asked for or likely but not searched, and why."""

    resource_type: str
    reason: str


class SearchResult(_Model):
    """Hits across types, best first."""

    query: str
    terms: list[str] = Field(description="Search terms left after type words were taken out.")
    searched_types: list[str]
    requests_made: int = Field(description=f"Upstream requests this search sent (planned at most {MAX_REQUESTS}).")
    hits: list[SearchHit]
    total_hits: int = Field(description="Matching items seen before the max_per_type cut.")
    skipped_types: list[SkippedType] | None = None
    hint: str | None = None


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _vocabulary() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    primary: dict[str, list[str]] = {}
    alias: dict[str, list[str]] = {}
    for resource in registry_types():
        if "list" not in resource.operations:
            continue
        for word in {resource.name, _key(resource.display_name)}:
            for form in (word, word + "s"):
                primary.setdefault(form, []).append(resource.name)
        for word in resource.search_aliases:
            alias.setdefault(_key(word), []).append(resource.name)
    return primary, alias


_PRIMARY, _ALIASES = _vocabulary()
_TIERS: tuple[Mapping[str, Sequence[str]], ...] = (_PRIMARY, _ALIASES, _HINTS)


@dataclass(frozen=True, slots=True)
class _Reading:
    terms: list[str]
    named_types: list[str]  # types named by the strongest tier of type words, in query order


def _type_word(words: Sequence[str], at: int, allowed: Sequence[str] | None) -> tuple[int, int, int, list[str]] | None:
    for width in (2, 1):  # "feature flag" before "feature"
        if at + width > len(words):
            continue
        key = _key(" ".join(words[at : at + width]))
        for tier, table in enumerate(_TIERS):
            if types := [t for t in table.get(key, ()) if allowed is None or t in allowed]:
                return tier, at, width, types
    return None


def read_query(query: str, allowed: Sequence[str] | None = None) -> _Reading:
    """Split a query into search terms and the types it names (restricted to `allowed` when given)."""
    words = [w.strip(_WORD_EDGES).lower() for w in query.split()]
    words = [w for w in words if w]
    found: list[tuple[int, int, int, list[str]]] = []  # (tier, first word, word count, types)
    index = 0
    while index < len(words):
        match = _type_word(words, index, allowed)
        found.extend([match] if match else [])
        index += match[2] if match else 1
    strongest = min((f[0] for f in found), default=None)
    taken: set[int] = set()
    named: list[str] = []
    for tier, first, width, types in found:
        if tier == strongest:
            taken.update(range(first, first + width))
            named.extend(t for t in types if t not in named)
    terms = [w for i, w in enumerate(words) if i not in taken and w not in _STOPWORDS]
    return _Reading(terms=list(dict.fromkeys(terms)), named_types=named)


def _tokens(text: str) -> list[str]:
    split = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)  # camelCase identifiers read as words
    return re.findall(r"[a-z0-9]+", split.lower())


def _coverage(query_tokens: Sequence[str], text: str) -> float:
    """Share of query tokens found in `text`: whole for a word or word prefix, half for a mere substring."""
    tokens = _tokens(text)
    joined = "".join(tokens)
    found = (1.0 if any(t.startswith(q) for t in tokens) else 0.5 if q in joined else 0.0 for q in query_tokens)
    return sum(found) / len(query_tokens)


def _tag_text(tags: Any) -> str:
    if isinstance(tags, Mapping):
        return " ".join(f"{k} {v}" for k, v in tags.items())
    if isinstance(tags, list):
        return " ".join(_tag_text(t) if isinstance(t, Mapping) else str(t) for t in tags)
    return "" if tags is None else str(tags)


def score_item(
    terms: Sequence[str], identifier: str, name: str, description: str, tags: str
) -> tuple[float, list[str]]:
    """Relevance of one item to the terms, 0-1, and the fields that matched.

    Tiers (text compared lower-case with separators removed, so `payments deploy` equals `payments_deploy`):
    exact identifier 1.0; exact name 0.95; identifier prefix 0.70-0.85 and name prefix 0.65-0.80 (higher when
    the query covers more of it); token overlap in identifier or name 0.30-0.60 (by the share of terms found,
    a word prefix counting whole and a substring half); description or tags only 0.10-0.25.
    """
    query_tokens = [t for term in terms for t in _tokens(term)]
    if not query_tokens:
        return 0.0, []
    phrase = "".join(query_tokens)
    id_n, name_n = "".join(_tokens(identifier)), "".join(_tokens(name))
    texts = {"identifier": identifier, "name": name, "description": description, "tags": tags}
    covered = {field: _coverage(query_tokens, text) for field, text in texts.items()}
    matched = [field for field, share in covered.items() if share > 0]
    if id_n and id_n == phrase:
        score = 1.0
    elif name_n and name_n == phrase:
        score = 0.95
    elif id_n.startswith(phrase):
        score = 0.70 + 0.15 * len(phrase) / len(id_n)
    elif name_n.startswith(phrase):
        score = 0.65 + 0.15 * len(phrase) / len(name_n)
    elif (own := max(covered["identifier"], covered["name"])) > 0:
        score = 0.30 + 0.25 * own + 0.05 * max(covered.values())
    elif (other := max(covered["description"], covered["tags"])) > 0:
        score = 0.10 + 0.15 * other
    else:
        score = 0.0
    return round(min(score, 1.0), 3), matched


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, Mapping | list) else str(value)


def _link_scope(args: Mapping[str, Any], own: Mapping[str, Any]) -> Mapping[str, Any]:
    # An item from a parent scope (an account-level connector) says so with empty org/project fields.
    if "orgIdentifier" not in own and "projectIdentifier" not in own:
        return args
    return {**args, "org_id": own.get("orgIdentifier"), "project_id": own.get("projectIdentifier")}


def _hit(conn: Connection, target: Target, item: Mapping[str, Any], terms: Sequence[str], filtered: bool) -> SearchHit:
    resource = target.resource
    nest = resource.id_field.rpartition(".")[0]  # `service.identifier` → the item's fields sit under `service`
    inner = dig(item, nest) if nest else item
    own = inner if isinstance(inner, Mapping) else item
    identifier, name = _text(dig(item, resource.id_field)), _text(dig(item, resource.name_field))
    score, matched = score_item(terms, identifier, name, _text(own.get("description")), _tag_text(own.get("tags")))
    if filtered and score == 0 and terms:
        score = UPSTREAM_MATCH
    summary = compact_item(resource, item)
    for path in (resource.id_field, resource.name_field):
        summary.pop(path.rsplit(".", 1)[-1], None)
    for key, arg in (("orgIdentifier", "org_id"), ("projectIdentifier", "project_id")):
        if summary.get(key) == target.args.get(arg):
            summary.pop(key)  # the scope searched; repeating it on every hit costs tokens and says nothing
    return SearchHit(
        resource_type=resource.name,
        id=identifier or None,
        name=name or None,
        score=score,
        matched=matched,
        link=ui_link(conn.ui_base_url, conn.account_id, resource, _link_scope(target.args, own), item),
        summary=summary,
    )


@dataclass(frozen=True, slots=True)
class _Request:
    target: Target
    term: str | None

    def args(self) -> dict[str, Any]:
        wire = self.target.resource.operation("list").query_params.values()
        # Parent scopes too where the list can: the account's GitHub connector is one every project uses.
        parents = {"include_parent_scopes": True} if "include_parent_scopes" in wire else {}
        return {**self.target.args, **parents, **({"search_term": self.term} if self.term is not None else {})}


def _order(names: Sequence[str], named: Sequence[str]) -> list[str]:
    rank = {name: i for i, name in enumerate(_PRIORITY)}
    rest = sorted((n for n in names if n not in named), key=lambda n: rank.get(n, len(rank)))
    return [*(n for n in named if n in names), *rest]


def _searchable(resource: ResourceType) -> bool:
    return "search_term" in resource.operation("list").query_params.values()


def _why_not(resource: ResourceType, target: Target) -> str | None:
    if "list" not in resource.operations:
        return "cannot be listed"
    op = resource.operation("list")
    missing = [a for a in (*op.path_params.values(), *op.required) if target.args.get(a) in (None, "")]
    for scope, arg in ((Scope.PROJECT, "project_id"), (Scope.ORG, "org_id")):
        if resource.scopes == (scope,) and not target.args.get(arg):
            missing.append(arg)
    if missing:
        return f"needs {', '.join(sorted(set(missing)))} (pass a url of the parent, or list it with harness_list)"
    return None


def _plan(
    conn: Connection, names: Sequence[str], terms: Sequence[str], scope: Mapping[str, Any], url: str | None
) -> tuple[list[_Request], list[SkippedType]]:
    usable: list[Target] = []
    skipped: list[SkippedType] = []
    for name in names:
        resource = get_resource_type(name)
        if conn.enabled_types and resource.name not in conn.enabled_types:
            skipped.append(SkippedType(resource_type=name, reason="its toolset is disabled by HARNESS_TOOLSETS"))
            continue
        target = resolve_target(conn, resource_type=resource.name, url=url, explicit=scope)
        if (reason := _why_not(resource, target)) is not None:
            skipped.append(SkippedType(resource_type=name, reason=reason))
        elif len(usable) < MAX_REQUESTS:
            usable.append(target)
        else:
            reason = f"the {MAX_REQUESTS}-request budget went to likelier types; name this type to search it"
            skipped.append(SkippedType(resource_type=name, reason=reason))
    # Longer terms are usually more specific, so they get the first request of each type.
    upstream: list[str | None] = [*sorted(terms, key=lambda t: -len(t))] or [None]
    requests = [_Request(t, upstream[0] if _searchable(t.resource) else None) for t in usable]
    for term in upstream[1:]:
        for target in usable:
            if len(requests) < MAX_REQUESTS and _searchable(target.resource):
                requests.append(_Request(target, term))
    return requests, skipped


async def search(
    conn: Connection,
    query: str,
    *,
    resource_types: list[str] | None = None,
    org_id: str | None = None,
    project_id: str | None = None,
    url: str | None = None,
    max_per_type: int = 5,
) -> SearchResult:
    """Find items by keyword across resource types, best match first, in at most `MAX_REQUESTS` requests.

    Types come from `resource_types`, else from type words in the query, else the five most searched types.
    Each item is scored 0-1 by `score_item` (exact identifier > exact name > prefix > word overlap >
    description/tags); one that Harness's filter returned but no scored field explains gets 0.05.

    Raises:
        UsageError: an empty query, a bad max_per_type, or an unknown resource type.
        HarnessAuthError: the key was refused (other per-type failures are reported in skipped_types).
    """
    if not query.strip():
        raise UsageError("query must not be empty: give a name, identifier or keyword to look for")
    if not 1 <= max_per_type <= MAX_PER_TYPE:
        raise UsageError(f"max_per_type must be between 1 and {MAX_PER_TYPE}")
    explicit = [get_resource_type(n).name for n in resource_types] if resource_types else None
    reading = read_query(query, explicit)
    names = _order(explicit, reading.named_types) if explicit else reading.named_types or list(_DEFAULT_TYPES)
    if not explicit and not reading.named_types:  # defaults the operator disabled are not worth a skip note
        names = [n for n in names if not conn.enabled_types or n in conn.enabled_types]
    requests, skipped = _plan(conn, names, reading.terms, {"org_id": org_id, "project_id": project_id}, url)
    before = conn.client.requests_made
    pages: list[tuple[_Request, Page | None]] = [(r, None) for r in requests]
    errors: dict[str, HarnessError] = {}

    async def fetch(index: int, request: _Request) -> None:
        try:
            page = await conn.client.list_page(request.target.resource, request.args(), size=PAGE_SIZE)
            pages[index] = (request, page)
        except HarnessError as exc:  # caught here: a task group would wrap it in an ExceptionGroup
            errors[request.target.resource.name] = exc

    async with anyio.create_task_group() as group:
        for index, request in enumerate(requests):
            group.start_soon(fetch, index, request)
    if auth := next((e for e in errors.values() if isinstance(e, HarnessAuthError)), None):
        raise auth  # a refused key fails every type; saying so beats an empty result
    searched = list(dict.fromkeys(r.target.resource.name for r, page in pages if page is not None))
    skipped.extend(
        SkippedType(resource_type=n, reason=f"Harness failed: {e}") for n, e in errors.items() if n not in searched
    )
    hits, total = _rank(conn, pages, reading.terms, max_per_type)
    return SearchResult(
        query=query,
        terms=reading.terms,
        searched_types=searched,
        requests_made=conn.client.requests_made - before,
        hits=hits,
        total_hits=total,
        skipped_types=skipped or None,
        hint=None if reading.terms else _BROWSE_HINT,
    )


def _rank(
    conn: Connection, pages: Sequence[tuple[_Request, Page | None]], terms: Sequence[str], max_per_type: int
) -> tuple[list[SearchHit], int]:
    per_type: dict[str, dict[str, SearchHit]] = {}
    order: dict[str, int] = {}
    for request, page in pages:
        if page is None:
            continue
        name = request.target.resource.name
        order.setdefault(name, len(order))
        seen = per_type.setdefault(name, {})
        for position, item in enumerate(page.items):
            if not isinstance(item, Mapping):
                continue
            hit = _hit(conn, request.target, item, terms, filtered=request.term is not None)
            if terms and hit.score == 0:
                continue  # an unfiltered page lists everything; only local matches count
            seen.setdefault(hit.id or f"#{request.term}:{position}", hit)
    kept: list[SearchHit] = []
    total = 0
    for hits in per_type.values():
        total += len(hits)
        # Stable sort: in browse mode (no terms) every score is 0 and Harness's order is kept.
        kept.extend(sorted(hits.values(), key=lambda h: -h.score)[:max_per_type])
    kept.sort(key=lambda h: (-h.score, order[h.resource_type], len(h.name or ""), h.name or ""))
    return kept, total
