"""The resource registry: every Harness resource type the generic tools can reach, as data.

Each toolset module (`pipelines`, `executions`, `connectors`, ...) declares `TOOLSET` and a tuple of
`RESOURCE_TYPES`; this package indexes them once, at import, and refuses two types with one name. Look a type up
with `get_resource_type`, then ask it for an operation and `prepare` the request:

```python
op = get_resource_type("pipeline").operation("list")
request = op.prepare({"org_id": "default", "project_id": "payments"}, scope=Scope.PROJECT)
```

Argument names are the official Harness MCP server's snake_case ones (`org_id`, `pipeline_id`, `execution_id`);
`page` and `size` page every list, translated by the client to the wire names of the operation's `PagingStyle`.
A type's `ui_path` extends `/ng/account/{account_id}/all/orgs/{org_id}/projects/{project_id}/`; for account-level
types the link composer drops the empty org and project segments.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from harness_connector.errors import UsageError
from harness_connector.harness.registry import (
    code,
    connectors,
    delegates,
    environments,
    executions,
    feature_flags,
    freeze,
    pipelines,
    platform,
    secrets,
    services,
    templates,
)
from harness_connector.harness.registry.model import (
    NG_SCOPE,
    PATH_SCOPE,
    READ_SAFE,
    BodyKind,
    Envelope,
    FieldSpec,
    Operation,
    OperationPolicy,
    PagingStyle,
    PreparedRequest,
    ResourceType,
    RetryPolicy,
    Risk,
    Scope,
    ScopeParams,
)

__all__ = [
    "NG_SCOPE",
    "PATH_SCOPE",
    "READ_SAFE",
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
    "all_operations",
    "get_resource_type",
    "resource_types",
    "toolsets",
]

# Where the model is told to look when it names a type that does not exist.
_SEE_ALL = "harness_describe lists every resource type and its operations"

_TOOLSET_MODULES = (
    platform,
    pipelines,
    executions,
    templates,
    services,
    environments,
    connectors,
    secrets,
    delegates,
    feature_flags,
    freeze,
    code,
)


def _index(groups: Iterable[tuple[str, Iterable[ResourceType]]]) -> Mapping[str, ResourceType]:
    """Key types by name, in declaration order.

    Raises:
        ValueError: two types share a name, or a type claims a toolset other than its module's.
    """
    index: dict[str, ResourceType] = {}
    for toolset, types in groups:
        for resource_type in types:
            if resource_type.toolset != toolset:
                raise ValueError(
                    f"resource type '{resource_type.name}' says toolset '{resource_type.toolset}' "
                    f"but is declared in toolset '{toolset}'"
                )
            if (earlier := index.get(resource_type.name)) is not None:
                raise ValueError(
                    f"resource type '{resource_type.name}' is declared in both toolset "
                    f"'{earlier.toolset}' and toolset '{toolset}'"
                )
            index[resource_type.name] = resource_type
    return MappingProxyType(index)


_TYPES = _index((module.TOOLSET, module.RESOURCE_TYPES) for module in _TOOLSET_MODULES)
_TOOLSETS = tuple(module.TOOLSET for module in _TOOLSET_MODULES)


def get_resource_type(name: str) -> ResourceType:
    """The resource type called `name` (case, spaces and hyphens are forgiven: `Input-Set` finds `input_set`).

    Raises:
        UsageError: no such type; the message suggests the nearest names.
    """
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if (found := _TYPES.get(key)) is not None:
        return found
    nearest = difflib.get_close_matches(key, list(_TYPES), n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(repr(n) for n in nearest)}? " if nearest else ""
    raise UsageError(f"unknown resource type '{name}'; {hint}{_SEE_ALL}")


def resource_types(toolset: str | None = None) -> list[ResourceType]:
    """Every resource type, or those of one toolset, in declaration order.

    Raises:
        UsageError: `toolset` is not a known toolset; the message lists them.
    """
    if toolset is None:
        return list(_TYPES.values())
    if toolset not in _TOOLSETS:
        raise UsageError(f"unknown toolset '{toolset}'; toolsets are: {', '.join(_TOOLSETS)}")
    return [t for t in _TYPES.values() if t.toolset == toolset]


def toolsets() -> list[str]:
    """The toolset names, in declaration order."""
    return list(_TOOLSETS)


def all_operations() -> list[tuple[ResourceType, Operation]]:
    """Every (type, operation) pair, for contract tests and for building tool descriptions."""
    return [(t, op) for t in _TYPES.values() for op in t.operations.values()]
