"""What the connector can do, from the registry alone (no API call): types, operations, fields, filters, risk."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness_connector.errors import UsageError
from harness_connector.harness.registry import ResourceType, get_resource_type, resource_types, toolsets
from harness_connector.services.local_types import LOCAL_TYPES, LocalType

__all__ = ["Description", "OperationInfo", "TypeDetail", "TypeSummary", "describe"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OperationInfo(_Model):
    """One operation of a type."""

    risk: str
    method: str | None = None
    path: str | None = None
    description: str | None = None
    retry: str | None = None


class TypeSummary(_Model):
    """A type in the compact listing."""

    type: str
    toolset: str
    description: str | None = Field(default=None, description="Given when the listing is filtered.")
    operations: str = Field(description="Operation names; writes carry their risk, e.g. 'delete:destructive'.")


class TypeDetail(_Model):
    """A type in full."""

    type: str
    toolset: str
    description: str
    scope: str
    scopes: list[str]
    identifier_fields: list[str]
    operations: dict[str, OperationInfo]
    filters: dict[str, str]
    fields: list[str]
    example: dict[str, Any]
    has_ui_page: bool


class Description(_Model):
    """The answer of harness_describe."""

    toolsets: list[str]
    types: list[TypeSummary] = Field(default_factory=list)
    detail: TypeDetail | None = None
    hint: str


def _summary(item: ResourceType, *, with_description: bool) -> TypeSummary:
    return TypeSummary(
        type=item.name,
        toolset=item.toolset,
        description=item.description if with_description else None,
        operations=" ".join(
            name if op.policy.risk.value == "read" else f"{name}:{op.policy.risk.value}"
            for name, op in item.operations.items()
        ),
    )


def _detail(item: ResourceType) -> TypeDetail:
    return TypeDetail(
        type=item.name,
        toolset=item.toolset,
        description=item.description,
        scope=item.scope.value,
        scopes=[s.value for s in item.scopes],
        identifier_fields=list(item.identifier_fields),
        operations={
            name: OperationInfo(
                risk=op.policy.risk.value,
                method=op.method,
                path=op.path,
                description=op.description,
                retry=op.policy.retry.value,
            )
            for name, op in item.operations.items()
        },
        filters={f.name: f.description + (f" ({', '.join(f.enum)})" if f.enum else "") for f in item.filters},
        fields=list(item.fields),
        example=dict(item.example),
        has_ui_page=item.ui_path is not None,
    )


def _local_operations(local: LocalType) -> dict[str, OperationInfo]:
    operations = {
        "list": OperationInfo(risk="read", description=local.list_description),
        "get": OperationInfo(risk="read", description=local.get_description),
    }
    operations.update(
        (name, OperationInfo(risk=action.risk.value, description=f"harness_execute: {action.description}"))
        for name, action in local.actions.items()
    )
    return operations


def _local_detail(local: LocalType) -> TypeDetail:
    return TypeDetail(
        type=local.name,
        toolset="history",
        description=local.description,
        scope="project",
        scopes=["project"],
        identifier_fields=[local.id_field],
        operations=_local_operations(local),
        filters=dict(local.filters),
        fields=[],
        example=dict(local.example),
        has_ui_page=False,
    )


def _local_summary(local: LocalType) -> TypeSummary:
    return TypeSummary(
        type=local.name,
        toolset="history",
        description=local.description,
        operations=" ".join(
            name if info.risk == "read" else f"{name}:{info.risk}" for name, info in _local_operations(local).items()
        ),
    )


def describe(
    *,
    resource_type: str | None = None,
    toolset: str | None = None,
    search_term: str | None = None,
    enabled: frozenset[str] | None = None,
) -> Description:
    """Describe one type in full, or list types (optionally by toolset or keyword) compactly.

    Raises:
        UsageError: the type or toolset is unknown.
    """
    known = toolsets()
    if resource_type in LOCAL_TYPES:
        detail = _local_detail(LOCAL_TYPES[resource_type])
        return Description(
            toolsets=[*known, "history"],
            detail=detail,
            hint="served from the history store: harness_list takes the filters, harness_get the "
            f"{detail.identifier_fields[0]}" + (", harness_execute the actions" if len(detail.operations) > 2 else ""),
        )
    if resource_type:
        detail = _detail(get_resource_type(resource_type))
        return Description(toolsets=known, detail=detail, hint="harness_list / harness_get take these arguments")
    if toolset and toolset not in known and toolset != "history":
        raise UsageError(f"unknown toolset '{toolset}'; toolsets: {', '.join(known)}")
    types = [t for t in resource_types(toolset) if enabled is None or not enabled or t.name in enabled]
    local = [] if toolset not in (None, "history") else list(LOCAL_TYPES.values())
    if search_term:
        needle = search_term.lower()
        types = [
            t
            for t in types
            if needle in t.name.lower() or needle in t.description.lower() or any(needle in a for a in t.search_aliases)
        ]
    return Description(
        toolsets=known,
        # The full listing stays small: names say enough to pick; a filter or one type gives the prose.
        types=[_summary(t, with_description=bool(toolset or search_term)) for t in types]
        + [
            _local_summary(lt)
            for lt in local
            if not search_term or search_term.lower() in lt.name or search_term.lower() in lt.description.lower()
        ],
        hint="pass resource_type for one type's operations, paths, filters, fields and an example; "
        "toolset or search_term lists types with their descriptions",
    )
