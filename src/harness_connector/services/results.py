"""The result models every interface renders: MCP tools return them as structured output, the CLI prints them.

Each model is the tool's output schema, so every result satisfies it by construction.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ExecuteResult", "ItemDetail", "ItemList", "WriteResult"]


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemList(_Result):
    """One page of a list, compacted."""

    resource_type: str
    items: list[dict[str, Any]]
    page: int = Field(description="0-based page number.")
    size: int
    total: int | None = Field(default=None, description="Items in the whole list, when Harness says.")
    has_more: bool
    link: str | None = Field(default=None, description="The list's page in the Harness UI.")
    link_base: str | None = Field(
        default=None, description="Item links are relative to this URL (it is the project's page in the Harness UI)."
    )


class ItemDetail(_Result):
    """One item."""

    resource_type: str
    id: str | None = None
    item: dict[str, Any]
    link: str | None = None


class WriteResult(_Result):
    """What a create, update or delete did."""

    resource_type: str
    operation: str
    id: str | None = None
    result: dict[str, Any] | None = Field(default=None, description="Harness's answer, compacted.")
    link: str | None = None


class ExecuteResult(_Result):
    """What an action did; with `wait`, how the execution it started ended."""

    resource_type: str
    action: str
    id: str | None = None
    execution_id: str | None = None
    status: str | None = None
    terminal: bool | None = None
    timed_out: bool | None = None
    elapsed_s: float | None = None
    polls: int | None = None
    result: dict[str, Any] | None = None
    link: str | None = None
    hint: str | None = None
