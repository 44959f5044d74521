"""The MCP interface: thin tool adapters over the services."""

from harness_connector.mcp_server.server import build_server

__all__ = ["build_server"]
