"""`harness-connector serve`: the MCP server over stdio (default) or streamable HTTP."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
import uvicorn

from harness_connector.cli.clients import client_configuration
from harness_connector.cli.session import open_session, say
from harness_connector.config import Settings
from harness_connector.errors import ConfigError
from harness_connector.mcp_server import build_server
from harness_connector.mcp_server.http import build_http_app


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command(name="serve")(serve)


def serve(
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP instead of stdio.")] = False,
    host: Annotated[str, typer.Option(help="Address to bind with --http (a non-loopback bind needs a token).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port with --http.")] = 8000,
    sync_interval: Annotated[
        float | None, typer.Option(help="Keep the history store fresh: sync the default project every N seconds.")
    ] = None,
) -> None:
    """Run the MCP server. Without HARNESS_API_KEY it runs on the embedded sandbox."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings()
        session = open_session(settings)
        server = build_server(session.open_connection, now_ms=session.now_ms, sync_interval_s=sync_interval)
        say(session.banner)
        if not http:
            server.run()
            return
        token = settings.mcp_auth_token.get_secret_value() if settings.mcp_auth_token else None
        extra_hosts = [h.strip() for h in settings.mcp_allowed_hosts.split(",") if h.strip()]
        asgi = build_http_app(server, host=host, port=port, auth_token=token, allowed_hosts=extra_hosts)
    except ConfigError as exc:
        say(f"error: {exc}")
        raise typer.Exit(2) from exc
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    say(client_configuration(f"http://{shown_host}:{port}/mcp", token=token))
    say("press Ctrl+C to stop")
    uvicorn.run(asgi, host=host, port=port, log_level="warning")
