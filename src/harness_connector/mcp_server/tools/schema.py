"""harness_schema: Harness's YAML schemas — an outline, a section by path, examples, or validation of a body."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from mcp.server import MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from harness_connector.mcp_server.errors import mapped_errors
from harness_connector.mcp_server.output import respond
from harness_connector.services.schemas import (
    SchemaInfo,
    SchemaSection,
    ValidationReport,
    list_schemas,
    schema_examples,
    schema_section,
    validate_yaml,
)

__all__ = ["SchemaAnswer", "register"]


class SchemaAnswer(BaseModel):
    """One of: the schema list, a section, examples, or a validation report."""

    model_config = ConfigDict(extra="forbid")

    schemas: list[SchemaInfo] | None = None
    section: SchemaSection | None = None
    examples: list[str] | None = None
    validation: ValidationReport | None = None


def register(server: MCPServer[Any]) -> None:
    """Add harness_schema to the server."""

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    @mapped_errors
    async def harness_schema(
        resource_type: Annotated[
            str | None,
            Field(description="pipeline, template, trigger, pipeline_v1, ...; omit to list the schemas."),
        ] = None,
        path: Annotated[str | None, Field(description="Sub-schema: 'pipeline.stages' or a definition name.")] = None,
        example: Annotated[bool, Field(description="Return example YAML documents.")] = False,
        validate: Annotated[str | None, Field(description="A YAML body to check; errors carry line numbers.")] = None,
    ) -> Annotated[CallToolResult, SchemaAnswer]:
        """Harness YAML schemas: outline or sub-schema by path, examples, or validate a YAML body (no API call)."""
        if resource_type is None:
            return respond(SchemaAnswer(schemas=list_schemas()))
        name = resource_type
        # The pipeline schema is megabytes: parse it off the event loop.
        if validate is not None:
            report = await anyio.to_thread.run_sync(lambda: validate_yaml(name, validate))
            return respond(SchemaAnswer(validation=report))
        if example:
            return respond(SchemaAnswer(examples=schema_examples(name)))
        section = await anyio.to_thread.run_sync(lambda: schema_section(name, path))
        return respond(SchemaAnswer(section=section))
