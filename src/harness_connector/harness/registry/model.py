"""The shape of a resource type: what it is, where it lives, and how each operation reaches Harness.

Resource types are data. A generic tool finds a type by name, picks an operation, and `Operation.prepare`
turns the caller's arguments into a `PreparedRequest` that the client sends. Each operation declares an
`OperationPolicy`: its risk gates confirmations, and its retry policy is what the client obeys, because a
retried create or run can do the thing twice.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from harness_connector.errors import UsageError

__all__ = [
    "BodyKind",
    "Envelope",
    "FieldSpec",
    "Operation",
    "OperationPolicy",
    "PagingStyle",
    "PreparedRequest",
    "ResourceType",
    "RetryPolicy",
    "Risk",
    "Scope",
    "ScopeParams",
]


class Risk(StrEnum):
    """How much harm an operation can do, in increasing order."""

    READ = "read"
    LOW_WRITE = "low_write"
    MEDIUM_WRITE = "medium_write"
    HIGH_WRITE = "high_write"
    DESTRUCTIVE = "destructive"

    @property
    def rank(self) -> int:
        """Position in the order above, for comparisons such as `risk.rank >= Risk.MEDIUM_WRITE.rank`."""
        return list(Risk).index(self)


class RetryPolicy(StrEnum):
    """Whether the client may send an operation again after a 429, 5xx or timeout."""

    SAFE = "safe"
    # Retried only with an `Idempotency-Key` header so the server can drop the duplicate.
    IDEMPOTENCY_KEY_REQUIRED = "idempotency_key_required"
    DO_NOT_RETRY = "do_not_retry"


@dataclass(frozen=True, slots=True)
class OperationPolicy:
    """Risk and retry policy; every operation must declare one."""

    risk: Risk
    retry: RetryPolicy


READ_SAFE = OperationPolicy(Risk.READ, RetryPolicy.SAFE)


class Scope(StrEnum):
    """The level a resource lives at."""

    ACCOUNT = "account"
    ORG = "org"
    PROJECT = "project"


class BodyKind(StrEnum):
    """How an operation's body is encoded."""

    NONE = "none"
    JSON = "json"
    YAML = "yaml"


class Envelope(StrEnum):
    """Where the payload sits in Harness's response."""

    DATA = "data"  # ResponseDTO: {status, data, metaData, correlationId}
    RESOURCE = "resource"  # RestResponse: {metaData, resource, responseMessages}
    BARE = "bare"  # CF admin, v1, log-service, ti-service: the payload itself


class PagingStyle(StrEnum):
    """The paging dialect of a list endpoint."""

    NG_PAGE = "ng_page"  # pageIndex/pageSize; data.{content, totalItems, totalPages, pageIndex}
    SPRING_PAGE = "spring_page"  # page/size; data.{content, totalElements, totalPages, number}
    V1_ARRAY = "v1_array"  # page/limit; a bare array, totals in X-Total-Elements
    CODE_PAGE = "code_page"  # Harness Code: 1-based page/limit; a bare array, totals in x-total / x-total-pages
    CF_PAGE = "cf_page"  # pageNumber/pageSize; {itemCount, pageCount, pageIndex, <items key>}
    TI_PAGE = "ti_page"  # pageIndex/pageSize; {data: {totalItems, totalPages}, content}
    NONE = "none"  # the whole list in one answer


@dataclass(frozen=True, slots=True)
class ScopeParams:
    """Query-parameter names that carry org and project; `None` means the scope travels in the path."""

    org: str | None = "orgIdentifier"
    project: str | None = "projectIdentifier"


