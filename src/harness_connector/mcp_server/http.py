"""The streamable HTTP transport: `/mcp` behind Host/Origin checks and, off loopback, a bearer token; `/health`.

A server bound beyond loopback is reachable by anything on the network, so it refuses to start without a token;
on loopback, DNS-rebinding protection (Host and Origin allow-lists) keeps web pages from driving it.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from harness_connector import __version__
from harness_connector.errors import ConfigError

__all__ = ["BearerGuard", "build_http_app", "is_loopback_host"]


def is_loopback_host(host: str) -> bool:
    """Whether binding to `host` keeps the server on this machine."""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BearerGuard:
    """Requires `Authorization: Bearer <token>` on every path but `/health`."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") != "/health":
            headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
            supplied = headers.get("authorization", "")
            scheme, _, value = supplied.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), self._token):
                response = JSONResponse(
                    {"error": "unauthorized", "message": "send Authorization: Bearer <HARNESS_MCP_AUTH_TOKEN>"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def build_http_app(
    server: MCPServer[Any],
    *,
    host: str,
    port: int,
    auth_token: str | None,
    allowed_hosts: list[str] | None = None,
) -> ASGIApp:
    """The ASGI app serving `server` over streamable HTTP.

    Raises:
        ConfigError: a non-loopback bind without a token.
    """
    if not is_loopback_host(host) and not auth_token:
        raise ConfigError(
            f"binding to {host} exposes the server beyond this machine; set HARNESS_MCP_AUTH_TOKEN to a long random "
            "value (clients send it as a bearer token), or bind to 127.0.0.1"
        )

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})

    server.custom_route("/health", methods=["GET"])(health)
    names = ["127.0.0.1", "localhost", "[::1]", *([host] if host not in ("0.0.0.0", "::") else [])]
    hosts = [f"{name}:{port}" for name in names] + names + list(allowed_hosts or [])
    origins = [f"http://{name}:{port}" for name in names] + [f"https://{h}" for h in allowed_hosts or []]
    security = TransportSecuritySettings(allowed_hosts=hosts, allowed_origins=origins)
    app: ASGIApp = server.streamable_http_app(transport_security=security, host=host)
    return BearerGuard(app, auth_token) if auth_token else app
