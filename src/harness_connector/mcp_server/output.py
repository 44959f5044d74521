"""Tool results: structured content for the application, the same data as minified JSON text for the model.

List results are written for the model as a table (`columns` once, then `rows` of values): a page of twenty rows
would otherwise repeat every key twenty times, and tokens are paid for. The structured content keeps one object
per item for applications.
"""

from __future__ import annotations

import json
from typing import Any

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, ValidationError

__all__ = ["as_table", "respond"]


def _data(model: BaseModel) -> dict[str, Any]:
    # Nulls are noise for a model reading the result; drop them unless the schema requires the key.
    lean = model.model_dump(mode="json", exclude_none=True)
    try:
        type(model).model_validate(lean)
    except ValidationError:
        return model.model_dump(mode="json")
    return lean


def as_table(data: dict[str, Any], key: str = "items") -> dict[str, Any]:
    """The same data with `data[key]` (a list of objects) turned into `columns` and `rows`."""
    items = data.get(key)
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        return data
    columns: list[str] = []
    for item in items:
        columns.extend(k for k in item if k not in columns)
    table = {k: v for k, v in data.items() if k != key}
    table["columns"] = columns
    table["rows"] = [[item.get(column) for column in columns] for item in items]
    return table


def respond(model: BaseModel, *, tabulate: str | None = None) -> CallToolResult:
    """A result whose text is compact JSON (optionally with one list as a table) and whose structured content
    is the model."""
    data = _data(model)
    shown = as_table(data, tabulate) if tabulate else data
    text = json.dumps(shown, separators=(",", ":"), ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)