NG_SCOPE = ScopeParams()
PATH_SCOPE = ScopeParams(org=None, project=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldSpec:
    """A documented argument or result field: what describe shows and what filters accept."""

    name: str
    description: str
    type: str = "string"
    required: bool = False
    enum: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """What the client sends: method, path relative to the base URL, query, and an encoded body."""

    method: str
    path: str
    params: list[tuple[str, str]]
    json: Any = None
    content: str | None = None
    content_type: str | None = None
    retry: RetryPolicy = RetryPolicy.SAFE


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    """One way of acting on a resource type.

    `path` holds `{placeholders}`; `path_params` maps each placeholder to the argument that fills it
    (`org_id` and `project_id` fill `{org}` and `{project}` in v1 paths). `query_params` maps wire names to
    argument names. `static_query` and `static_body` are always sent (`filterType` bodies of list calls).
    `body_wrapper` nests a JSON body under one key (`{"connector": {...}}`).
    """

    name: str
    method: str
    path: str
    policy: OperationPolicy
    description: str
    path_params: Mapping[str, str] = field(default_factory=dict)
    query_params: Mapping[str, str] = field(default_factory=dict)
    static_query: Mapping[str, str] = field(default_factory=dict)
    scope_params: ScopeParams = NG_SCOPE
    body: BodyKind = BodyKind.NONE
    body_wrapper: str | None = None
    static_body: Mapping[str, Any] | None = None
    envelope: Envelope = Envelope.DATA
    paging: PagingStyle = PagingStyle.NONE
    items_key: str | None = None  # where the items are in non-standard list payloads (CF `features`)
    required: tuple[str, ...] = ()  # arguments that must be present besides path parameters

    def placeholders(self) -> list[str]:
        """The `{names}` in the path template, in order."""
        return _PLACEHOLDER.findall(self.path)

    def prepare(self, args: Mapping[str, Any], *, scope: Scope) -> PreparedRequest:
        """Build the request from arguments; account-level parameters are the client's job.

        Raises:
            UsageError: a path parameter or required argument is missing.
        """
        missing = [arg for arg in (*self.path_params.values(), *self.required) if _blank(args.get(arg))]
        if missing:
            raise UsageError(f"operation '{self.name}' needs {', '.join(sorted(set(missing)))}")
        path = self.path
        for placeholder, arg in self.path_params.items():
            path = path.replace("{" + placeholder + "}", _quote_segment(str(args[arg])))
        params = [(k, v) for k, v in self.static_query.items()]
        params.extend(_scope_query(self.scope_params, args, scope))
        for wire, arg in self.query_params.items():
            params.extend((wire, item) for item in _query_values(args.get(arg)))
        json_body, content, content_type = self._encode_body(args.get("body"))
        return PreparedRequest(
            method=self.method,
            path=path,
            params=params,
            json=json_body,
            content=content,
            content_type=content_type,
            retry=self.policy.retry,
        )

    def _encode_body(self, body: Any) -> tuple[Any, str | None, str | None]:
        if self.body is BodyKind.NONE:
            return None, None, None
        if self.body is BodyKind.YAML:
            # An empty YAML body is meaningful: pipeline execute ignores input sets when the body is absent.
            text = body if isinstance(body, str) else _to_yaml(body) if body is not None else ""
            return None, text, "application/yaml"
        payload: Any = body
        if self.static_body is not None:
            # Fixed fields win over the caller's: an `approve` must never become a reject through its body.
            payload = {**(body if isinstance(body, Mapping) else {}), **copy.deepcopy(dict(self.static_body))}
        if self.body_wrapper and isinstance(payload, Mapping) and self.body_wrapper not in payload:
            payload = {self.body_wrapper: payload}
        return (payload if payload is not None else {}), None, "application/json"


def _to_yaml(body: Any) -> str:
    import yaml  # imported here: only YAML bodies given as objects need it

    return str(yaml.safe_dump(body, sort_keys=False))


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _quote_segment(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _query_values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v) for v in value]  # repeated keys, as Harness expects for status filters
    return [str(value)]


def _scope_query(names: ScopeParams, args: Mapping[str, Any], scope: Scope) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if names.org and scope in (Scope.ORG, Scope.PROJECT) and not _blank(args.get("org_id")):
        out.append((names.org, str(args["org_id"])))
    if names.project and scope is Scope.PROJECT and not _blank(args.get("project_id")):
        out.append((names.project, str(args["project_id"])))
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceType:
    """A Harness resource type as data.

    `identifier_fields` lists the arguments that identify one item; the last is its own id and earlier ones are
    parent context (`pipeline_id` for an input set). `fields` is the whitelist kept in compact results, as
    dotted paths into an item (`path as name` names the kept field). `ui_path` is the deep-link template
    appended to the project's UI URL.
    """

    name: str
    display_name: str
    toolset: str
    description: str
    scope: Scope
    identifier_fields: tuple[str, ...]
    operations: Mapping[str, Operation]
    supported_scopes: tuple[Scope, ...] = ()
    fields: tuple[str, ...] = ()
    filters: tuple[FieldSpec, ...] = ()
    id_field: str = "identifier"  # where an item's own id sits in list results (dotted path)
    name_field: str = "name"
    ui_path: str | None = None
    # Arguments of `ui_path` read from an item (dotted paths), for rows whose parent ids live in the item itself:
    # an execution row names its pipeline in `pipelineIdentifier`. The own id always comes from `id_field`.
    link_fields: Mapping[str, str] = field(default_factory=dict)
    # Extra fields a single `get` keeps beyond `fields` (a pipeline's YAML); empty keeps the whole pruned item.
    detail_fields: tuple[str, ...] = ()
    example: Mapping[str, Any] = field(default_factory=dict)
    search_aliases: tuple[str, ...] = ()

    @property
    def scopes(self) -> tuple[Scope, ...]:
        """Scopes this type can be addressed at (its own scope when none are listed)."""
        return self.supported_scopes or (self.scope,)

    def operation(self, name: str) -> Operation:
        """The named operation.

        Raises:
            UsageError: the type does not support it; the message lists what it does support.
        """
        try:
            return self.operations[name]
        except KeyError:
            supported = ", ".join(sorted(self.operations))
            raise UsageError(
                f"resource type '{self.name}' has no operation '{name}'; it supports: {supported}"
            ) from None
