"""`harness-connector url`: what a Harness UI URL points at, as the tools will read it."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harness_connector.errors import InvalidHarnessURL
from harness_connector.harness.urls import parse_harness_url


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command(name="url")(url)


def url(
    link: Annotated[str, typer.Argument(help="A Harness UI URL, e.g. copied from the browser.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Show the scope and identifiers in a Harness UI URL (no API call is made)."""
    try:
        ref = parse_harness_url(link)
    except InvalidHarnessURL as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    fields = ref.present()
    if as_json:
        print(json.dumps(fields, indent=2))
        return
    table = Table(show_header=False)
    for name, value in fields.items():
        table.add_row(name, str(value))
    Console().print(table)
