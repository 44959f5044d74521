"""Route modules, one per toolset; each exposes `routes(ctx) -> list[BaseRoute]`.

Modules that keep resources also declare `KINDS`, the `KindSpec`s `sandbox.resources` validates with.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import BaseRoute

from harness_connector.sandbox.resources import KindSpec
from harness_connector.sandbox.routes import (
    code,
    connectors,
    delegate_agent,
    delegates,
    environments,
    executions,
    feature_flags,
    freeze,
    input_sets,
    logs,
    pipelines,
    pipelines_v1,
    platform,
    secrets,
    services,
    templates,
    ti,
    triggers,
)

__all__ = ["ALL", "KINDS"]

# services before environments: its /environmentsV2/serviceOverrides must match before /environmentsV2/{id}.
_RESOURCE_MODULES = (
    platform,
    pipelines,
    input_sets,
    triggers,
    templates,
    services,
    environments,
    connectors,
    secrets,
    delegates,
    feature_flags,
    freeze,
    code,
)

# Executions first: GET /pipeline/api/pipelines/getExecutionNode must match before /pipelines/{pipeline}.
ALL: list[Callable[..., list[BaseRoute]]] = [
    executions.routes,
    logs.routes,
    ti.routes,
    *(m.routes for m in _RESOURCE_MODULES),
    pipelines_v1.routes,
    delegate_agent.routes,
]
KINDS: tuple[KindSpec, ...] = tuple(spec for m in _RESOURCE_MODULES for spec in m.KINDS)
