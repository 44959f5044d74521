"""The result models of the schema service: what `harness_schema` returns and the CLI prints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SchemaInfo", "SchemaSection", "ValidationIssue", "ValidationReport"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SchemaInfo(_Frozen):
    """One schema the connector serves, with where it comes from."""

    name: str = Field(description="The name to pass back: pipeline, template, pipeline_v1, agent-pipeline, ...")
    title: str
    description: str
    yaml_version: Literal["v0", "v1"] = Field(description="v0: Harness NG YAML; v1: Harness 3.0 simplified YAML.")
    origin: Literal["harness", "project"] = Field(
        description="harness: Harness's published schema, bundled unchanged; project: written by this project."
    )
    source: str = Field(description="Where the file comes from, in words.")
    file: str = Field(description="Path of the bundled file under harness_connector/schemas/.")
    size_bytes: int
    draft: str = Field(description="The JSON Schema draft the file is validated with.")
    examples: int = Field(description="How many YAML examples `schema_examples` returns.")


class SchemaSection(_Frozen):
    """A part of a schema small enough to read: the outline, or one definition or property."""

    name: str
    requested_path: str | None = Field(description="The path as asked; None for the outline.")
    kind: Literal["outline", "definition", "property"]
    pointer: str = Field(description="Where the section sits in the schema file, as a JSON pointer ('#' = root).")
    content: dict[str, Any] = Field(description="The sub-schema (or the outline), refs inlined one level deep.")
    size_bytes: int = Field(description="Size of `content` as compact JSON.")
    truncated: bool = Field(description="True when deep parts were summarised to stay under the size cap.")
    refs_inlined: int = Field(description="How many $refs were replaced by their target.")
    refs: list[str] = Field(description="Definitions referenced but not inlined: ask for one by name to read it.")
    other_matches: list[str] = Field(description="Other pointers that matched the path, for a name search.")
    hint: str


class ValidationIssue(_Frozen):
    """One problem in a YAML document, located in the text."""

    line: int | None = Field(description="1-based line in the YAML text (None when the text has no such place).")
    column: int | None = Field(description="1-based column.")
    path: str = Field(description="Where in the document, e.g. pipeline.stages[0].stage.identifier ('' = root).")
    message: str
    hint: str | None = None
    rule: str = Field(description="The failing rule: required, enum, type, pattern, ..., or yaml-syntax.")


class ValidationReport(_Frozen):
    """The outcome of checking a YAML document against one schema."""

    name: str = Field(description="The schema checked against.")
    valid: bool
    error_count: int = Field(description="Problems found (after grouping alternatives), including any not shown.")
    errors: list[ValidationIssue]
    truncated: bool = Field(description="True when more problems were found than are listed.")
    lines: int = Field(description="Lines in the YAML text.")
    draft: str
    hint: str | None = None
