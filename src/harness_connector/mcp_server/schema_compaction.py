"""Shrink the tool schemas a client loads into its model's context on every conversation.

pydantic's JSON schemas repeat a `title` per property, spell optional values as `anyOf [X, null]` with
`default: null`, and carry every field description of the output models. None of that changes what a valid
call or result is. We keep the input descriptions (they tell the model what to pass) and drop the rest.
"""

from __future__ import annotations

from typing import Any

from mcp.server import MCPServer

__all__ = ["compact_schema", "compact_tool_schemas"]

_NAMED_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})
# Keywords that constrain or annotate a result but tell a reader nothing the property list does not.
_OUTPUT_ONLY_NOISE = frozenset({"description", "default", "additionalProperties", "required"})


def _simple_type(member: Any) -> str | None:
    if isinstance(member, dict) and set(member) == {"type"} and isinstance(member["type"], str):
        return str(member["type"])
    return None


def compact_schema(schema: Any, *, for_output: bool) -> Any:
    """The same schema without titles, null defaults and redundant keywords.

    An output schema also loses descriptions, defaults, `required` and the ban on extra keys: every result the
    server sends still satisfies it, and the property list already says what a result holds.
    """
    if isinstance(schema, list):
        return [compact_schema(item, for_output=for_output) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" or (for_output and key in _OUTPUT_ONLY_NOISE):
            continue
        if key == "default" and value is None:
            continue
        if key == "additionalProperties" and value is True:
            continue  # the JSON-schema default
        if key in _NAMED_MAPS and isinstance(value, dict):
            out[key] = {name: compact_schema(sub, for_output=for_output) for name, sub in value.items()}
        else:
            out[key] = compact_schema(value, for_output=for_output)
    members = out.get("anyOf")
    if isinstance(members, list):
        kinds = [_simple_type(m) for m in members]
        if all(kinds):
            del out["anyOf"]
            out["type"] = kinds[0] if len(kinds) == 1 else kinds
    return out


def compact_tool_schemas(server: MCPServer[Any]) -> None:
    """Replace every registered tool's advertised schemas by their compact forms.

    Only what `tools/list` shows changes: arguments are still validated by the tool's argument model and results
    by its output model.
    """
    for tool in server._tool_manager.list_tools():
        tool.parameters = compact_schema(tool.parameters, for_output=False)
        output = tool.output_schema
        if output is not None:
            # `output_schema` is a cached property: seed the cache with the compact form.
            tool.__dict__["output_schema"] = compact_schema(output, for_output=True)
