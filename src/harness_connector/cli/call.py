"""`harness-connector call TOOL [JSON]`: run one MCP tool in-process and print its result."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import anyio
import mcp.types as types
import typer
from mcp import Client
from rich.console import Console

from harness_connector.cli.session import open_session, say
from harness_connector.config import Settings
from harness_connector.errors import ConfigError
from harness_connector.mcp_server import build_server


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command(name="call")(call)


def call(
    tool: Annotated[str, typer.Argument(help="Tool name, e.g. harness_list.")],
    arguments: Annotated[str, typer.Argument(help="Arguments as a JSON object.")] = "{}",
    as_json: Annotated[bool, typer.Option("--json", help="Print the structured result as JSON (for scripts).")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Answer yes to confirmation questions.")] = False,
) -> None:
    """Call one tool of the MCP server in-process, as a client would, and print the result."""
    try:
        parsed = json.loads(arguments)
    except ValueError as exc:
        say(f"error: the arguments are not JSON: {exc}")
        raise typer.Exit(2) from exc
    if not isinstance(parsed, dict):
        say('error: the arguments must be a JSON object, e.g. \'{"resource_type": "pipeline"}\'')
        raise typer.Exit(2)
    try:
        session = open_session(Settings())
    except ConfigError as exc:
        say(f"error: {exc}")
        raise typer.Exit(2) from exc
    server = build_server(session.open_connection, now_ms=session.now_ms)

    async def confirm(context: Any, params: Any) -> types.ElicitResult:
        # The terminal is this client's way of asking the person.
        message = getattr(params, "message", "Confirm?")
        if yes:
            return types.ElicitResult(action="accept", content={"confirm": True})
        if not sys.stdin.isatty():
            say(f"{message}\n(declined: no terminal to ask on; pass --yes to agree)")
            return types.ElicitResult(action="decline")
        agreed = typer.confirm(message, default=False, err=True)
        return types.ElicitResult(action="accept", content={"confirm": agreed})

    async def run() -> types.CallToolResult:
        async with Client(server, elicitation_callback=confirm) as client:
            return await client.call_tool(tool, parsed)

    result = anyio.run(run)
    _print(result, as_json=as_json)
    if result.is_error:
        raise typer.Exit(1)


def _print(result: types.CallToolResult, *, as_json: bool) -> None:
    texts = [block.text for block in result.content if isinstance(block, types.TextContent)]
    if result.is_error:
        message = " ".join(texts) or "the tool failed"
        if as_json:
            print(json.dumps({"error": message}))
        else:
            Console(stderr=True).print(f"[red]error:[/] {message}", markup=True, highlight=False)
        return
    data: Any = result.structured_content
    if data is None:
        data = texts[0] if len(texts) == 1 else texts
    if as_json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        Console().print_json(json.dumps(data, ensure_ascii=False))
