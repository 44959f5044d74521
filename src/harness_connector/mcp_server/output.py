"""Tool results: structured content for the application, the same data as minified JSON text for the model."""

from __future__ import annotations

import json

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

__all__ = ["respond"]


def respond(model: BaseModel) -> CallToolResult:
    """A result whose text is compact JSON (tokens are paid for) and whose structured content is the model."""
    data = model.model_dump(mode="json", exclude_none=True)
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)
