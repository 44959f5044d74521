"""What the server's lifespan holds, and how a tool reaches it."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from mcp.server.mcpserver import Context

from harness_connector.services.connection import Connection

__all__ = ["AppContext", "ConnectionFactory", "app_context", "epoch_ms"]

ConnectionFactory = Callable[[], AbstractAsyncContextManager[Connection]]


def epoch_ms() -> int:
    """Now, in epoch milliseconds (the edge's clock; services receive it as a value)."""
    return int(time.time() * 1000)


@dataclass
class AppContext:
    """One connection to Harness (or the sandbox) for the server's whole life, and the clock."""

    conn: Connection
    now_ms: Callable[[], int] = field(default=epoch_ms)


def app_context(ctx: Context[Any, Any]) -> AppContext:
    """The lifespan's `AppContext` from a tool's or resolver's context."""
    found = ctx.request_context.lifespan_context
    if not isinstance(found, AppContext):
        raise RuntimeError("the server was started without its lifespan")
    return found
