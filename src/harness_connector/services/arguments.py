"""Turn a tool call's loose arguments into a resource type and the arguments its operations take.

Precedence, lowest first: the connection's default org and project, then what a Harness UI URL says, then the
`params`/`filters` maps, then explicit arguments. Models often send maps as JSON strings; those are parsed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness_connector.errors import UsageError
from harness_connector.harness.registry import ResourceType, Scope, get_resource_type
from harness_connector.harness.urls import parse_harness_url
from harness_connector.services.connection import Connection

__all__ = ["Target", "coerce_mapping", "resolve_target"]

# URL fields that describe the page, not arguments of an operation.
_URL_ONLY = frozenset({"account_id", "module", "resource_type", "resource_id", "resource_scope"})


@dataclass(frozen=True, slots=True)
class Target:
    """A resource type and the arguments for its operations, scope included."""

    resource: ResourceType
    args: dict[str, Any]

    @property
    def own_id(self) -> str | None:
        """The value of the type's own identifier argument, when known."""
        if not self.resource.identifier_fields:
            return None
        value = self.args.get(self.resource.identifier_fields[-1])
        return None if value in (None, "") else str(value)


def coerce_mapping(value: Any, name: str) -> dict[str, Any]:
    """A dict from a dict, a JSON-object string, or None.

    Raises:
        UsageError: the value is neither.
    """
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            raise UsageError(f"{name} must be an object or a JSON object string, got {value[:80]!r}") from None
        if isinstance(parsed, dict):
            return {str(k): v for k, v in parsed.items()}
    raise UsageError(f"{name} must be an object, got {type(value).__name__}")


def resolve_target(
    conn: Connection,
    *,
    resource_type: str | None,
    url: str | None = None,
    resource_id: str | int | None = None,
    explicit: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Target:
    """Decide the resource type and its arguments.

    Raises:
        UsageError: no type can be told, the type is unknown or disabled, or the URL is from another account.
        InvalidHarnessURL: the URL is not a Harness UI URL.
    """
    ref = parse_harness_url(url) if url else None
    name = resource_type or (ref.resource_type if ref else None)
    if not name:
        raise UsageError("say which resource_type (harness_describe lists them) or pass a Harness UI url")
    resource = get_resource_type(name)
    if conn.enabled_types and resource.name not in conn.enabled_types:
        raise UsageError(
            f"resource type '{resource.name}' is in toolset '{resource.toolset}', which HARNESS_TOOLSETS disables"
        )
    args: dict[str, Any] = {}
    if ref is not None:
        if ref.account_id and ref.account_id != conn.account_id:
            raise UsageError(
                f"the URL is from account {ref.account_id}, but this connector is connected to {conn.account_id}"
            )
        args.update({k: v for k, v in ref.present().items() if k not in _URL_ONLY})
        if ref.resource_id is not None and ref.resource_type == resource.name and resource.identifier_fields:
            args[resource.identifier_fields[-1]] = ref.resource_id
        if ref.resource_scope and Scope(ref.resource_scope) in resource.scopes:
            args["resource_scope"] = ref.resource_scope
    args.update({k: v for k, v in (extra or {}).items() if v is not None})
    args.update({k: v for k, v in (explicit or {}).items() if v is not None})
    if resource_id not in (None, "") and resource.identifier_fields:
        args[resource.identifier_fields[-1]] = resource_id
    _apply_scope_defaults(conn, resource, args)
    return Target(resource, args)


def _apply_scope_defaults(conn: Connection, resource: ResourceType, args: dict[str, Any]) -> None:
    requested = args.get("resource_scope")
    scope = Scope(requested) if requested in {s.value for s in Scope} else resource.scope
    if scope in (Scope.ORG, Scope.PROJECT) and not args.get("org_id") and conn.org:
        args["org_id"] = conn.org
    if scope is Scope.PROJECT and not args.get("project_id") and conn.project:
        args["project_id"] = conn.project
