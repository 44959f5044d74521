"""`harness-connector describe`: the resource types the connector knows, from the local registry."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harness_connector.errors import UsageError
from harness_connector.harness.registry import ResourceType, get_resource_type, resource_types, toolsets


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command(name="describe")(describe)


def describe(
    resource_type: Annotated[str | None, typer.Argument(help="One resource type to show in full.")] = None,
    toolset: Annotated[str | None, typer.Option(help="Only types of this toolset.")] = None,
    search: Annotated[str | None, typer.Option(help="Only types whose name or description contains this.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List resource types with their operations and risk, or show one type in full. No API call is made."""
    console = Console()
    try:
        if resource_type:
            _show_one(console, get_resource_type(resource_type), as_json=as_json)
            return
        if toolset and toolset not in toolsets():
            raise UsageError(f"unknown toolset '{toolset}'; toolsets: {', '.join(toolsets())}")
    except UsageError as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    types = resource_types(toolset)
    if search:
        needle = search.lower()
        types = [t for t in types if needle in t.name.lower() or needle in t.description.lower()]
    if as_json:
        print(json.dumps([_summary(t) for t in types], indent=2))
        return
    table = Table(title=f"{len(types)} resource types")
    for column in ("type", "toolset", "scope", "operations", "description"):
        table.add_column(column)
    for item in types:
        ops = ", ".join(f"{name}({op.policy.risk.value})" for name, op in item.operations.items())
        table.add_row(item.name, item.toolset, item.scope.value, ops, item.description)
    console.print(table)


def _summary(item: ResourceType) -> dict[str, object]:
    return {
        "type": item.name,
        "toolset": item.toolset,
        "scope": item.scope.value,
        "operations": {name: op.policy.risk.value for name, op in item.operations.items()},
        "description": item.description,
    }


def _show_one(console: Console, item: ResourceType, *, as_json: bool) -> None:
    detail: dict[str, object] = {
        **_summary(item),
        "scopes": [s.value for s in item.scopes],
        "identifier_fields": list(item.identifier_fields),
        "operations": {
            name: {
                "method": op.method,
                "path": op.path,
                "risk": op.policy.risk.value,
                "retry": op.policy.retry.value,
                "description": op.description,
            }
            for name, op in item.operations.items()
        },
        "filters": {f.name: f.description for f in item.filters},
        "fields": list(item.fields),
        "example": dict(item.example),
    }
    if as_json:
        print(json.dumps(detail, indent=2))
        return
    console.print_json(json.dumps(detail))
