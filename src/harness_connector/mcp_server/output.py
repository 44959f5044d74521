"""Tool results: structured content for the application, the same data as minified JSON text for the model."""

from __future__ import annotations

import json
from typing import Any

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, ValidationError

__all__ = ["respond"]


def _data(model: BaseModel) -> dict[str, Any]:
    # Nulls are noise for a model reading the result; drop them unless the schema requires the key.
    lean = model.model_dump(mode="json", exclude_none=True)
    try:
        type(model).model_validate(lean)
    except ValidationError:
        return model.model_dump(mode="json")
    return lean


def respond(model: BaseModel) -> CallToolResult:
    """A result whose text is compact JSON (tokens are paid for) and whose structured content is the model."""
    data = _data(model)
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)
