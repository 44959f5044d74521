"""Route modules, one per toolset; each exposes `routes(ctx) -> list[BaseRoute]`."""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import BaseRoute

from harness_connector.sandbox.routes import resources

__all__ = ["ALL"]

ALL: list[Callable[..., list[BaseRoute]]] = [resources.routes]
