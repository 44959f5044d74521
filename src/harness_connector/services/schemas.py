"""Harness's YAML schemas, served in readable parts, with examples and line-numbered validation.

This is the service behind the `harness_schema` tool. The official server sends a whole schema or a path into it
and cannot check a document; here every answer is small and a YAML text can be checked before it is sent:

- `list_schemas()`: the eleven schemas, with their origin (Harness's published file, or written by this project).
- `schema_section(name, path)`: the outline (no path), or one part by property path, definition name or pointer.
- `schema_examples(name)`: realistic YAML documents that pass the schema.
- `validate_yaml(name, text)`: every problem with its line, column, path, message and a hint.

Schemas are read lazily, once per process. Unknown names raise `UsageError` naming the near matches first.
"""

from __future__ import annotations

from harness_connector.services.schemas_catalog import ENTRIES, entry, example_texts, file_size, read_text
from harness_connector.services.schemas_models import SchemaInfo, SchemaSection, ValidationIssue, ValidationReport
from harness_connector.services.schemas_sections import DEFAULT_MAX_BYTES, section
from harness_connector.services.schemas_validation import validate_text

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SchemaInfo",
    "SchemaSection",
    "ValidationIssue",
    "ValidationReport",
    "list_schemas",
    "schema_examples",
    "schema_names",
    "schema_section",
    "schema_text",
    "validate_yaml",
]


def schema_names() -> list[str]:
    """The valid schema names, in catalogue order."""
    return [e.name for e in ENTRIES]


def list_schemas() -> list[SchemaInfo]:
    """Every schema served, with its size and source; no schema is parsed to answer."""
    return [
        SchemaInfo(
            name=e.name,
            title=e.title,
            description=e.description,
            yaml_version=e.yaml_version,
            origin=e.origin,
            source=e.source,
            file=e.file,
            size_bytes=file_size(e.file),
            draft=e.draft,
            examples=len(example_texts(e.name)),
        )
        for e in ENTRIES
    ]


def schema_section(name: str, path: str | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> SchemaSection:
    """The outline of schema `name` when `path` is empty, else the part at `path`, within `max_bytes` of JSON.

    `path` may be a property path (`pipeline.stages`), a pointer (`#/definitions/pipeline/stages/stages` or
    `definitions/pipeline/steps/custom/ShellScriptStepInfo`), or a definition name (`ShellScriptStepInfo`).
    """
    return section(name, path, max_bytes=max_bytes)


def schema_text(name: str) -> str:
    """The schema file itself, as bundled (for clients that load whole schemas as resources)."""
    return read_text(entry(name).file)


def schema_examples(name: str) -> list[str]:
    """Realistic YAML documents, written for this project, that pass schema `name`."""
    return example_texts(entry(name).name)


def validate_yaml(name: str, yaml_text: str, *, max_errors: int = 50) -> ValidationReport:
    """Check `yaml_text` against schema `name`; a syntax error is reported with its line like any other problem."""
    return validate_text(name, yaml_text, max_errors=max_errors)
