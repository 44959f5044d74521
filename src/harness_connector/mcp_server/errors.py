"""Our errors as MCP tool errors, in one place: the model sees what went wrong and what to do next."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ToolError

from harness_connector.errors import (
    ConfigError,
    HarnessAuthError,
    HarnessConnectorError,
    HarnessError,
    HarnessNotFoundError,
    HarnessPermissionError,
    HarnessRateLimitedError,
    HarnessUnavailableError,
    StoreError,
    StoreLockedError,
)

__all__ = ["mapped_errors", "to_tool_error"]

P = ParamSpec("P")
R = TypeVar("R")

_NEXT_STEP: list[tuple[type[HarnessError], str]] = [
    (HarnessNotFoundError, "check the id and the org/project scope; harness_list shows what exists"),
    (HarnessAuthError, "the operator must fix HARNESS_API_KEY; retrying will not help"),
    (HarnessPermissionError, "the key lacks access here; ask for a role in this org/project or use another scope"),
    (HarnessRateLimitedError, "Harness is rate limiting; wait a minute before retrying"),
    (HarnessUnavailableError, "Harness is unreachable or failing; retry shortly"),
]


def to_tool_error(exc: HarnessConnectorError) -> ToolError:
    """The tool error for one of our exceptions."""
    text = str(exc)
    if isinstance(exc, HarnessError):
        for cls, advice in _NEXT_STEP:
            if isinstance(exc, cls):
                text = f"{text}. Next: {advice}"
                break
    elif isinstance(exc, StoreLockedError):
        text = f"{text}. Next: the history store is busy; answer without history or retry after the other process ends"
    elif isinstance(exc, StoreError):
        text = f"history store problem: {text}. Next: tools that do not need history still work"
    elif isinstance(exc, ConfigError):
        text = f"configuration problem: {text}"
    return ToolError(text)


def mapped_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Wrap a tool so our exceptions become tool errors with their message, not a generic crash."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except HarnessConnectorError as exc:
            raise to_tool_error(exc) from exc

    return wrapper
