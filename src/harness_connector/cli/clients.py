"""The configuration snippets to paste into MCP clients to reach this server."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

__all__ = ["client_configuration"]


def _executable() -> str:
    found = shutil.which("harness-connector")
    if found:
        return str(Path(found).resolve())
    return str(Path(sys.executable).with_name("harness-connector"))


def client_configuration(url: str, *, token: str | None) -> str:
    """Claude Desktop (stdio), Cursor and Claude Code (HTTP) configuration for this server."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    desktop = {"mcpServers": {"harness": {"command": _executable(), "args": ["serve"]}}}
    cursor: dict[str, object] = {"url": url, **({"headers": headers} if headers else {})}
    claude_code = f"claude mcp add --transport http harness {url}"
    if token:
        claude_code += f' --header "Authorization: Bearer {token}"'
    return "\n".join(
        [
            f"MCP endpoint: {url}",
            "",
            "Claude Desktop (claude_desktop_config.json; starts its own stdio server):",
            json.dumps(desktop, indent=2),
            "",
            "Cursor (~/.cursor/mcp.json or .cursor/mcp.json):",
            json.dumps({"mcpServers": {"harness": cursor}}, indent=2),
            "",
            "Claude Code:",
            f"  {claude_code}",
        ]
    )
